package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * Issue 13 defect 10: the rescuer takes at most a batch of one pool_workqueue per turn, so every
 * pwq in need is served. Both pools of a per-CPU memReclaim queue are starved (the thread
 * factory is stuck); 40 items wait on CPU 0 and one on CPU 1, which must not wait for all 40,
 * not even when the mayday timer fires again for CPU 0 while its batch runs.
 */
class RescuerBatchTest {
    private static final long BOUND_S = 20;

    private static void await(CountDownLatch l) {
        try {
            assertThat(l.await(BOUND_S, TimeUnit.SECONDS)).as("latch within %ss", BOUND_S).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void everyStarvedPwqIsServedWithinABatch() {
        AtomicBoolean armed = new AtomicBoolean();
        CountDownLatch factoryRelease = new CountDownLatch(1);
        ThreadFactory f = r -> {
            if (armed.get()) {
                await(factoryRelease); // pool workers cannot be made: the pools stay starved
            }
            return new Thread(r);
        };
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        WqRuntime rt = new WqRuntime("batch", 2, f, Thread.currentThread().getThreadGroup(), Duration.ofSeconds(300).toNanos(), (wq, n, e) -> errors.add(e),
                Duration.ofMillis(10).toNanos(), Duration.ofSeconds(300).toNanos(), null, LockDependencyValidator.disabled(), org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 64);
        try {
            WorkqueueStruct q = rt.newQueue(null, "rq", WorkqueueStruct.WQ_MEM_RECLAIM, 1024, null);
            armed.set(true);
            AtomicInteger cpu0Done = new AtomicInteger();
            CountDownLatch inBatch = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            int n = 40;
            for (int i = 0; i < n; i++) {
                boolean first = i == 0;
                WorkNode w = new TestNode("c0-" + i, () -> {
                    if (first) {
                        inBatch.countDown();
                        await(go);
                    }
                    cpu0Done.incrementAndGet();
                });
                assertThat(Pending.claim(w)).isTrue();
                q.insertClaimed(0, w);
            }
            await(inBatch); // the rescuer works on CPU 0's pwq
            // The monitor's mayday timer fires for CPU 0's still-starved pool during the batch
            // (every 100 ms in a real run; here at once, so the order is certain): it must not put
            // CPU 0's pwq back on the list ahead of CPU 1's, which asks for rescue after it.
            WorkerPool pool0 = q.pwqs[0].pool;
            pool0.lock.lock();
            try {
                pool0.sendMaydays();
            } finally {
                pool0.lock.unlock();
            }
            AtomicInteger seen = new AtomicInteger(-1);
            CountDownLatch cpu1Ran = new CountDownLatch(1);
            WorkNode other = new TestNode("c1", () -> {
                seen.set(cpu0Done.get());
                cpu1Ran.countDown();
            });
            assertThat(Pending.claim(other)).isTrue();
            q.insertClaimed(1, other);
            PoolWorkqueue pwq1 = q.pwqs[1];
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> pwq1.mayday); // CPU 1's pwq is waiting its turn
            go.countDown();
            await(cpu1Ran);
            assertThat(seen.get()).as("CPU 0 items run before CPU 1's one").isLessThanOrEqualTo(Math.min(Rescuer.BATCH, n - 1));
            factoryRelease.countDown();
        } finally {
            factoryRelease.countDown();
            rt.close(Duration.ofSeconds(BOUND_S));
        }
        assertThat(errors).isEmpty();
    }
}
