package org.workqueue4j;

import java.util.concurrent.ThreadLocalRandom;

import org.workqueue4j.internal.TestHooks;

/**
 * Widens the engine's own windows for the random ledgers ({@code LedgerTest}, {@code StressTest})
 * when {@code -Dworkqueue4j.chaos=true}: every test point of the engine now and then yields or
 * spins (up to 100 us) the thread passing it, so that the interleavings a loaded machine makes
 * rarely are made often. Never parks: a park there would take the permit of a wake-up meant for
 * the engine's own park that follows (an idle worker would sleep through its wake-up).
 */
final class ChaosHooks implements AutoCloseable {
    private final boolean on;

    private ChaosHooks(boolean on) {
        this.on = on;
    }

    /** Installs the chaos hook if {@code -Dworkqueue4j.chaos=true}; {@link #close()} removes it. */
    static ChaosHooks installIfAsked() {
        boolean on = Boolean.getBoolean("workqueue4j.chaos");
        if (on) {
            TestHooks.install((point, subject) -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                int c = r.nextInt(16);
                if (c == 0) {
                    long until = System.nanoTime() + r.nextInt(100_000);
                    while (System.nanoTime() - until < 0) {
                        Thread.yield();
                    }
                } else if (c < 4) {
                    Thread.yield();
                }
            });
        }
        return new ChaosHooks(on);
    }

    @Override
    public void close() {
        if (on) {
            TestHooks.install(null);
        }
    }
}
