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
                Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> PoolLocks.waitsOn(first.lock, dumper));
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
    /**
     * The monitor's scan read its clock once, before the "monitor.scan" point and every pool
     * lock: an item that started after that read and before the scan took its pool's lock was
     * timed from before its start (Worker.runSeq: "short by at most one tick, never long"), so
     * it could be marked CPU-intensive early, and progress was stamped early as in a dump.
     * Deterministic: the scan is held at its first point, the next item starts, then it goes on.
     */
    @Test
    void theMonitorTimesAnItemNoEarlierThanItStarted() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        WqRuntime rt = new WqRuntime("progress-mon", 2, java.util.concurrent.Executors.defaultThreadFactory(),
                Thread.currentThread().getThreadGroup(), Duration.ofSeconds(300).toNanos(), (wq, n, e) -> errors.add(e),
                Duration.ofSeconds(100).toNanos(), Duration.ofSeconds(300).toNanos(), null,
                LockDependencyValidator.disabled(), org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 64);
        java.util.concurrent.atomic.AtomicBoolean hold = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch scanHeld = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch scanGo = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger scans = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch releaseA = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch releaseB = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch startedA = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch startedB = new java.util.concurrent.CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("monitor.scan") && subject == rt) {
                scans.incrementAndGet();
                if (hold.compareAndSet(true, false)) {
                    scanHeld.countDown();
                    await(scanGo);
                }
            }
        });
        try {
            WorkqueueStruct wq = rt.newQueue(null, "mq", WorkqueueStruct.WQ_UNBOUND, 16, null);
            WorkNode a = new TestNode("a", () -> {
                startedA.countDown();
                await(releaseA);
            });
            WorkNode b = new TestNode("b", () -> {
                startedB.countDown();
                await(releaseB);
            });
            assertThat(Pending.claim(a)).isTrue();
            wq.insertClaimed(-1, a);
            await(startedA); // the monitor is ticking: an item runs
            hold.set(true);
            await(scanHeld); // the held scan has read its clock
            long afterScanClock = System.nanoTime();
            assertThat(Pending.claim(b)).isTrue();
            wq.insertClaimed(-1, b);
            releaseA.countDown();
            await(startedB); // b started after the held scan's clock read
            int before = scans.get();
            scanGo.countDown();
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> scans.get() > before); // that scan ended
            WorkerPool p = wq.pwqs[0].pool;
            p.lock.lock();
            try {
                Worker runner = p.workers.stream().filter(w -> w.currentWork == b).findFirst().orElseThrow();
                assertThat(runner.seenRunSeq).as("the scan saw b").isEqualTo(runner.runSeq);
                assertThat(runner.runSeenNanos).as("b timed from no earlier than its start").isGreaterThanOrEqualTo(afterScanClock);
                assertThat(p.lastProgressNanos).as("b's start stamped no earlier than it happened")
                        .isGreaterThanOrEqualTo(afterScanClock);
            } finally {
                p.lock.unlock();
            }
        } finally {
            TestHooks.install(null);
            scanGo.countDown();
            releaseA.countDown();
            releaseB.countDown();
            rt.close(Duration.ofSeconds(BOUND_S));
        }
        assertThat(errors).isEmpty();
    }

    private static void await(java.util.concurrent.CountDownLatch l) {
        try {
            assertThat(l.await(BOUND_S, java.util.concurrent.TimeUnit.SECONDS)).as("latch within %ss", BOUND_S).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
