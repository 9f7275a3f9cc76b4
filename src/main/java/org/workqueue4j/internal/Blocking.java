package org.workqueue4j.internal;

import java.util.concurrent.ForkJoinPool;

/** Managed blocking for user code running on workers (kernel: a sleeping worker). */
public final class Blocking {
    private Blocking() {
    }

    /** See {@code WorkQueues.managedBlock}. */
    public static void managedBlock(ForkJoinPool.ManagedBlocker blocker) throws InterruptedException {
        if (blocker.isReleasable()) {
            return;
        }
        Worker w = Worker.current();
        if (w != null) {
            w.sleeping();
        }
        try {
            while (!blocker.isReleasable() && !blocker.block()) {
                // block() returned false: it wants to be asked again
            }
        } finally {
            if (w != null) {
                w.running();
            }
        }
    }

    /**
     * The System.nanoTime() deadline {@code timeout} from now: a negative timeout counts as
     * zero, one of 100 years or more as forever (no overflow).
     */
    /**
     * {@return whether a timed wait until {@code deadline} (System.nanoTime()) may still block}
     * A wait with no time left cannot: the lock validator records nothing for it.
     */
    static boolean timeLeft(long deadline) {
        return deadline - System.nanoTime() > 0;
    }

    public static long deadlineAfter(java.time.Duration timeout) {
        java.util.Objects.requireNonNull(timeout, "timeout");
        long nanos;
        if (timeout.isNegative()) {
            nanos = 0;
        } else if (timeout.compareTo(FOREVER) >= 0) {
            nanos = FOREVER.toNanos();
        } else {
            nanos = timeout.toNanos();
        }
        return System.nanoTime() + nanos;
    }

    /** Timeouts at or above this mean forever (about 100 years: deadline arithmetic stays exact). */
    private static final java.time.Duration FOREVER = java.time.Duration.ofDays(36_500);
}
