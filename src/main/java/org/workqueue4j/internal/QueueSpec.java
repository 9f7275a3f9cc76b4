package org.workqueue4j.internal;

import org.workqueue4j.lockdep.LockClassKey;

/**
 * What the public builder decided about a new queue (kernel {@code alloc_workqueue} flags).
 *
 * @param lockClass the lock class of the queue's flush pseudo-lock, or null for one of its own
 */
public record QueueSpec(String name, boolean unbound, boolean ordered, boolean highPri, boolean cpuIntensive,
                        boolean memReclaim, boolean freezable, int maxActive, LockClassKey lockClass) {
}
