package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** WorkQueue.stats(): the inactive/pending/running columns count items, not flush barriers. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break4WbStatsCountsTest {
    private final TestRuntime t = new TestRuntime(2);

    @AfterEach
    void close() {
        t.close();
    }

    /**
     * maxActive 1: A runs (held), B waits inactive. B.flushAsync() links a barrier behind B on
     * the pwq's inactive list. WorkQueueStats.inactive is documented as "items held back by
     * max_active (or a freeze) on the pwqs' inactive lists": one item (B) is held back.
     */
    @Test
    void aFlushBarrierBehindAnInactiveItemIsNotCountedAsAnInactiveItem() throws Exception {
        WorkQueue q = t.queue("limited").maxActive(1).build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work a = new Work("A", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        });
        Work b = new Work("B", () -> { });
        q.queueOn(0, a);
        assertTrue(started.await(10, TimeUnit.SECONDS), "A started");
        q.queueOn(0, b);
        WorkQueueStats before = q.stats();
        assertEquals(1, before.inactive(), "B is the one inactive item before the flush");
        CompletableFuture<Boolean> f = b.flushAsync();
        WorkQueueStats during = q.stats();
        try {
            assertEquals(1, during.inactive(),
                    "expected 1 inactive item (B) after B.flushAsync(), actual " + during.inactive()
                            + ": the flush barrier linked behind B on the inactive list is counted as an item");
        } finally {
            release.countDown();
            assertTrue(f.get(10, TimeUnit.SECONDS), "flush of B completes");
        }
    }

    /**
     * A flushAsync future's dependent runs on the worker that ran the barrier (documented), and
     * may take its time. WorkQueueStats.running is "items a pool worker is running now": no item
     * runs while the dependent does; the barrier is not an item.
     */
    @Test
    void aBarrierWhoseDependentRunsIsNotCountedAsARunningItem() throws Exception {
        WorkQueue q = t.queue("plain").build();
        CountDownLatch xStarted = new CountDownLatch(1);
        CountDownLatch xRelease = new CountDownLatch(1);
        CountDownLatch inDependent = new CountDownLatch(1);
        CountDownLatch dependentRelease = new CountDownLatch(1);
        Work x = new Work("X", () -> {
            xStarted.countDown();
            WorkQueueCoreTest.await(xRelease);
        });
        q.queueOn(0, x);
        assertTrue(xStarted.await(10, TimeUnit.SECONDS), "X started");
        CompletableFuture<Void> dep = x.flushAsync().thenRun(() -> {
            inDependent.countDown();
            WorkQueueCoreTest.await(dependentRelease);
        });
        xRelease.countDown();
        assertTrue(inDependent.await(10, TimeUnit.SECONDS), "the dependent runs (on the worker that ran the barrier)");
        WorkQueueStats s = q.stats();
        try {
            assertEquals(1, s.completed(), "X completed");
            assertEquals(0, s.running(), "expected 0 running items (X has completed; only the flush barrier's"
                    + " dependent runs), actual running=" + s.running() + " (pending=" + s.pending() + ")");
        } finally {
            dependentRelease.countDown();
            dep.get(10, TimeUnit.SECONDS);
        }
    }
}
