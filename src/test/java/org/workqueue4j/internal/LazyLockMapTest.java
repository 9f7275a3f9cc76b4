package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.workqueue4j.Work;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;

/**
 * A queue's flush pseudo-lock map (WorkqueueStruct.lockMap()) and an item's map (Work.lockMap())
 * are made on first use: two threads' first use at once must get one map, or the validator sees
 * two locks for one queue or item and misses the cycles through it. Released together by a
 * barrier, over many fresh queues and items; each test fails (two maps) if the making is not
 * done once (the queue's under latentLock with the volatile re-read, the item's by CAS).
 */
class LazyLockMapTest {
    /** Two threads call {@code firstUse} at once; {@return true if they got different maps} */
    private static boolean twoMaps(Supplier<LockMap> firstUse) throws Exception {
        CyclicBarrier go = new CyclicBarrier(2);
        AtomicReference<LockMap> other = new AtomicReference<>();
        Thread th = new Thread(() -> {
            try {
                go.await();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            other.set(firstUse.get());
        });
        th.start();
        go.await();
        LockMap mine = firstUse.get();
        th.join(20_000);
        assertThat(firstUse.get()).as("a later use gets the first map").isSameAs(mine);
        return mine != other.get();
    }

    @Test
    void twoFirstUsesOfAQueuesMapGetOneMap() throws Exception {
        WqRuntime rt = new WqRuntime("lazy-map", 2, ManualWorkers.neverStartedThreads(), Thread.currentThread().getThreadGroup(),
                Duration.ofSeconds(300).toNanos(), (wq, n, e) -> { }, Duration.ofMillis(10).toNanos(),
                Duration.ofSeconds(300).toNanos(), null, LockDependencyValidator.disabled(),
                org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 64);
        try {
            int twice = 0;
            for (int i = 0; i < 300; i++) {
                WorkqueueStruct wq = rt.newQueue(null, "q" + i, WorkqueueStruct.WQ_UNBOUND, 16, null);
                if (twoMaps(wq::lockMap)) {
                    twice++;
                }
                assertThat(wq.lockMap().name()).isEqualTo("(wq_completion)q" + i);
                wq.destroy();
            }
            assertThat(twice).as("first uses that made two maps for one queue").isZero();
        } finally {
            rt.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void twoFirstUsesOfAnItemsMapGetOneMap() throws Exception {
        int twice = 0;
        for (int i = 0; i < 2000; i++) {
            Work w = new Work("lazy-" + i, () -> { });
            if (twoMaps(w::lockMap)) {
                twice++;
            }
        }
        assertThat(twice).as("first uses that made two maps for one item").isZero();
    }
}
