package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.junit.jupiter.api.Test;

/**
 * WorkQueue.stats() javadoc: "Items only: the engine's own flush barriers and steps are not
 * counted." started/completed (the wq_monitor "total" column) must equal the number of item runs.
 * Before (README faults table), every flushAsync() step and every Work.flush() barrier that a
 * worker ran was counted as a started and completed item.
 */
class Break12EnStatsCountTest {

    @Test
    void queueFlushAsyncStepsAreNotCountedAsItems() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.rt.queueBuilder("q").ordered().build();
            CountDownLatch release = new CountDownLatch(1);
            TestRuntime.blockOrdered(q, release);                 // 1 item: "gate"
            q.queue(new Work("a", () -> { }));                   // 2nd item
            CompletableFuture<Void> f = q.flushAsync();          // a flush step, not an item
            release.countDown();
            f.get(30, TimeUnit.SECONDS);
            q.flush();
            WorkQueueStats s = q.stats();
            assertEquals(2, s.started(), "2 items ran; the flushAsync step is no item: " + s);
            assertEquals(2, s.completed(), s.toString());
        }
    }

    @Test
    void workFlushBarriersAreNotCountedAsItems() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.rt.queueBuilder("q").ordered().build();
            CountDownLatch release = new CountDownLatch(1);
            TestRuntime.blockOrdered(q, release);                 // 1 item: "gate"
            Work a = new Work("a", () -> { });
            q.queue(a);                                          // 2nd item
            CompletableFuture<Boolean> f = a.flushAsync();       // a barrier behind "a", not an item
            release.countDown();
            assertTrue(f.get(30, TimeUnit.SECONDS));
            q.flush();
            WorkQueueStats s = q.stats();
            assertEquals(2, s.started(), "2 items ran; the Work.flushAsync barrier is no item: " + s);
            assertEquals(2, s.completed(), s.toString());
        }
    }
}
