package org.workqueue4j.internal;

import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;

/**
 * The item {@code work.flush()} links behind its target (kernel {@code wq_barrier}): running it
 * completes the flusher's wait. It never counts toward max_active (always INACTIVE) but does
 * count in its colour's in-flight total, so queue flushes and drains wait for it too. The static
 * methods are the work-flush paths (kernel {@code __flush_work}, {@code start_flush_work},
 * {@code insert_wq_barrier}).
 */
public final class Barrier extends WorkNode {
    final Completion done = new Completion(1);
    private final String target;

    Barrier(String target) {
        this.target = target;
    }

    @Override
    public String name() {
        return "BAR(" + target + ")";
    }

    @Override
    public org.workqueue4j.lockdep.LockMap lockMap() {
        return null;
    }

    @Override
    protected void execute() {
        done.countDown();
    }

    /**
     * Waits for the last queueing instance of {@code n} to finish by linking a barrier behind
     * it (kernel start_flush_work + insert_wq_barrier).
     *
     * @return true if it waited, false if the item was idle
     */
    public static boolean flushWork(WorkNode n, boolean fromCancel) {
        return await(n, startFlushWork(n, fromCancel, false), fromCancel);
    }

    /**
     * {@link #flushWork(WorkNode, boolean) flushWork(n, false)}, giving up the wait when
     * interrupted. The barrier stays queued behind the item and completes, unobserved, when it
     * runs: the item and its queue are unaffected.
     */
    public static boolean flushWorkInterruptibly(WorkNode n) throws InterruptedException {
        return awaitInterruptibly(n, startFlushWork(n, false, false));
    }

    /**
     * The delayed-work flush step: as {@link #flushWork(WorkNode, boolean) flushWork(n, false)},
     * but while the item is pending and on no list (its timer armed, or an instance between
     * the timer and its queue: fired by another flusher, or being re-armed) it links nothing
     * and returns false, even if an older instance runs: waiting for that one alone would
     * return before the pending instance, armed before the caller's flush, has run. The caller
     * fires the timer and asks again.
     *
     * @return true if it waited; false if the item is idle, or pending and not yet on a list
     */
    public static boolean flushQueuedInstance(WorkNode n) {
        return await(n, startFlushWork(n, false, true), false);
    }

    /** {@link #flushQueuedInstance}, giving up the wait when interrupted (see {@link #flushWorkInterruptibly}). */
    public static boolean flushQueuedInstanceInterruptibly(WorkNode n) throws InterruptedException {
        return awaitInterruptibly(n, startFlushWork(n, false, true));
    }

    private static boolean await(WorkNode n, Barrier b, boolean fromCancel) {
        if (b == null) {
            return false;
        }
        WorkEvents.FlushWait ev = WorkEvents.beginFlush();
        b.done.await();
        WorkEvents.commitFlush(ev, fromCancel ? "cancel_work_sync" : "flush_work", n.name());
        return true;
    }

    private static boolean awaitInterruptibly(WorkNode n, Barrier b) throws InterruptedException {
        if (b == null) {
            return false;
        }
        WorkEvents.FlushWait ev = WorkEvents.beginFlush();
        try {
            b.done.awaitInterruptibly();
        } finally {
            WorkEvents.commitFlush(ev, "flush_work", n.name());
        }
        return true;
    }

    /**
     * Links a barrier behind {@code n} (or its running instance); null if there is nothing to
     * wait for, or (with {@code queuedInstance}) if the item is pending but on no list.
     */
    private static Barrier startFlushWork(WorkNode n, boolean fromCancel, boolean queuedInstance) {
        LockDependencyValidator v = null;
        LockMap workMap = null;
        Barrier b = null;
        WorkqueueStruct target;
        WorkerPool pool;
        for (int spins = 0; ; spins++) {
            pool = n.poolAcquire();
            if (pool == null && !inTransit(n)) {
                return null; // never queued: no runtime, nothing to wait for
            }
            if (pool != null && v == null) {
                v = pool.runtime.validator();
                workMap = v.isEnabled() ? n.lockMap() : null;
                if (workMap != null && !fromCancel) {
                    v.touch(workMap); // SPEC §5: even when idle, as kernels before ~6.9 did
                }
            }
            if (pool != null) {
                pool.lock.lock();
                // pwq and runningWorker are guarded by the lock of the pool the node is in. A node
                // requeued to another pool meanwhile shows a pwq of that pool: follow it there
                // (kernel start_flush_work checks pwq->pool == pool). A node in transit (PENDING
                // claimed, not yet on a list) is waited for: a caller whose own queue just
                // returned false expects this flush to wait for that instance.
                PoolWorkqueue p = n.pwq;
                boolean settled = p != null ? p.pool == pool : n.runningWorker != null || !inTransit(n);
                if (settled) {
                    break;
                }
                pool.lock.unlock();
            }
            if (spins > 64) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
        try {
            PoolWorkqueue pwq = n.pwq;
            Worker running = n.runningWorker;
            if (running != null && running == Worker.current()) {
                throw new IllegalStateException("work '" + n.name() + "' cannot flush itself: it would wait for itself");
            }
            if (pwq == null && queuedInstance && n.isPendingBit()) {
                return null; // armed, or landing: the caller fires the timer and looks again
            }
            if (pwq != null) {
                target = pwq.wq;
                b = new Barrier(n.name());
                b.color = n.color;
                b.flags = WorkNode.INACTIVE | (n.flags & WorkNode.LINKED);
                n.flags |= WorkNode.LINKED;
                b.pwq = pwq;
                pwq.nrInFlight[b.color]++;
                n.list.addAfter(n, b);
            } else if (running != null && running.pool == pool) {
                target = running.currentPwq.wq;
                b = new Barrier(n.name());
                b.color = running.currentColor;
                b.flags = WorkNode.INACTIVE;
                b.pwq = running.currentPwq;
                b.pwq.nrInFlight[b.color]++;
                running.scheduled.addFirst(b);
            } else {
                return null;
            }
            b.setPool(pool);
        } finally {
            pool.lock.unlock();
        }
        if (workMap != null) {
            if (fromCancel) {
                v.touch(workMap); // cancel path: only the work's map, only for a running item
            } else if ((target.ordered || target.memReclaim) && target.annotateFlush()) {
                v.touch(target.lockMap); // an earlier item, or a stalled rescuer, blocks ours
            }
        }
        return b;
    }

    /**
     * PENDING is claimed and no timer is armed: with the node on no list and not running (the
     * caller checks that under the pool lock), a queuer or a firing timer is between its claim
     * and its insert, a few instructions.
     */
    private static boolean inTransit(WorkNode n) {
        long s = n.state();
        return (s & WorkNode.PENDING) != 0 && (s & WorkNode.TIMER) == 0;
    }
}
