package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;

/**
 * A queue's flush pseudo-lock map is made on first use (WorkqueueStruct.lockMap()): two threads'
 * first use at once must get one map, or the validator sees two locks for one queue and misses
 * the cycles through it. Released together by a barrier, over many fresh queues; fails (two
 * maps) if the making is not done once, under latentLock, with the volatile re-read.
 */
class LazyLockMapTest {
    @Test
    void twoFirstUsesOfAQueuesMapGetOneMap() throws Exception {
        WqRuntime rt = new WqRuntime("lazy-map", 2, ManualWorkers.neverStartedThreads(), Thread.currentThread().getThreadGroup(),
                Duration.ofSeconds(300).toNanos(), (wq, n, e) -> { }, Duration.ofMillis(10).toNanos(),
                Duration.ofSeconds(300).toNanos(), null, LockDependencyValidator.disabled(),
                org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 64);
        try {
            CyclicBarrier go = new CyclicBarrier(2);
            int twice = 0;
            for (int i = 0; i < 300; i++) {
                WorkqueueStruct wq = rt.newQueue(null, "q" + i, WorkqueueStruct.WQ_UNBOUND, 16, null);
                AtomicReference<LockMap> other = new AtomicReference<>();
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    other.set(wq.lockMap());
                });
                th.start();
                go.await();
                LockMap mine = wq.lockMap();
                th.join(20_000);
                if (mine != other.get()) {
                    twice++;
                }
                assertThat(mine.name()).isEqualTo("(wq_completion)q" + i);
                wq.destroy();
            }
            assertThat(twice).as("first uses that made two maps for one queue").isZero();
        } finally {
            rt.close(Duration.ofSeconds(5));
        }
    }
}
