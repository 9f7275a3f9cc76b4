package org.workqueue4j.lockdep;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Lock} whose acquisitions are validated by a {@link LockDependencyValidator}; it wraps
 * a {@link ReentrantLock}.
 *
 * <p>Java decision (SPEC §5): re-acquiring the <em>same instance</em> while holding it is legal
 * for a reentrant lock (the default) and tells the validator nothing; only the outermost
 * {@code lock()}/{@code unlock()} are reported to it. Another instance of the same class is a
 * different matter: taking it while holding this one is "possible recursive locking" unless
 * the two have different subclasses. With {@link Builder#reentrant(boolean) reentrant(false)}
 * every acquisition is validated, so re-locking the same instance is reported too.
 *
 * <p>{@link #tryLock()}, and {@link #tryLock(long, TimeUnit)} with no time to wait (zero or
 * less: it does not wait at all), are recorded as trylocks (held, but add no dependencies; by
 * the holder of a non-reentrant lock they fail); {@link #tryLock(long, TimeUnit)} with a
 * positive time can wait and is validated like {@link #lock()} (by the holder of a
 * non-reentrant lock it is reported, then fails). With
 * {@link LockDependencyValidator#disabled()} each operation costs one predictable branch over
 * the plain {@code ReentrantLock}. Waiting on a {@link #newCondition() condition} is a
 * release and a re-acquisition for the validator, as in the kernel.
 *
 * <p>Thread-safe, as any {@link java.util.concurrent.locks.Lock}.
 */
public final class ValidatedLock extends ValidatedAcquire {

    private final ReentrantLock lock;
    private final boolean reentrant;

    /**
     * Creates a reentrant, non-fair validated lock.
     *
     * @param name instance name
     * @param key lock class
     * @param validator the validator, or {@link LockDependencyValidator#disabled()}
     */
    public ValidatedLock(String name, LockClassKey key, LockDependencyValidator validator) {
        this(new LockMap(name, key), validator, true, false);
    }

    private ValidatedLock(LockMap map, LockDependencyValidator validator, boolean reentrant, boolean fair) {
        this(map, Objects.requireNonNull(validator, "validator"), reentrant, new ReentrantLock(fair));
    }

    private ValidatedLock(LockMap map, LockDependencyValidator validator, boolean reentrant, ReentrantLock lock) {
        super(validator, map, AcquireMode.EXCLUSIVE, lock);
        this.reentrant = reentrant;
        this.lock = lock;
        map.leakRelease = () -> {
            while (lock.isHeldByCurrentThread()) {
                lock.unlock();
            }
        };
    }

    @Override
    boolean nested() {
        return reentrant && lock.isHeldByCurrentThread();
    }

    /**
     * {@inheritDoc}
     *
     * <p>With {@link Builder#reentrant(boolean) reentrant(false)}, a {@code tryLock()} by the
     * thread that holds this lock fails (returns false, nothing recorded), whatever the
     * validator: the lock is taken, and a trylock of a held mutex fails (the kernel's
     * {@code mutex_trylock()}, which lockdep does not check for recursion either). A blocking
     * re-lock ({@code lock()}, a timed {@code tryLock}) is validated and reported instead
     * ({@code lock()} then proceeds, held twice; a timed {@code tryLock} fails).
     */
    @Override
    public boolean tryLock() {
        if (!reentrant && lock.isHeldByCurrentThread()) {
            return false;
        }
        return super.tryLock();
    }

    /**
     * {@inheritDoc}
     *
     * <p>With {@link Builder#reentrant(boolean) reentrant(false)}, a {@code tryLock} by the
     * thread that holds this lock fails (after the interrupt check the {@link Lock} contract asks
     * for), nothing taken: with no time to wait (zero or less) as {@link #tryLock()} does; with
     * a positive time it is first validated like {@code lock()}, and so reported, then returns
     * false at once: no other thread can free a lock while its only holder waits for it. Before,
     * it re-entered the lock (held twice: the holder's one {@code unlock()} no longer freed it).
     */
    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (!reentrant && lock.isHeldByCurrentThread()) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (time > 0) {
                validateHopelessWait();
            }
            return false;
        }
        return super.tryLock(time, unit);
    }

    @Override
    boolean heldExclusively() {
        return lock.isHeldByCurrentThread();
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

    /** {@return whether the calling thread holds this lock} */
    public boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    @Override
    public void unlock() {
        if (!enabled) {
            try {
                lock.unlock();
            } catch (IllegalMonitorStateException e) { // off the fast path: only misuse gets here
                throw notHeld(e);
            }
            return;
        }
        // Read before releasing: if the calling thread holds the lock (else unlock() throws and
        // the value is not used), the holder's own stack (see ValidatedAcquire.holder).
        HeldLocks hint = holder;
        try {
            lock.unlock();
        } catch (IllegalMonitorStateException e) {
            validator.release(map); // reported: release of a lock this thread does not hold
            throw notHeld(e);
        }
        if (!reentrant || !lock.isHeldByCurrentThread()) { // the outermost hold was released
            recordRelease(hint);
        }
    }

    private IllegalMonitorStateException notHeld(@Nullable IllegalMonitorStateException cause) {
        IllegalMonitorStateException e = new IllegalMonitorStateException("lock '" + map.name() + "' is not held by thread '"
                + Thread.currentThread().getName() + "'; cannot release it");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    /**
     * Returns a condition of this lock. Waiting on it releases the lock and re-acquires it
     * before returning, as for {@link ReentrantLock#newCondition()}. The validator sees the
     * same: a release before waiting and, once the lock is re-taken (also on timeout or
     * interrupt), an acquisition validated against the locks the thread still holds, as the
     * kernel's {@code wait_event_lock_irq()} (unlock, schedule, lock). Taking this lock's
     * condition while holding a lock taken after it thus records that lock -&gt; this one.
     *
     * @return a new condition bound to this lock
     */
    @Override
    public Condition newCondition() {
        return holderCondition(lock.newCondition());
    }

    @Override
    public String toString() {
        return "ValidatedLock[" + map + ", " + lock + "]";
    }

    /**
     * Options for a {@link ValidatedLock}.
     *
     * <p>Not thread-safe: a builder is meant for one thread; the object it builds is thread-safe.
     */
    public static final class Builder {
        private final String name;
        private final LockClassKey key;
        private final LockDependencyValidator validator;
        private boolean reentrant = true;
        private boolean fair;
        private int subclass;

        private Builder(String name, LockClassKey key, LockDependencyValidator validator) {
            this.name = name;
            this.key = key;
            this.validator = validator;
        }

        /**
         * Whether re-locking the same instance is legal (default true).
         *
         * @param reentrant true to allow re-locking by the holder
         * @return this builder
         */
        public Builder reentrant(boolean reentrant) {
            this.reentrant = reentrant;
            return this;
        }

        /**
         * Whether the underlying ReentrantLock is fair (default false).
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
        public ValidatedLock build() {
            return new ValidatedLock(new LockMap(name, key, subclass), validator, reentrant, fair);
        }
    }
}
