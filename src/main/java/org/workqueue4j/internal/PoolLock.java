package org.workqueue4j.internal;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A worker pool's lock (kernel {@code pool->lock}): non-reentrant mutual exclusion that never
 * allocates, not even when contended. A {@code ReentrantLock} allocates a wait node each time a
 * thread has to queue on it; on the queue, run and flush paths that was the one allocation left
 * per batch of items. Here a thread that cannot take the lock spins briefly, then waits on this
 * object's monitor (the JVM's monitors live outside the Java heap).
 *
 * <p>Protocol: the state (this object's {@code AtomicInteger} value) is 0 (free) or 1 (held),
 * taken by a CAS ({@code compareAndSet}: volatile read and write) and released by a volatile
 * write ({@code set}). An {@code AtomicInteger} rather than a {@code VarHandle} field: it is in
 * the JDK's CDS archive and its CAS is an intrinsic, where a {@code VarHandle} call site is linked
 * on its first call, a few tenths of a millisecond on a cold JVM, on the first item's path. A
 * thread about to wait counts itself in {@link #waiters} (a volatile write under the monitor)
 * and then tries the lock again before it waits; {@link #unlock} writes the state
 * and then reads {@link #waiters}. Volatile accesses are sequentially consistent, so either the
 * waiter's retry sees the lock free or the unlocker sees the waiter, and then notifies under the
 * monitor, which the waiter holds until {@code wait()} releases it: no wake-up is lost. Each
 * unlock that sees a waiter wakes one; a woken thread that loses the lock to another waits again,
 * and that thread's unlock wakes the next. Not fair (nor is the default {@code ReentrantLock}).
 *
 * <p>Uninterruptible, as {@code ReentrantLock.lock()}: an interrupt while waiting is kept and set
 * again once the lock is taken. Taking the lock twice on one thread, or releasing it from a thread
 * that does not hold it, throws (the engine never does either; a {@code ReentrantLock} would have
 * let the first pass silently). A virtual thread that waits here on JDK 21 to 23 pins its carrier
 * while it waits (monitors); the sections it waits for are short and take no other lock.
 */
public final class PoolLock extends AtomicInteger {
    private static final long serialVersionUID = 1L;

    /** Threads counted in to wait on the monitor; written under it, read by unlock without it. */
    private transient volatile int waiters;
    /**
     * The holder; written by the holder only (after taking the lock, before releasing it), read
     * for the two misuse checks by the thread that asks, which sees its own writes: plain.
     */
    private transient Thread owner;

    /** Takes the lock if it is free; never waits. */
    public boolean tryLock() {
        Thread me = Thread.currentThread(); // before the CAS: no call between taking the lock and naming its owner
        if (get() == 0 && compareAndSet(0, 1)) { // volatile read, then CAS (acquire)
            owner = me;
            return true;
        }
        return false;
    }

    /** Takes the lock, waiting (uninterruptibly) as long as it takes. */
    public void lock() {
        if (!tryLock()) {
            lockSlow();
        }
    }

    private void lockSlow() {
        Thread me = Thread.currentThread();
        if (owner == me) {
            throw new IllegalStateException("pool lock taken twice by " + me.getName() + " (it is not reentrant)");
        }
        for (int i = 0; i < SPINS; i++) {
            Thread.onSpinWait();
            if (tryLock()) {
                return;
            }
        }
        boolean interrupted = false;
        synchronized (this) {
            waiters++; // volatile write, then the retry below reads state: see the class comment
            try {
                while (!tryLock()) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } finally {
                waiters--;
            }
        }
        if (interrupted) {
            me.interrupt();
        }
    }

    /** Releases the lock; wakes one waiting thread, if any. */
    public void unlock() {
        if (owner != Thread.currentThread()) {
            throw new IllegalMonitorStateException("pool lock released by " + Thread.currentThread().getName()
                    + ", which does not hold it");
        }
        owner = null;
        set(0); // volatile write (release), then the volatile read of waiters: see the class comment
        if (waiters != 0) {
            synchronized (this) {
                notify();
            }
        }
    }

    /** {@return true if the calling thread holds this lock} */
    public boolean isHeldByCurrentThread() {
        return owner == Thread.currentThread();
    }

    /** {@return true if some thread holds this lock (a snapshot, for diagnostics and tests)} */
    public boolean isLocked() {
        return get() != 0;
    }

    /** Spins (with {@code Thread.onSpinWait}) before a thread that found the lock held waits. */
    private static final int SPINS = 64;
}
