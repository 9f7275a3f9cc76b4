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
}
