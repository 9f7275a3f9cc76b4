package org.workqueue4j.lockdep;

/**
 * The calls a lock (or a pseudo-lock around a wait) makes so that lock ordering can be
 * validated, modelled on the kernel's {@code lock_acquire()}/{@code lock_release()}.
 *
 * <p>Implementations: {@link Lockdep}, the dependency-graph validator, and {@link #disabled()},
 * a no-op. Locks built on this interface call {@link #isEnabled()} once per operation and skip
 * everything else when it is false.
 *
 * <p>Implementations must be thread-safe: every thread that takes a validated lock or waits calls
 * them; the calls of one thread describe that thread's own locks.
 */
public interface LockDependencyValidator {

    /** {@return false for the no-op validator; callers may then skip all other calls} */
    boolean isEnabled();

    /**
     * Records that the calling thread is about to acquire {@code map} (for a blocking acquire)
     * or has just acquired it (for a successful trylock), validating the dependency on every
     * lock the thread already holds.
     *
     * @param map the lock instance
     * @param mode exclusive, reader or recursive reader
     * @param trylock true for a successful non-blocking acquire: it is recorded as held but adds
     *     no dependencies, since a trylock cannot wait
     * @throws PotentialDeadlockException under {@link ReportPolicy#THROW}, before the caller
     *     blocks; the lock is then not recorded as held
     */
    void acquire(LockMap map, AcquireMode mode, boolean trylock);

    /**
     * Exclusive, blocking {@link #acquire(LockMap, AcquireMode, boolean)}.
     *
     * @param map the lock instance being acquired; not null
     */
    default void acquire(LockMap map) {
        acquire(map, AcquireMode.EXCLUSIVE, false);
    }

    /**
     * Records that the calling thread released {@code map} (the most recent acquisition of that
     * instance). Releasing a lock the thread does not hold is reported as misuse.
     *
     * @param map the lock instance being released; not null
     */
    void release(LockMap map);

    /**
     * Changes the calling thread's most recent hold of {@code map} from exclusive to the given
     * read mode without releasing it (the kernel's {@code lock_downgrade()}). No-op by default.
     *
     * @param map the lock instance held exclusively; not null
     * @param readMode {@link AcquireMode#READ} or {@link AcquireMode#RECURSIVE_READ}
     */
    default void downgrade(LockMap map, AcquireMode readMode) {
    }

    /**
     * Acquire and release at once, the kernel's {@code lock_map_acquire()} +
     * {@code lock_map_release()}: records "this thread waits for whoever holds {@code map}".
     *
     * @param map the lock (or pseudo-lock) waited for; not null
     */
    default void touch(LockMap map) {
        acquire(map);
        release(map);
    }

    /**
     * (Re-)initializes a lock instance. Initializing a lock that some thread currently holds is
     * reported as misuse.
     *
     * @param map the lock instance; not null
     */
    void initialize(LockMap map);

    /**
     * Returns whether the calling thread holds {@code map} (the kernel's {@code lockdep_is_held()}).
     *
     * @param map the lock instance; not null
     * @return whether the calling thread holds {@code map}
     */
    boolean isHeld(LockMap map);

    /** {@return the no-op validator: near-zero cost, {@link #isEnabled()} is false} */
    static LockDependencyValidator disabled() {
        return DisabledValidator.INSTANCE;
    }
}
