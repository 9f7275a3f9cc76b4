package org.workqueue4j.lockdep;

/**
 * Contention and hold-time statistics of one lock class (the kernel's {@code /proc/lock_stat}),
 * collected only when {@link Lockdep.Builder#lockStat(boolean)} is on. Times are nanoseconds;
 * contentions count blocking acquisitions of a {@link ValidatedLock} or
 * {@link ValidatedReadWriteLock} that found the lock taken.
 *
 * @param className the lock class
 * @param acquisitions acquisitions recorded by the validator
 * @param contentions acquisitions that had to wait
 * @param waitTotalNanos total time spent waiting
 * @param waitMaxNanos longest wait
 * @param holdTotalNanos total time held (acquire to release, per held entry)
 * @param holdMaxNanos longest hold
 */
public record LockStat(String className, long acquisitions, long contentions, long waitTotalNanos, long waitMaxNanos,
                       long holdTotalNanos, long holdMaxNanos) {
}
