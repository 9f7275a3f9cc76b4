package org.workqueue4j.internal;

import java.util.concurrent.CompletableFuture;

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
    /** Completed when the barrier runs, for flushWorkAsync; else null. Set before it is linked. */
    private CompletableFuture<Boolean> async;
    /** Set before the barrier is published on a list (under the pool lock); read by its flusher only. */
    private WqRuntime runtime;

    Barrier(String target) {
        this.target = target;
    }

    @Override
    public String name() {
        return "BAR(" + target + ")";
    }

    /** The hung-waiter registry of the runtime this barrier was queued in. */
    private HungWaits hungWaits() {
        return runtime.hungWaits();
    }

    @Override
    public org.workqueue4j.lockdep.LockMap lockMap() {
        return null;
    }

    @Override
    protected void execute() {
        done.countDown();
        if (async != null) {
            async.complete(Boolean.TRUE); // on the worker, no pool lock held: dependents run here
        }
    }

    /**
     * Waits for the last queueing instance of {@code n} to finish by linking a barrier behind
     * it (kernel start_flush_work + insert_wq_barrier).
     *
     * @return true if it waited, false if the item was idle
     */
    public static boolean flushWork(WorkNode n, boolean fromCancel) {
        return await(n, startFlushWork(n, fromCancel, false, null), fromCancel);
    }

    /**
     * Refuses a cancel-and-wait ({@code cancelSync}, {@code disableSync}) called from the item's
     * own function before it changes anything: the wait is first recorded on the item's map (a
     * recursive-locking report, as the kernel gives; under THROW that report is thrown instead),
     * then {@link IllegalStateException} is thrown. A no-op on any other thread. Only the calling
     * worker ever sets itself as the item's current work, so reading it needs no lock.
     *
     * @param n the item
     * @param operation the operation's name, for the message
     * @throws IllegalStateException if the calling worker is running {@code n}
     */
    public static void refuseSelfCancelWait(WorkNode n, String operation) {
        Worker self = Worker.current();
        if (self == null || self.currentWork != n) {
            return;
        }
        WorkerPool pool = self.pool;
        LockDependencyValidator v = pool == null ? null : pool.runtime.validator();
        if (v != null && v.isEnabled()) {
            LockMap workMap = n.lockMap();
            if (workMap != null) {
                v.touch(workMap); // record first (recursive locking on the item); may throw under THROW
            }
        }
        throw new IllegalStateException("work '" + n.name() + "' cannot " + operation
                + " itself from its own function: it would wait for itself (nothing was changed)");
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
        return await(n, startFlushWork(n, false, true, null), false);
    }

    /** {@link #flushQueuedInstance}, giving up the wait when interrupted (see {@link #flushWorkInterruptibly}). */
    public static boolean flushQueuedInstanceInterruptibly(WorkNode n) throws InterruptedException {
        return awaitInterruptibly(n, startFlushWork(n, false, true, null));
    }

    private static boolean await(WorkNode n, Barrier b, boolean fromCancel) {
        if (b == null) {
            return false;
        }
        HungWaits.Waiter waiting = b.hungWaits().begin(fromCancel ? "cancel_work_sync" : "flush_work", null, n);
        Object ev = WorkEvents.beginFlush();
        try {
            b.done.await();
        } finally {
            b.hungWaits().end(waiting);
        }
        WorkEvents.commitFlush(ev, fromCancel ? "cancel_work_sync" : "flush_work", n.name());
        return true;
    }

    /**
     * {@link #flushWork(WorkNode, boolean) flushWork(n, false)}, giving up the wait when
     * interrupted. The barrier stays queued behind the item and completes, unobserved, when it
     * runs: the item and its queue are unaffected.
     */
    public static boolean flushWorkInterruptibly(WorkNode n) throws InterruptedException {
        return awaitInterruptibly(n, startFlushWork(n, false, false, null));
    }

    private static boolean awaitInterruptibly(WorkNode n, Barrier b) throws InterruptedException {
        if (b == null) {
            return false;
        }
        HungWaits.Waiter waiting = b.hungWaits().begin("flush_work", null, n);
        Object ev = WorkEvents.beginFlush();
        try {
            b.done.awaitInterruptibly();
        } finally {
            b.hungWaits().end(waiting);
            WorkEvents.commitFlush(ev, "flush_work", n.name());
        }
        return true;
    }

    /**
     * Waits for the last queueing instance of {@code n} until {@code deadline}
     * (System.nanoTime()); giving up leaves the barrier to complete unobserved.
     *
     * @return true if the instance finished (or the item was idle), false if the deadline passed
     * @throws InterruptedException if interrupted while waiting
     */
    public static boolean flushWorkUntil(WorkNode n, boolean fromCancel, long deadline) throws InterruptedException {
        Barrier b = startFlushWork(n, fromCancel, false, null);
        if (b == null) {
            return true;
        }
        HungWaits.Waiter waiting = b.hungWaits().begin(fromCancel ? "cancel_work_sync" : "flush_work", null, n);
        Object ev = WorkEvents.beginFlush();
        try {
            return b.done.awaitUntil(deadline);
        } finally {
            b.hungWaits().end(waiting);
            WorkEvents.commitFlush(ev, fromCancel ? "cancel_work_sync" : "flush_work", n.name());
        }
    }

    /**
     * The non-blocking {@link #flushWork}: links a barrier that completes the returned future
     * (with true) when it runs; a future completed with false if the item is idle. No thread
     * waits, so nothing is annotated for the validator, and a call from the item's own function
     * is allowed (the future completes once that run has finished).
     *
     * @param n the item to flush
     * @return the future: true once the instance finished, false (complete) if it was idle
     */
    public static CompletableFuture<Boolean> flushWorkAsync(WorkNode n) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        if (startFlushWork(n, false, false, f) == null) {
            f.complete(Boolean.FALSE);
        }
        return f;
    }

    /**
     * Links a barrier behind {@code n} (or its running instance); null if there is nothing to
     * wait for, or (with {@code queuedInstance}) if the item is pending but on no list. With {@code async} non-null the barrier completes it, and the caller does not
     * wait: no annotation, no self-wait refusal.
     */
    private static Barrier startFlushWork(WorkNode n, boolean fromCancel, boolean queuedInstance,
                                          CompletableFuture<Boolean> async) {
        LockDependencyValidator v = null;
        LockMap workMap = null;
        Barrier b = null;
        WorkqueueStruct target = null;
        WorkerPool pool;
        for (int spins = 0; ; spins++) {
            pool = n.poolAcquire();
            if (pool == null && !inTransit(n)) {
                return null; // never queued: no runtime, nothing to wait for
            }
            if (pool != null && v == null) {
                v = pool.runtime.validator();
                workMap = v.isEnabled() && async == null ? n.lockMap() : null;
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
                boolean settled = false;
                try {
                    pool.landInboxesFor(n); // a node in a pwq's lock-free inbox lands, then is linked behind
                    PoolWorkqueue p = n.pwq;
                    settled = p != null ? p.pool == pool : n.runningWorker != null || !inTransit(n);
                } finally {
                    if (!settled) { // also on an Error: the lock is kept only on the way to the try below
                        pool.lock.unlock();
                    }
                }
                if (settled) {
                    break;
                }
            }
            if (spins > 64) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
        boolean self = false;
        try {
            PoolWorkqueue pwq = n.pwq;
            Worker running = n.runningWorker;
            if (running != null && running == Worker.current() && async == null) {
                self = true; // refused below, after the pool lock is released and the wait recorded
            } else if (pwq == null && queuedInstance && n.isPendingBit()) {
                return null; // armed, or landing: the caller fires the timer and looks again
            } else if (pwq != null) {
                // Every call that can throw (the allocation, setPool) comes before the call-free list
                // insert, the commit point; only plain writes follow it (an Error leaves nothing half-linked).
                target = pwq.wq;
                b = new Barrier(n.name());
                b.setPool(pool);
                b.runtime = pool.runtime;
                b.async = async;
                b.color = n.color;
                b.flags = WorkNode.INACTIVE | (n.flags & WorkNode.LINKED);
                b.pwq = pwq;
                n.list.addAfter(n, b);
                n.flags |= WorkNode.LINKED;
                pwq.nrInFlight[b.color]++;
            } else if (running != null && running.pool == pool) {
                target = running.currentPwq.wq;
                b = new Barrier(n.name());
                b.setPool(pool);
                b.runtime = pool.runtime;
                b.async = async;
                b.color = running.currentColor;
                b.flags = WorkNode.INACTIVE;
                b.pwq = running.currentPwq;
                running.scheduled.addFirst(b);
                b.pwq.nrInFlight[b.color]++;
            } else {
                return null;
            }
        } finally {
            pool.lock.unlock();
        }
        if (self) {
            if (workMap != null && fromCancel) {
                v.touch(workMap); // record first (recursive locking on the item), as flush does; may throw under THROW
            }
            throw new IllegalStateException("work '" + n.name() + "' cannot " + (fromCancel ? "cancel-and-wait for" : "flush")
                    + " itself: it would wait for itself");
        }
        if (workMap != null) {
            if (fromCancel) {
                v.touch(workMap); // cancel path: only the work's map, only for a running item
            } else if ((target.maxActive() == 1 || target.rescuer != null) && target.annotateFlush()) {
                // Kernel start_flush_work: saved_max_active == 1 || wq->rescuer, with the current
                // limit. One active slot (ordered or not) or a stalled rescuer: an earlier item blocks ours.
                v.touch(target.lockMap);
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
