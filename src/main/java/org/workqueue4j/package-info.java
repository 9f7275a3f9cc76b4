/**
 * The workqueue API: the Linux kernel's concurrency-managed workqueue for Java.
 *
 * <p>A {@link org.workqueue4j.WorkQueues} runtime owns the worker pools; a
 * {@link org.workqueue4j.WorkQueue} built from it queues {@link org.workqueue4j.Work} and
 * {@link org.workqueue4j.DelayedWork} items. Every type states its thread-safety in its own
 * documentation. Nullness: this package is {@code @NullMarked}; a parameter or result that may be
 * null says so with {@code @Nullable}.
 */
@NullMarked
package org.workqueue4j;

import org.jspecify.annotations.NullMarked;
