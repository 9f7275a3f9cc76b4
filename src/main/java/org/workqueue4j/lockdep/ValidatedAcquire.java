package org.workqueue4j.lockdep;

import org.jspecify.annotations.Nullable;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * The acquiring half every validated lock shares: report the acquisition to the validator
 * <em>before</em> blocking (so {@link ReportPolicy#THROW} throws instead of deadlocking), then
 * block, and take the record back if blocking fails. A successful {@link #tryLock()} is
 * recorded after the fact, as a trylock. Releasing differs per lock kind and stays with each.
 */
abstract class ValidatedAcquire implements Lock {
    final LockDependencyValidator validator;
    final LockMap map;
    private final AcquireMode mode;
    private final Lock inner;
    /** {@code validator.isEnabled()}, read once: with the disabled validator every operation is one predictable branch. */
    final boolean enabled;
    /** lock_stat on: time contended acquisitions (read once; off costs one predictable branch). */
    private final boolean lockStat;
    /**
     * The validator as a {@link Lockdep}, whose fast path takes {@link #holder} as a hint; null
     * for a shared side, another validator, or lock_stat on (whose timing the fast path skips).
     */
    final @Nullable Lockdep lockdep;
    /**
     * The held-lock stack of the thread that last acquired this exclusive lock through
     * {@link #lockdep} (never set for a shared side): handed back to the validator as a hint
     * that saves the {@code ThreadLocal} lookup. A plain field, read and written racily on
     * purpose. Before acquiring, a reader may see any stack ever stored, so the acquire side
     * uses it only after {@link HeldLocks#ownedByCurrentThread()} (a final field) says it is
     * the calling thread's own: a stale or foreign value costs the lookup, never a wrong stack.
     * While the lock is held it is the holder's own stack: every path that acquires the lock
     * stores the acquirer's stack here once it holds the lock ({@code lock}, the
     * {@code tryLock}s, {@code lockInterruptibly}, {@code lockNested}/{@code lockNestLock}, and
     * the return from a condition's {@code await}, which re-acquires inside the
     * {@code ReentrantLock} or write lock: {@link HolderCondition}), nobody else writes it
     * until the holder releases, and earlier writes happen-before the acquisition. So the
     * exclusive sides' {@code unlock()} ({@link ValidatedLock}, a read-write lock's write side)
     * use the value they read while holding the lock without an ownership check
     * ({@link #recordRelease}).
     */
    @Nullable HeldLocks holder;

    ValidatedAcquire(LockDependencyValidator validator, LockMap map, AcquireMode mode, Lock inner) {
        this.validator = validator;
        this.map = map;
        this.mode = mode;
        this.inner = inner;
        this.enabled = validator.isEnabled();
        this.lockStat = enabled && validator.lockStatEnabled();
        this.lockdep = validator instanceof Lockdep && mode == AcquireMode.EXCLUSIVE && !lockStat ? (Lockdep) validator : null;
    }

    /** Records the acquisition with the validator; returns the stack to remember, or null. */
    private @Nullable HeldLocks record(boolean trylock) {
        Lockdep ld = lockdep;
        if (ld != null) { // only an exclusive side has one: the constant mode folds into the chain key's id
            return ld.acquireFrom(holder, map, AcquireMode.EXCLUSIVE, trylock);
        }
        validator.acquire(map, mode, trylock);
        return null;
    }

    /**
     * Validates a wait that can never end in the lock here (the holder of a non-reentrant lock
     * waiting for it): recorded as a blocking acquisition, so reported as {@code lock()} would
     * be, then released at once, as a timed acquisition that failed; nothing is held after.
     */
    final void validateHopelessWait() {
        if (enabled) {
            record(false);
            validator.release(map);
        }
    }

    /** Remembers the new holder's stack, once the lock is held; written only when it changed. */
    final void remember(@Nullable HeldLocks h) {
        if (h != null && holder != h) {
            holder = h;
        }
    }

    /**
     * Records the outermost release with the validator. {@code hint}: {@link #holder}, read
     * while the calling thread still held the lock, so its own stack (see {@link #holder}):
     * released from without an ownership check.
     */
    final void recordRelease(@Nullable HeldLocks hint) {
        Lockdep ld = lockdep;
        if (ld != null && hint != null) {
            ld.releaseOwned(hint, map);
        } else {
            validator.release(map);
        }
    }

    /** The real lock(), timed for lock_stat when it has to wait. */
    private void blockingLock() {
        if (lockStat && !inner.tryLock()) {
            long t0 = System.nanoTime();
            inner.lock();
            validator.contended(map, System.nanoTime() - t0);
        } else if (!lockStat) {
            inner.lock();
        }
    }

    /** True when this acquisition tells the validator nothing: a legal re-entry by the holder. */
    abstract boolean nested();

    /** True if the calling thread holds this lock exclusively (an exclusive side); false for a shared side. */
    abstract boolean heldExclusively();

    /**
     * {@code c}, a condition of this exclusive lock, wrapped so that its waits are reported as
     * a release and a re-acquisition ({@link HolderCondition}) when the validator is enabled.
     */
    final Condition holderCondition(Condition c) {
        return enabled ? new HolderCondition(c) : c;
    }

    /**
     * A condition whose waits are a release and a re-acquisition for the validator, as the
     * kernel writes every wait that drops a lock ({@code wait_event_lock_irq()}: unlock,
     * schedule, lock) and as the project's Java agent treats {@code await}: the release is
     * recorded before waiting, and the acquisition, with the usual dependency checks against
     * the locks still held (a lock taken after this one and kept across the wait makes the
     * re-acquisition depend on it), once {@code await} has re-taken the lock - also when the
     * wait ends by timeout, interrupt or any other throw (the JDK re-takes the lock before
     * returning or throwing). A re-entrant hold count is restored as a whole by the JDK, and
     * the validator records only the outermost hold, so one release and one acquisition.
     *
     * <p>It also keeps {@link #holder} exact: the {@code ReentrantLock} (or the write lock of a
     * {@code ReentrantReadWriteLock}) re-acquires it inside {@code await}, past this wrapper's
     * {@code lock()}, while other threads may have taken and released it in between and left
     * their own stack there. The waiter's stack is read before waiting (it holds the lock, so
     * it is its own) and written back after (it holds the lock again; the JDK lock's release
     * and acquisition order that plain write after the other holders' writes). A caller that
     * does not hold the lock is checked first, so that a non-holder writes neither the field
     * nor the validator's stack (the JDK throws IllegalMonitorStateException).
     */
    private final class HolderCondition implements Condition {
        private final Condition inner;

        HolderCondition(Condition inner) {
            this.inner = inner;
        }

        /** One of the interruptible waits of {@link #inner}. */
        private interface Wait<T> {
            T run() throws InterruptedException;
        }

        /** Runs {@code w} as a release and a re-acquisition if the caller holds the lock. */
        private <T> T restoring(Wait<T> w) throws InterruptedException {
            if (!heldExclusively()) {
                return w.run(); // throws IllegalMonitorStateException
            }
            HeldLocks mine = holder; // the caller holds the lock: its own stack (or null)
            Lockdep.HeldAs as = heldAs();
            recordRelease(mine);
            try {
                return w.run();
            } finally {
                reacquired(mine, as);
            }
        }

        /**
         * Before waiting, the lock held: how it is held, so that the re-acquisition is validated
         * as the acquisition was ({@code lockNested}'s subclass, {@code lockNestLock}'s nest
         * lock); null for a plain hold, or a validator other than {@link Lockdep}.
         */
        private Lockdep.@Nullable HeldAs heldAs() {
            return validator instanceof Lockdep ? ((Lockdep) validator).heldAs(map) : null;
        }

        /**
         * After waiting, the lock held again (the JDK re-took it even on interrupt or timeout):
         * restores the hint, then records the acquisition with its dependency checks, taken as
         * it was before the wait ({@code as}: its subclass and nest lock; null: plain). Under
         * {@link ReportPolicy#THROW} a report is thrown before the validator pushes the lock,
         * but the lock is held and its holder will unlock it: it is then recorded as a trylock
         * (held, no dependencies), so that this unlock is not a bad unlock balance.
         */
        private void reacquired(@Nullable HeldLocks mine, Lockdep.@Nullable HeldAs as) {
            holder = mine;
            HeldLocks h;
            try {
                if (as == null) {
                    h = record(false);
                } else {
                    validator.acquireNested(map, as.subclass(), mode, as.nest());
                    Lockdep ld = lockdep;
                    h = ld != null ? ld.stack() : null;
                }
            } catch (RuntimeException | Error e) {
                remember(record(true));
                throw e;
            }
            remember(h);
        }

        @Override
        public void await() throws InterruptedException {
            restoring(() -> {
                inner.await();
                return Boolean.TRUE;
            });
        }

        @Override
        public void awaitUninterruptibly() {
            try {
                restoring(() -> {
                    inner.awaitUninterruptibly();
                    return Boolean.TRUE;
                });
            } catch (InterruptedException e) {
                throw new AssertionError(e); // uninterruptible waits do not throw it
            }
        }

        @Override
        public long awaitNanos(long nanosTimeout) throws InterruptedException {
            return restoring(() -> inner.awaitNanos(nanosTimeout));
        }

        @Override
        public boolean await(long time, TimeUnit unit) throws InterruptedException {
            return restoring(() -> inner.await(time, unit));
        }

        @Override
        public boolean awaitUntil(java.util.Date deadline) throws InterruptedException {
            return restoring(() -> inner.awaitUntil(deadline));
        }

        @Override
        public void signal() {
            inner.signal();
        }

        @Override
        public void signalAll() {
            inner.signalAll();
        }
    }


    @Override
    public void lock() {
        if (!enabled || nested()) {
            inner.lock();
            return;
        }
        HeldLocks h = record(false);
        try {
            blockingLock();
        } catch (Throwable t) {
            validator.release(map);
            throw t;
        }
        remember(h);
    }

    /**
     * {@link #lock()} validated as {@code subclass} of this lock's class for this acquisition
     * (the kernel's {@code mutex_lock_nested}). Re-entering a held reentrant instance is not
     * validated, as for {@code lock()}. The same releasing {@code unlock()}.
     *
     * @param subclass 0..{@value LockMap#MAX_SUBCLASS}
     * @throws IllegalArgumentException if {@code subclass} is out of range
     * @throws PotentialDeadlockException under {@link ReportPolicy#THROW}, before blocking
     */
    public void lockNested(int subclass) {
        lockAnnotated(subclass, null);
    }

    /**
     * {@link #lock()} under a nest lock (the kernel's {@code mutex_lock_nest_lock}): while the
     * calling thread holds {@code nestLock}, any number of instances of this lock's class may be
     * taken (in an order the nest lock makes safe, e.g. sorted by address) without a
     * recursive-locking report and without one held-stack slot per instance.
     *
     * @param nestLock the outer lock, held by the caller (if not, that is reported as
     *     {@link LockdepReport.Kind#NEST_LOCK_NOT_HELD} and the lock is validated as by {@code lock()}); not null
     * @throws PotentialDeadlockException under {@link ReportPolicy#THROW}, before blocking
     */
    public void lockNestLock(ValidatedLock nestLock) {
        lockAnnotated(map.subclass(), java.util.Objects.requireNonNull(nestLock, "nestLock").map);
    }

    private void lockAnnotated(int subclass, @Nullable LockMap nest) {
        if (!enabled || nested()) {
            inner.lock();
            return;
        }
        validator.acquireNested(map, subclass, mode, nest);
        try {
            blockingLock();
        } catch (Throwable t) {
            validator.release(map);
            throw t;
        }
        Lockdep ld = lockdep;
        if (ld != null) {
            remember(ld.stack()); // the holder's own stack, as every acquisition leaves it (see ValidatedLock.unlock)
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (!enabled || nested()) {
            inner.lockInterruptibly();
            return;
        }
        HeldLocks h = record(false);
        try {
            inner.lockInterruptibly();
        } catch (Throwable t) {
            validator.release(map);
            throw t;
        }
        remember(h);
    }

    @Override
    public boolean tryLock() {
        if (!enabled || nested()) {
            return inner.tryLock();
        }
        return inner.tryLock() && recordTrylock();
    }

    /**
     * Records a trylock that took the lock, after the fact; returns true. A throw from the
     * validator (a listener's Error, say) releases the lock first: a tryLock must not return
     * holding it, as lock() never does. Every throw in record() comes before the push, so there
     * is nothing to take back, and holder is not updated: left held, its stale value would send
     * unlock() to another thread's stack (ValidatedLock.unlock trusts it).
     */
    private boolean recordTrylock() {
        HeldLocks h;
        try {
            h = record(true);
        } catch (Throwable t) {
            inner.unlock();
            throw t;
        }
        remember(h);
        return true;
    }

    /**
     * {@inheritDoc}
     *
     * <p>A positive {@code time} can wait, so it is validated like {@link #lock()} (before
     * waiting; under {@link ReportPolicy#THROW} a deadlock throws instead). A {@code time} of
     * zero or less does not wait at all ({@link Lock#tryLock(long, TimeUnit)}'s contract), so it
     * is recorded as a trylock, after the fact, as {@link #tryLock()} is: held, adding no
     * dependencies (the kernel's validate_chain(): "trylock can be done in any order").
     */
    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (!enabled || nested()) {
            return inner.tryLock(time, unit);
        }
        if (time <= 0) {
            return inner.tryLock(time, unit) && recordTrylock();
        }
        HeldLocks h = record(false);
        boolean acquired = false;
        try {
            acquired = inner.tryLock(time, unit);
            return acquired;
        } finally {
            if (acquired) {
                remember(h);
            } else {
                validator.release(map);
            }
        }
    }
}
