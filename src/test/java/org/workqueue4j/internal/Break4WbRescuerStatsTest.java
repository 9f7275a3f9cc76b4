package org.workqueue4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * WorkqueueStruct.counts() (WorkQueue.stats()) while the rescuer runs an item of a starved pool:
 * the item is running, not "activated and waiting for a worker".
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break4WbRescuerStatsTest {

    @Test
    void anItemTheRescuerRunsIsCountedRunningNotPending() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        CountDownLatch factoryRelease = new CountDownLatch(1);
        ThreadFactory f = r -> {
            if (armed.get()) {
                try {
                    factoryRelease.await(30, TimeUnit.SECONDS); // no pool worker can be made: starved
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new Thread(r);
        };
        WqRuntime rt = new WqRuntime("b4-rescue-stats", 2, f, Thread.currentThread().getThreadGroup(),
                Duration.ofSeconds(300).toNanos(), (wq, n, e) -> { }, Duration.ofMillis(10).toNanos(),
                Duration.ofSeconds(300).toNanos(), null, LockDependencyValidator.disabled(),
                org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 64);
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        try {
            WorkqueueStruct q = rt.newQueue(null, "rq", WorkqueueStruct.WQ_MEM_RECLAIM, 1024, null);
            armed.set(true);
            WorkNode w = new TestNode("held", () -> {
                running.countDown();
                try {
                    go.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(Pending.claim(w));
            q.insertClaimed(0, w);
            assertTrue(running.await(20, TimeUnit.SECONDS), "the rescuer runs the item of the starved pool");
            WqStats.Counts c = q.counts();
            assertEquals(1, c.running() + c.pending(), "one item active");
            // WorkQueueStats.pending: "items activated and waiting for a worker (nr_active minus those running)"
            assertEquals(0, c.pending(), "expected pending=0 (the one active item runs on the rescuer), actual pending="
                    + c.pending() + " running=" + c.running()
                    + ": counts() looks for running items only among pool.workers, the rescuer is not one");
        } finally {
            go.countDown();
            factoryRelease.countDown();
            rt.close(Duration.ofSeconds(20));
        }
    }
}
