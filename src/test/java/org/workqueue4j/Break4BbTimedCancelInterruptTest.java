package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Work.cancelSync(Duration) that takes back a pending instance and then throws
 * InterruptedException while it waits for the running one.
 *
 * README, faults table: "A cancel/disable (any variant) or modDelayed has taken a pending
 * instance back and then throws before it can say so [...] The taken instance is reported to
 * the uncaught-work handler with what was thrown (an executor task's future fails), as a destroy
 * reports an armed item, and the call throws it; the item is idle and usable." SPEC 7: "every
 * successful queue leads to exactly one run (or a cancel that returned true)".
 */
@Timeout(60)
class Break4BbTimedCancelInterruptTest {
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5))
            .uncaughtWorkHandler((q, w, e) -> reports.add((w == null ? "null" : w.name()) + ": " + e)).build());

    @AfterEach
    void close() {
        rt.close();
    }

    @Test
    void anInterruptedTimedCancelSyncThatTookAPendingInstanceReportsIt() throws Exception {
        WorkQueue q = rt.queueBuilder("tc").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                try {
                    release.await(30, SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        assertTrue(q.queue(w));
        assertTrue(started.await(10, SECONDS));
        assertTrue(q.queue(w), "queueing a running item returns true: a second instance is pending");
        assertTrue(w.isPending());

        Thread.currentThread().interrupt();
        Throwable thrown = null;
        try {
            w.cancelSync(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            thrown = e;
        }
        assertNotNull(thrown, "cancelSync(Duration) with the status set and a running instance throws InterruptedException");
        assertFalse(w.isPending(), "the pending instance was taken back");
        assertEquals(0, w.disableDepth(), "enabled again");
        release.countDown();
        q.flush();
        // accepted instances: 2. Outcomes: run 1, the second was taken back by a call that threw.
        assertEquals(2, runs.get() + reports.size(),
                "the second accepted instance was taken back by a cancelSync(Duration) that threw InterruptedException: "
                        + "it must be reported to the uncaught-work handler (README faults table, 'any variant ... throws before it can say so'); "
                        + "runs=" + runs.get() + ", reports=" + reports);
    }

    /** The same, with the interrupt arriving while the caller waits (not set on entry). */
    @Test
    void aTimedCancelSyncInterruptedWhileWaitingReportsTheInstanceItTook() throws Exception {
        WorkQueue q = rt.queueBuilder("tc2").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work gate = new Work("gate", () -> {
            runs.incrementAndGet();
            started.countDown();
            try {
                release.await(30, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(q.queue(gate));
        assertTrue(started.await(10, SECONDS));
        assertTrue(q.queue(gate), "a second instance is pending behind the running one");
        Throwable[] thrown = new Throwable[1];
        CountDownLatch done = new CountDownLatch(1);
        Thread canceller = new Thread(() -> {
            try {
                gate.cancelSync(Duration.ofSeconds(30));
            } catch (Throwable e) {
                thrown[0] = e;
            }
            done.countDown();
        }, "canceller");
        canceller.start();
        long end = System.nanoTime() + SECONDS.toNanos(10);
        while (gate.isPending() || canceller.getState() != Thread.State.WAITING && canceller.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() < end, "canceller never blocked");
            Thread.onSpinWait();
        }
        canceller.interrupt();
        assertTrue(done.await(10, SECONDS));
        assertInstanceOf(InterruptedException.class, thrown[0]);
        release.countDown();
        q.flush();
        q.flush();
        assertEquals(2, runs.get() + reports.size(),
                "2 instances accepted; the pending one, taken back by a cancelSync(Duration) that then threw "
                        + "InterruptedException, was neither run nor reported: runs=" + runs.get() + ", reports=" + reports);
    }

    /**
     * SPEC 7: "every successful queue leads to exactly one run (or a cancel that returned true)".
     * A cancelSync(Duration) that takes a pending instance back and then times out on the running
     * one returns false ("the timeout elapsed while it still ran"): that instance ends in no run,
     * no true-returning cancel and no report.
     */
    @Test
    void aTimedOutCancelSyncThatTookAPendingInstanceNeitherSaysSoNorReportsIt() throws Exception {
        WorkQueue q = rt.queueBuilder("tc3").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work gate = new Work("gate", () -> {
            runs.incrementAndGet();
            started.countDown();
            try {
                release.await(30, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(q.queue(gate));
        assertTrue(started.await(10, SECONDS));
        assertTrue(q.queue(gate), "a second instance is pending behind the running one");
        boolean r = gate.cancelSync(Duration.ZERO);
        assertFalse(gate.isPending(), "the pending instance was taken back");
        release.countDown();
        q.flush();
        int saidCancelled = r ? 1 : 0;
        assertEquals(2, runs.get() + saidCancelled + reports.size(),
                "2 instances accepted; cancelSync(Duration.ZERO) took the pending one back and returned " + r
                        + " (timeout while the other ran): runs=" + runs.get() + ", reports=" + reports);
    }
}
