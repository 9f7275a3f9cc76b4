package org.workqueue4j.lockdep;

/**
 * How a lock is acquired, the kernel's {@code held_lock.read}: 0, 1 or 2.
 *
 * <p>Blocking rules (Documentation/locking/lockdep-design.rst): an exclusive holder blocks
 * every acquirer; a reader of either kind blocks exclusive and non-recursive-read acquirers,
 * but not recursive readers.
 *
 * <p>Immutable; safe to share between threads.
 */
public enum AcquireMode {
    /** Exclusive: a mutex, or the write side of a read-write lock ('W'). */
    EXCLUSIVE,
    /**
     * Non-recursive reader ('r'): it waits behind a queued writer, so a second read of the
     * same class can deadlock. {@code ReentrantReadWriteLock}'s read lock is one.
     */
    READ,
    /** Recursive reader ('R'): it never waits for writers while other readers hold the lock. */
    RECURSIVE_READ;

    /** Returns true for both kinds of reader (a shared holder, 'S' in lockdep's edge types). */
    boolean isRead() {
        return this != EXCLUSIVE;
    }
}
