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
     * A failed assertion ({@link LockdepReport.Kind#ASSERTION}) and a work item's leaked lock
     * ({@link LockdepReport.Kind#LEAKED_LOCK}) are warnings that leave validation on, as in the
     * kernel (a {@code WARN_ON}, a {@code pr_err}): each is logged once per signature while
     * validation is on.
     */
    WARN_ONCE,
    /**
     * Log every distinct report (distinct by kind and lock classes; a cycle is the same cycle
     * from whichever edge it is met) and keep validating: every dependency an acquisition makes
     * is learnt even when it is reported, and a chain is cached only once all of its
     * dependencies are in the graph, so later distinct problems are still found.
     */
    WARN,
    /**
     * Like {@link #WARN}, and in addition {@code acquire()} throws
     * {@link PotentialDeadlockException} before the caller blocks; the lock is then not taken
     * and not recorded as held.
     */
    THROW
}
