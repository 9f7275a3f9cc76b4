package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code close()} called from the uncaught-work handler on the thread running
 * {@code q.destroy()} (the handler told of q's armed delayed item, "on the thread calling
 * {@code destroy()}"), while q still has a running item and items queued behind it. That close()
 * finds q's destroy begun by its own thread: {@code destroyUntil} gets DESTROY_DONE (runner is
 * the current thread) and passes q over, as it did for every other thread's destroy before
 * 7d91e45.
 *
 * <p>Expected ({@code WorkQueues.close()} javadoc: "At the timeout it stops waiting: ... every
 * worker still running an item is interrupted, and one report (log at ERROR and the report
 * listener) names each of them with its queue, item and stack"; README row "close() while
 * another thread's destroy() of a queue runs": close "waits for that destroy as for its own
 * ... at the deadline it interrupts and reports the items still running, that queue's
 * included"; or, for a close() that would wait for itself, README row "close() called again on
 * the thread running close()": refused with {@code IllegalStateException}): the close() with a
 * 1 s timeout either is refused, or at its timeout interrupts the running item 'gate' and names
 * it in its report.
 *
 * <p>Actual: close() returns normally after its whole 1 s timeout, having never drained q; the
 * item 'gate' is not interrupted (it runs on until the test releases it) and the only report is
 * "close() of runtime ... returns with 1 of its threads still alive" (no queue, item or stack).
 * The same close() from a plain thread interrupts and names the item (FaultsTest,
 * Break6BbCloseTimeoutDuringDestroyTest). Fails at 1b54e7e (5 runs of 5) and at 7d91e45^ too:
 * the case (the destroy's runner is the closing thread) that 7d91e45's wait does not cover.
 */
@Timeout(60)
class Break7CCloseInDestroyersHandlerTest {
    @Test
    void closeFromTheDestroyersHandlerInterruptsAndReportsTheRunningItemAtItsTimeout() throws Exception {
        java.util.concurrent.atomic.AtomicReference<WorkQueues> ref = new java.util.concurrent.atomic.AtomicReference<>();
        List<String> reports = new CopyOnWriteArrayList<>();
        List<Throwable> refused = new CopyOnWriteArrayList<>();
        AtomicLong closeMs = new AtomicLong(-1);
        AtomicBoolean gateInterruptedByClose = new AtomicBoolean();
        CountDownLatch closeReturned = new CountDownLatch(1);
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(1))
                .reportListener(reports::add)
                .uncaughtWorkHandler((q, w, e) -> {
                    if (!Thread.currentThread().getName().equals("destroyer")) {
                        return;
                    }
                    long t0 = System.nanoTime();
                    try {
                        ref.get().close();
                    } catch (Throwable x) {
                        refused.add(x);
                    } finally {
                        closeMs.set((System.nanoTime() - t0) / 1_000_000);
                        closeReturned.countDown();
                    }
                }).build());
        ref.set(rt);
        WorkQueue q = rt.queueBuilder("q").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger ran = new AtomicInteger();
        assertTrue(q.queue(new Work("gate", () -> {
            started.countDown();
            try {
                release.await(30, SECONDS);
            } catch (InterruptedException e) {
                if (closeReturned.getCount() == 1) {
                    gateInterruptedByClose.set(true); // interrupted before close() returned: by close
                }
            }
        })));
        assertTrue(started.await(10, SECONDS));
        for (int i = 0; i < 5; i++) {
            assertTrue(q.queue(new Work("p" + i, ran::incrementAndGet)));
        }
        assertTrue(q.queueDelayed(new DelayedWork("armed", () -> { }), Duration.ofHours(1)));
        Thread destroyer = new Thread(q::destroy, "destroyer");
        destroyer.setDaemon(true);
        destroyer.start();
        assertTrue(closeReturned.await(20, SECONDS), "the handler's close() returned");
        boolean interrupted = gateInterruptedByClose.get();
        release.countDown();
        destroyer.join(10_000);
        if (!refused.isEmpty()) {
            assertInstanceOf(IllegalStateException.class, refused.get(0)); // a refusal is fine
            return;
        }
        assertAll(
            () -> assertTrue(interrupted, "close() returned after " + closeMs.get() + " ms (closeTimeout 1 s) without"
                    + " interrupting the item 'gate' still running; reports: " + reports),
            () -> assertTrue(reports.stream().anyMatch(s -> s.contains("gate")), "no report of close() names the running"
                    + " item 'gate': " + reports),
            () -> assertFalse(destroyer.isAlive(), "destroy() did not return"),
            () -> assertEquals(5, ran.get(), "items queued behind 'gate' that ran"));
    }
}
