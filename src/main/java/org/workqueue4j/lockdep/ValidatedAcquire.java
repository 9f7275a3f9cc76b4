package org.workqueue4j.lockdep;

import org.jspecify.annotations.Nullable;

import java.util.concurrent.TimeUnit;
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

    ValidatedAcquire(LockDependencyValidator validator, LockMap map, AcquireMode mode, Lock inner) {
        this.validator = validator;
        this.map = map;
        this.mode = mode;
        this.inner = inner;
        this.enabled = validator.isEnabled();
        this.lockStat = enabled && validator.lockStatEnabled();
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

    @Override
    public void lock() {
        if (!enabled || nested()) {
            inner.lock();
            return;
        }
        validator.acquire(map, mode, false);
        try {
            blockingLock();
        } catch (Throwable t) {
            validator.release(map);
            throw t;
        }
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
     * @param nestLock the outer lock, held by the caller; not null
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
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (!enabled || nested()) {
            inner.lockInterruptibly();
            return;
        }
        validator.acquire(map, mode, false);
        try {
            inner.lockInterruptibly();
        } catch (Throwable t) {
            validator.release(map);
            throw t;
        }
    }

    @Override
    public boolean tryLock() {
        if (!enabled || nested()) {
            return inner.tryLock();
        }
        if (!inner.tryLock()) {
            return false;
        }
        validator.acquire(map, mode, true);
        return true;
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (!enabled || nested()) {
            return inner.tryLock(time, unit);
        }
        validator.acquire(map, mode, false);
        boolean acquired = false;
        try {
            acquired = inner.tryLock(time, unit);
            return acquired;
        } finally {
            if (!acquired) {
                validator.release(map);
            }
        }
    }
}
