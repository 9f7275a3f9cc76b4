package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * WorkQueues.close() "ends a freeze: items accepted by frozen queues run" (WqRuntime.closeUntil:
 * thaw(), then destroy every queue). WqRuntime.freeze() does not look at `closed`: a freeze()
 * from another thread after close()'s thaw freezes the freezable queues again, and the drain of
 * close()'s destroy then waits for inactive items that never run.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break4WbFreezeDuringCloseTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(3)));

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    @Test
    void aFreezeThatStartsDuringCloseDoesNotStrandTheQueuedItems() throws Exception {
        WorkQueue q = t.queue("fz").freezable().maxActive(1).build();
        CountDownLatch aStarted = new CountDownLatch(1);
        CountDownLatch aRelease = new CountDownLatch(1);
        AtomicInteger bRuns = new AtomicInteger();
        q.queueOn(0, new Work("A", () -> {
            aStarted.countDown();
            WorkQueueCoreTest.await(aRelease);
        }));
        assertTrue(aStarted.await(10, TimeUnit.SECONDS), "A started");
        q.queueOn(0, new Work("B", bRuns::incrementAndGet)); // inactive behind A (maxActive 1)

        CountDownLatch freezeApplied = new CountDownLatch(1);
        AtomicBoolean once = new AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicReference<RuntimeException> refused = new java.util.concurrent.atomic.AtomicReference<>();
        Thread[] freezer = new Thread[1];
        TestHooks.install((point, subject) -> {
            if (point.equals("freeze.poll")) {
                freezeApplied.countDown(); // every freezable queue has limit 0 now; A still runs
            }
            if (point.equals("flush.registered") && subject == q.engine()
                    && Thread.currentThread().getName().equals("closer") && once.compareAndSet(true, false)) {
                // close() has thawed and now drains q: another thread freezes the runtime.
                freezer[0] = new Thread(() -> {
                    try {
                        t.rt.freeze();
                    } catch (RuntimeException e) {
                        refused.set(e);
                    }
                }, "freezer");
                freezer[0].start();
                // The freeze either applies (its first poll: every freezable queue has limit 0,
                // and A still runs) or returns at once, freezing nothing; bounded either way.
                try {
                    for (int i = 0; i < 1000 && freezeApplied.getCount() > 0 && freezer[0].isAlive(); i++) {
                        freezeApplied.await(10, TimeUnit.MILLISECONDS);
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                aRelease.countDown(); // A ends; B stays inactive if the freeze applied (limit 0)
            }
        });
        Thread closer = new Thread(t.rt::close, "closer");
        closer.start();
        closer.join(TimeUnit.SECONDS.toMillis(30));
        TestHooks.install(null);
        assertTrue(!closer.isAlive(), "close returned (bounded by closeTimeout)");
        freezer[0].join(TimeUnit.SECONDS.toMillis(10));
        assertTrue(refused.get() == null, "the freeze that began during close() returns, freezing nothing: " + refused.get());
        assertEquals(1, bRuns.get(), "expected B (accepted before close) to run before close() returns, as close()"
                + " ends a freeze (it is neither run nor reported); actual runs of B: " + bRuns.get() + "; reports: " + t.reports);
    }
}
