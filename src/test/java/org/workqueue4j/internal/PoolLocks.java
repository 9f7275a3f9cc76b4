package org.workqueue4j.internal;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;

/** Test access to who waits for a pool lock (PoolLock waits on its own monitor). */
final class PoolLocks {
    private PoolLocks() {
    }

    /** True if {@code t} waits for, or blocks entering, {@code lock}'s monitor (PoolLock's slow path). */
    static boolean waitsOn(PoolLock lock, Thread t) {
        Thread.State s = t.getState();
        if (s != Thread.State.WAITING && s != Thread.State.BLOCKED) {
            return false;
        }
        ThreadInfo ti = ManagementFactory.getThreadMXBean().getThreadInfo(t.getId());
        LockInfo li = ti == null ? null : ti.getLockInfo();
        return li != null && li.getIdentityHashCode() == System.identityHashCode(lock)
                && li.getClassName().equals(PoolLock.class.getName());
    }
}
