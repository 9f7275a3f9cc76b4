package org.workqueue4j.lockdep;

/**
 * What {@link LockDependencyValidator#assertHeld(LockMap, LockAssertion)} checks, the kernel's
 * {@code lockdep_assert_held*()} family.
 */
public enum LockAssertion {
    /** The calling thread holds the lock, in any mode ({@code lockdep_assert_held}). */
    HELD,
    /** The calling thread does not hold the lock ({@code lockdep_assert_not_held}). */
    NOT_HELD,
    /** The calling thread holds the lock for reading ({@code lockdep_assert_held_read}). */
    HELD_READ,
    /** The calling thread holds the lock exclusively ({@code lockdep_assert_held_write}). */
    HELD_WRITE
}
