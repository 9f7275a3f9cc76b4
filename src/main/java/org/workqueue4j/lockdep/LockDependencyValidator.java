package org.workqueue4j.lockdep;

import org.jspecify.annotations.Nullable;

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
// JSpecify is optional at run time (requires static): its @Nullable in this API is not re-exported on purpose.
@SuppressWarnings("exports")
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
     * A blocking acquire with the kernel's nesting annotations: {@code subclass} for this
     * acquisition only ({@code mutex_lock_nested}), and a {@code nestLock}
     * ({@code mutex_lock_nest_lock}): while the calling thread holds {@code nestLock}, further
     * instances of the same class taken under it are not recursive locking and share one held
     * entry (so sorted locking of any number of instances validates, with no subclass per
     * instance and no held-depth limit). A {@code nestLock} the thread does not hold is reported
     * ({@link LockdepReport.Kind#NEST_LOCK_NOT_HELD}, the kernel's "Nested lock was not taken";
     * never thrown) and otherwise ignored.
     * By default a plain {@link #acquire(LockMap, AcquireMode, boolean)}.
     *
     * @param map the lock instance
     * @param subclass 0..{@value LockMap#MAX_SUBCLASS}, this acquisition's subclass
     * @param mode exclusive, reader or recursive reader
     * @param nestLock the outer lock that serializes instances of this class, or null
     * @throws PotentialDeadlockException under {@link ReportPolicy#THROW}, before the caller blocks
     * @throws IllegalArgumentException if the subclass is out of range
     */
    default void acquireNested(LockMap map, int subclass, AcquireMode mode, @Nullable LockMap nestLock) {
        acquire(map, mode, false);
    }

    /**
     * Returns whether this validator collects lock_stat statistics; validated locks then time
     * their contended acquisitions. False by default.
     *
     * @return true if {@link #contended} wants to be called
     */
    default boolean lockStatEnabled() {
        return false;
    }

    /**
     * lock_stat: a blocking acquisition of {@code map} found the lock taken and waited
     * {@code waitNanos}. Called by validated locks only when {@link #lockStatEnabled()}. No-op
     * by default.
     *
     * @param map the lock instance
     * @param waitNanos how long it waited
     */
    default void contended(LockMap map, long waitNanos) {
    }

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
     * The kernel's {@code lockdep_assert_held*()}: checks what the calling thread holds. A failed
     * assertion is reported ({@link LockdepReport.Kind#ASSERTION}) and, under
     * {@link ReportPolicy#THROW}, thrown as an {@link IllegalStateException}. Silent once the
     * validator has stopped validating (as the kernel's, after {@code debug_locks_off()}), and
     * never stops it (under {@link ReportPolicy#WARN_ONCE} too: the kernel's is a
     * {@code WARN_ON}); a no-op for the disabled validator. An instance merged into one held
     * entry under a nest lock is held exactly while it is (the kernel matches such an entry by
     * class).
     *
     * @param map the lock instance
     * @param expected what must be true
     * @throws IllegalStateException under THROW, if the assertion fails
     */
    default void assertHeld(LockMap map, LockAssertion expected) {
    }

    /**
     * Returns whether the calling thread holds {@code map} (the kernel's {@code lockdep_is_held()}).
     *
     * @param map the lock instance; not null
     * @return whether the calling thread holds {@code map}
     */
    boolean isHeld(LockMap map);

    /**
     * The worker's check after a work item's function returned, while it still holds the item's
     * map {@code base} (the kernel's "BUG: workqueue leaked lock or atomic" in
     * {@code process_one_work}): every lock the thread acquired after {@code base} and still
     * holds is reported (item, queue, lock and where it was taken), then dropped from the
     * thread's held stack and released: a {@link ValidatedLock} or
     * {@link ValidatedReadWriteLock} is fully unlocked (every hold, and every instance merged
     * into one held entry under a nest lock) by the worker, a bare
     * {@link LockMap} is forgotten. So the next item on that worker starts with no lock held and
     * other threads are not blocked forever; the critical section the item left open is the
     * bug the report names. No-op by default.
     *
     * @param base the item's map, held by the calling worker
     * @param function the item's name, for the report
     * @param queue the queue's name, for the report
     */
    default void checkLeaks(LockMap base, String function, String queue) {
    }

    /**
     * Keeps the calling thread's held locks as a latent wait on {@code map}, instead of
     * recording the wait now ({@code FlushAnnotation.DEFER_UNTIL_USED}, for a queue that was
     * never used). Returns null when there is nothing to keep (no lock held, or validation
     * off). Never throws a {@link PotentialDeadlockException}. Null by default.
     *
     * @param map the queue's map
     * @return the latent wait, or null
     */
    default @Nullable LatentWait deferWait(LockMap map) {
        return null;
    }

    /**
     * Adds latent waits on {@code map} to the graph with the full check, as if each waiter had
     * acquired {@code map} on top of the locks it held. A problem is reported with the original
     * waiter's thread and stack, marked deferred; it is never thrown, not even under
     * {@link ReportPolicy#THROW}: the wait is in the past, and the thread adding it (the first
     * queuer) is not the one that could block. No-op by default.
     *
     * @param map the queue's map
     * @param waits the latent waits, oldest first
     */
    default void addLatentWaits(LockMap map, java.util.List<LatentWait> waits) {
    }

    /**
     * Counts latent waits dropped unrecorded (their queue was destroyed unused, or the per-queue
     * bound was reached). No-op by default.
     *
     * @param count how many
     */
    default void dropLatentWaits(int count) {
    }

    /**
     * Frees the lock classes of {@code key} with their dependencies and chains (the kernel's
     * {@code lockdep_unregister_key()}). No-op by default.
     *
     * @param key the key whose classes to free
     */
    default void unregisterKey(LockClassKey key) {
    }

    /** {@return the no-op validator: near-zero cost, {@link #isEnabled()} is false} */
    static LockDependencyValidator disabled() {
        return DisabledValidator.INSTANCE;
    }
}
