package org.workqueue4j.lockdep;

/**
 * What the validator does when it finds a problem.
 *
 * <p>Immutable; safe to share between threads.
 */
public enum ReportPolicy {
    /**
     * The kernel's default: log the first report, then stop validating (like
     * {@code debug_locks_off()}) until {@link Lockdep#reset()}. Held locks are still tracked.
     */
    WARN_ONCE,
    /** Log every distinct report (distinct by kind and lock classes) and keep validating. */
    WARN,
    /**
     * Like {@link #WARN}, and in addition {@code acquire()} throws
     * {@link PotentialDeadlockException} before the caller blocks; the lock is then not taken
     * and not recorded as held.
     */
    THROW
}
