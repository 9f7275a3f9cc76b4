package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The hung-wait registry keeps one record per thread that has waited: with a thread per wait
 * (one-shot threads, virtual threads), records of ended threads piled up until the monitor's
 * scan, once a watchdog threshold while the runtime is idle, dropped them one array copy each,
 * and every new thread's first wait copied them all (200k one-shot callers of flush(): 82 s
 * with the watchdog on, 2 s off). Registering now drops the records of ended threads once the
 * array has doubled since it last did, so it stays within about twice the live records.
 */
class HungWaitsGrowthTest {
    @Test
    void recordsOfEndedThreadsDoNotPileUp() throws Exception {
        HungWaits hw = new HungWaits(true);
        int threads = 2_000;
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> hw.end(hw.begin("flush", null, null)), "one-shot-" + i);
            t.start();
            t.join(); // ended before the next one registers
        }
        assertThat(hw.waiters.length).as("records kept after %d one-shot threads, each ended", threads)
                .isLessThanOrEqualTo(128);
    }

    /**
     * Pruning while threads end: live() counted the live records in one pass and copied them in
     * a second, so a thread ending between the two left a null slot at the end of the array,
     * and every later scan, registration and prune threw NullPointerException (flush() and
     * close() from new threads included). One pass now.
     */
    @Test
    void pruningWhileThreadsEndLeavesNoEmptySlot() throws Exception {
        HungWaits hw = new HungWaits(true);
        for (int round = 0; round < 10; round++) {
            int n = 1_000;
            java.util.concurrent.CountDownLatch registered = new java.util.concurrent.CountDownLatch(n);
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            java.util.List<Thread> threads = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(() -> {
                    hw.end(hw.begin("flush", null, null));
                    registered.countDown();
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                t.start();
                threads.add(t);
            }
            assertThat(registered.await(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            go.countDown(); // they all end now, while the prunes below run
            boolean anyAlive = true;
            while (anyAlive) {
                hw.prune();
                assertThat(hw.waiters).as("records after a prune, round %d", round).doesNotContainNull();
                anyAlive = threads.stream().anyMatch(Thread::isAlive);
            }
        }
    }
}
