package org.workqueue4j.lockdep;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A {@link ReadWriteLock} whose acquisitions are validated. Both sides share one
 * {@link LockMap}: the write side acquires it {@link AcquireMode#EXCLUSIVE}, the read side
 * {@link AcquireMode#READ} (non-recursive 'r', the default: it wraps a
 * {@link ReentrantReadWriteLock}, where a queued writer blocks new readers) or
 * {@link AcquireMode#RECURSIVE_READ} ('R', by {@link Builder#recursiveReaders(boolean) option}:
 * it then wraps a reader-preferring lock whose readers wait only while a writer holds it, never
 * behind a queued writer, so that the validator's 'R' is what the lock does; writers can then
 * be kept out by a steady stream of readers).
 *
 * <p>Java decisions (SPEC §5): re-entering the read or write side on the same instance is
 * legal and not reported again; taking the read lock while holding this instance's write
 * lock is a legal downgrade (when the write lock is then released the validator sees a read
 * hold). Taking the write lock while holding only the read lock (an upgrade, which blocks
 * forever in {@code ReentrantReadWriteLock}) is reported as recursive locking. Unlocking the
 * side the thread does not hold while it holds the other throws
 * {@code IllegalMonitorStateException} from the real lock, and the validator keeps the hold of
 * the side it has (both sides share the map); with neither side held, it is reported as a
 * release of a lock not held, then thrown.
 *
 * <p>Thread-safe, as any {@link java.util.concurrent.locks.ReadWriteLock}.
 */
public final class ValidatedReadWriteLock implements ReadWriteLock {

    /** The real lock: a {@code ReentrantReadWriteLock}, or with recursive readers a {@link ReadWriteCore.ReaderPreferring}. */
    private final ReadWriteCore rw;
    private final LockMap map;
    private final LockDependencyValidator validator;
    private final AcquireMode readMode;
    private final ReadSide readLock;
    private final WriteSide writeLock;

    /**
     * Creates a non-fair read-write lock with non-recursive readers.
     *
     * @param name instance name
     * @param key lock class
     * @param validator the validator, or {@link LockDependencyValidator#disabled()}
     */
    public ValidatedReadWriteLock(String name, LockClassKey key, LockDependencyValidator validator) {
        this(new LockMap(name, key), validator, false, false);
    }

    private ValidatedReadWriteLock(LockMap map, LockDependencyValidator validator, boolean recursiveReaders, boolean fair) {
        this.map = map;
        this.validator = Objects.requireNonNull(validator, "validator");
        this.readMode = recursiveReaders ? AcquireMode.RECURSIVE_READ : AcquireMode.READ;
        this.rw = recursiveReaders ? new ReadWriteCore.ReaderPreferring(fair) : ReadWriteCore.of(new ReentrantReadWriteLock(fair));
        this.readLock = new ReadSide();
        this.writeLock = new WriteSide();
        map.leakRelease = () -> {
            while (rw.getWriteHoldCount() > 0) {
                rw.writeLock().unlock();
            }
            while (rw.getReadHoldCount() > 0) {
                rw.readLock().unlock();
            }
        };
    }

    /**
     * Returns a builder for a lock with non-default options.
     *
     * @param key the lock class; not null
     * @param name the instance name, for reports; not null
     * @param validator the validator this lock reports to; not null
     * @return a builder
     */
    public static Builder builder(String name, LockClassKey key, LockDependencyValidator validator) {
        return new Builder(name, key, validator);
    }

    /** {@return the validator's view of this lock instance} */
    public LockMap map() {
        return map;
    }

    /**
     * The kernel's {@code lockdep_assert_held()}: reports (and under {@link ReportPolicy#THROW}
     * throws) unless the calling thread holds this lock. A no-op with the disabled validator or
     * once validation is off. Thread-safe.
     *
     * @throws IllegalStateException under THROW, if the calling thread does not hold it
     */
    public void assertHeld() {
        validator.assertHeld(map, LockAssertion.HELD);
    }

    /**
     * The kernel's {@code lockdep_assert_not_held()}: reports (and under THROW throws) if the
     * calling thread holds this lock. A no-op with the disabled validator. Thread-safe.
     *
     * @throws IllegalStateException under THROW, if the calling thread holds it
     */
    public void assertNotHeld() {
        validator.assertHeld(map, LockAssertion.NOT_HELD);
    }

    /**
     * The kernel's {@code lockdep_assert_held_read()}: the calling thread holds the read lock (a
     * downgraded write hold counts, and so does a read lock taken while holding the write lock,
     * in the middle of a downgrade: the validator then sees one write hold, and this asserts
     * that it is held). Reports, and under THROW throws, otherwise.
     *
     * @throws IllegalStateException under THROW, if it does not hold it for reading
     */
    public void assertHeldRead() {
        boolean midDowngrade = rw.isWriteLockedByCurrentThread() && rw.getReadHoldCount() > 0;
        validator.assertHeld(map, midDowngrade ? LockAssertion.HELD : LockAssertion.HELD_READ);
    }

    /**
     * The kernel's {@code lockdep_assert_held_write()}: the calling thread holds the write lock.
     * Reports, and under THROW throws, otherwise.
     *
     * @throws IllegalStateException under THROW, if it does not hold it for writing
     */
    public void assertHeldWrite() {
        validator.assertHeld(map, LockAssertion.HELD_WRITE);
    }

    @Override
    public Lock readLock() {
        return readLock;
    }

    @Override
    public Lock writeLock() {
        return writeLock;
    }

    @Override
    public String toString() {
        return "ValidatedReadWriteLock[" + map + ", " + readMode + ", " + rw + "]";
    }

    /** True when this thread's read acquisition needs no validation: re-entry or downgrade. */
    private boolean readIsNested() {
        return rw.getReadHoldCount() > 0 || rw.isWriteLockedByCurrentThread();
    }

    private void afterReadUnlock(int holdsBefore) {
        if (holdsBefore == 1 && !rw.isWriteLockedByCurrentThread()) {
            validator.release(map);
        }
    }

    private final class ReadSide extends ValidatedAcquire {
        ReadSide() {
            super(ValidatedReadWriteLock.this.validator, ValidatedReadWriteLock.this.map, readMode, rw.readLock());
        }

        @Override
        boolean nested() {
            return readIsNested();
        }

        @Override
        boolean heldExclusively() {
            return false;
        }

        @Override
        public void unlock() {
            if (!enabled) {
                rw.readLock().unlock();
                return;
            }
            int holds = rw.getReadHoldCount();
            if (holds == 0) {
                if (!rw.isWriteLockedByCurrentThread()) {
                    validator.release(map); // reported: not held by this thread
                }
                // Else the thread holds the write side, which shares the map: the exception is
                // the report, and the validator keeps the write hold (the real lock does too).
                rw.readLock().unlock();  // throws IllegalMonitorStateException
                return;
            }
            rw.readLock().unlock();
            afterReadUnlock(holds);
        }

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("read locks have no conditions");
        }
    }

    private final class WriteSide extends ValidatedAcquire {
        WriteSide() {
            // An upgrade (read held, then write) is validated, and reported.
            super(ValidatedReadWriteLock.this.validator, ValidatedReadWriteLock.this.map, AcquireMode.EXCLUSIVE, rw.writeLock());
        }

        @Override
        boolean nested() {
            return rw.isWriteLockedByCurrentThread();
        }

        @Override
        boolean heldExclusively() {
            return rw.isWriteLockedByCurrentThread();
        }

        @Override
        public void unlock() {
            if (!enabled) {
                rw.writeLock().unlock();
                return;
            }
            if (!rw.isWriteLockedByCurrentThread()) {
                if (rw.getReadHoldCount() == 0) {
                    validator.release(map); // reported: not held by this thread
                }
                // Else the thread holds the read side, which shares the map: the exception is
                // the report, and the validator keeps the read hold (the real lock does too).
                rw.writeLock().unlock(); // throws IllegalMonitorStateException
                return;
            }
            int holds = rw.getWriteHoldCount();
            HeldLocks hint = holder; // read while write-held: the calling thread's own stack
            rw.writeLock().unlock();
            if (holds == 1) {
                if (rw.getReadHoldCount() > 0) {
                    validator.downgrade(map, readMode); // write -> read downgrade completes
                } else {
                    recordRelease(hint);
                }
            }
        }

        @Override
        public Condition newCondition() {
            return holderCondition(rw.writeLock().newCondition());
        }
    }

    /**
     * Options for a {@link ValidatedReadWriteLock}.
     *
     * <p>Not thread-safe: a builder is meant for one thread; the object it builds is thread-safe.
     */
    public static final class Builder {
        private final String name;
        private final LockClassKey key;
        private final LockDependencyValidator validator;
        private boolean recursiveReaders;
        private boolean fair;
        private int subclass;

        private Builder(String name, LockClassKey key, LockDependencyValidator validator) {
            this.name = name;
            this.key = key;
            this.validator = validator;
        }

        /**
         * Readers are recursive ('R') instead of non-recursive ('r', default). The lock is then
         * reader-preferring: a reader waits only while another thread holds the write lock,
         * never behind a writer that is waiting (which a {@code ReentrantReadWriteLock} reader
         * does, and which would make the validator's 'R' a lie); a writer waits until no thread
         * holds the read lock, and can be kept out by readers that keep overlapping. Fairness
         * ({@link #fair(boolean)}) then orders only the lock's internal state changes.
         *
         * @param recursiveReaders true for recursive readers
         * @return this builder
         */
        public Builder recursiveReaders(boolean recursiveReaders) {
            this.recursiveReaders = recursiveReaders;
            return this;
        }

        /**
         * Whether the underlying lock is fair (default false).
         *
         * @param fair true for a fair lock
         * @return this builder
         */
        public Builder fair(boolean fair) {
            this.fair = fair;
            return this;
        }

        /**
         * The nesting subclass, 0..7 (default 0).
         *
         * @param subclass 0..7
         * @return this builder
         */
        public Builder subclass(int subclass) {
            this.subclass = subclass;
            return this;
        }

        /**
         * Builds the lock.
         *
         * @return a new lock
         */
        public ValidatedReadWriteLock build() {
            return new ValidatedReadWriteLock(new LockMap(name, key, subclass), validator, recursiveReaders, fair);
        }
    }
}
