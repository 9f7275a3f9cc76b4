package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * A pool counts its progress (progressSeq) and whoever looks under its lock (the monitor's scan,
 * a dump) turns a change into lastProgressNanos, which must never be earlier than the progress
 * itself: the watchdog reports a lockup once now - lastProgressNanos passes its threshold, so an
 * early stamp reports a pool that progressed as stalled that much sooner.
 */
class ProgressObservationTest {
    private static final long BOUND_S = 20;

    /**
     * A dump read its clock once, before it visited the pools; a pool whose lock it waited for
     * (behind an earlier pool's lock) and that progressed meanwhile was stamped with that older
     * time. Deterministic: the dump is held on cpu pool 0's lock, the unbound pool progresses,
     * then the dump goes on.
     */
    @Test
    void aDumpStampsProgressNoEarlierThanItHappened() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        WqRuntime rt = new WqRuntime("progress", 2, ManualWorkers.neverStartedThreads(), Thread.currentThread().getThreadGroup(),
                Duration.ofSeconds(300).toNanos(), (wq, n, e) -> errors.add(e), Duration.ofMillis(10).toNanos(),
                Duration.ofSeconds(300).toNanos(), null, LockDependencyValidator.disabled(),
                org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 64);
        try {
            WorkqueueStruct wq = rt.newQueue(null, "pq", WorkqueueStruct.WQ_UNBOUND, 16, null);
            WorkNode item = new TestNode("pending", () -> { });
            assertThat(Pending.claim(item)).isTrue();
            wq.insertClaimed(-1, item); // on the unbound pool's worklist; no worker thread ever runs
            WorkerPool p = wq.pwqs[0].pool;
            WorkerPool first = rt.cpuPool(0, false);
            assertThat(first).isNotSameAs(p);
            first.lock.lock();
            Thread dumper;
            try {
                dumper = new Thread(() -> Dump.snapshot(rt), "dumper");
                dumper.start();
                Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> first.lock.hasQueuedThread(dumper));
                long progressedAt = System.nanoTime();
                p.lock.lock();
                try {
                    p.noteProgress(); // an item started (as Worker.processOne counts it)
                } finally {
                    p.lock.unlock();
                }
                first.lock.unlock();
                dumper.join(BOUND_S * 1000);
                assertThat(dumper.isAlive()).isFalse();
                p.lock.lock();
                try {
                    assertThat(p.lastProgressNanos).as("progress stamped no earlier than it happened")
                            .isGreaterThanOrEqualTo(progressedAt);
                } finally {
                    p.lock.unlock();
                }
            } finally {
                if (first.lock.isHeldByCurrentThread()) {
                    first.lock.unlock();
                }
            }
            assertThat(ManualWorkers.runOne(wq)).as("the pending item runs on this thread").isTrue();
            assertThat(errors).isEmpty();
        } finally {
            rt.close(Duration.ofSeconds(5));
        }
    }
}
