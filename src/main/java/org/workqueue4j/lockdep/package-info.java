/**
 * The lock dependency validator: the Linux kernel's lockdep for Java.
 *
 * <p>{@link org.workqueue4j.lockdep.Lockdep} learns, per lock class
 * ({@link org.workqueue4j.lockdep.LockClassKey} plus subclass), which locks are taken while
 * which others are held, and reports the first acquisition that could deadlock, with the
 * kernel's report layout ({@link org.workqueue4j.lockdep.LockdepReport}). Locks take part
 * through {@link org.workqueue4j.lockdep.ValidatedLock},
 * {@link org.workqueue4j.lockdep.ValidatedReadWriteLock}, or by calling
 * {@link org.workqueue4j.lockdep.LockDependencyValidator} directly with a
 * {@link org.workqueue4j.lockdep.LockMap}, which also serves as a pseudo-lock around waits.
 * {@link org.workqueue4j.lockdep.Selftest} runs the kernel's boot-time locking selftest.
 *
 * <p>Nullness: this package is {@code @NullMarked}; a parameter or result that may be null says so
 * with {@code @Nullable}.
 */
@NullMarked
package org.workqueue4j.lockdep;

import org.jspecify.annotations.NullMarked;
