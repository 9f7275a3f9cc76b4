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
 *
 * <p>A barrier linked behind a pending instance outlives that instance's removal: when
 * {@link Pending#grab} takes the instance back (cancel, or a {@code modDelayed} re-arm) the
 * barrier is marked {@linkplain #TARGET_TAKEN target taken} and, if an older instance of the
 * item runs in the same pool, moved behind that run ({@link #releaseLinked}). So a flush never
 * ends before the instance that ran when it began, and a delayed-work flush whose instance was
 * re-armed knows to flush again.
 */
public final class Barrier extends WorkNode {
    /** {@link #flushQueuedInstance} and its variants: nothing was linked (idle, or pending on no list). */
    public static final int NOT_LINKED = 0;
    /** The instance the barrier was linked behind (or the running one) has finished. */
    public static final int FINISHED = 1;
    /**
     * The barrier ran, but the pending instance it was linked behind had been taken back first:
     * cancelled (finished, for a flush) or re-armed by {@code modDelayed} (not yet run: the
     * delayed-work flush looks again).
     */
    public static final int TARGET_TAKEN = 2;
    /** The deadline passed before the barrier ran. */
    public static final int TIMED_OUT = 3;

    final Completion done = new Completion(1);
    private final String target;
    /**
     * Set by {@link Pending#grab} under the pool lock when the pending instance this barrier was
     * linked behind is taken back; read by its flusher after {@link #done} (whose count-down
     * follows the worker's dequeue under the same lock) or by {@link #execute} on the worker
     * that dequeued it under that lock: a plain field, ordered by the lock and the completion.
     */
    private boolean targetTaken;
    /** With {@link #async}: run instead of completing it when the target was taken back. */
    private Runnable retry;
    /**
     * With {@link #retry}: the item flushed. Its retry also runs when another thread has an
     * earlier instance of it off the timer and not yet reported (WorkNode.firedElsewhere): this
     * barrier's end says nothing about that report. Set before the barrier is linked.
     */
    private WorkNode retryTarget;
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
        CompletableFuture<Boolean> f = async;
        if (f == null) {
            // A blocking flusher's barrier: its worker wakes the flusher once the barrier has
            // left its colour's in-flight count (finishBlocking), so that a queue flush made
            // right after Work.flush() returned never finds the finished round one short.
            return;
        }
        done.countDown();
        Runnable again = retry;
        if (again != null && (targetTaken || retryTarget.firedElsewhere())) {
            try {
                again.run(); // on the worker, no engine lock held: fires the timer, links a new barrier
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        } else {
            f.complete(Boolean.TRUE); // on the worker, no pool lock held: dependents run here
        }
    }

    @Override
    void accounted(Worker w) {
        w.deferBarrier(this);
    }

    /**
     * Wakes a blocking flusher (an async barrier completed its future when it ran). Called by
     * the worker that ran this barrier, after the barrier's in-flight count dropped and the pool
     * lock was released (Worker.signalFlushers); the count-down is a volatile decrement, so the
     * flusher's reads of {@link #targetTaken} (written under that lock) are ordered before it.
     */
    void finishBlocking() {
        if (async == null) {
            done.countDown();
        }
    }

    /**
     * The pending instance {@code n} is being taken back (kernel try_to_grab_pending) while
     * barriers are linked behind it; called by {@link Pending#grab} under {@code pool}'s lock with
     * {@code n} on the worklist. Each barrier of the chain is marked as having lost its target. If
     * an older instance of {@code n} runs in this pool, the barriers move to the head of that
     * worker's scheduled list (as {@link #startFlushWork} puts a barrier for a running item) and
     * run after it; otherwise they stay on the worklist and run on their own.
     *
     * @return true if the barriers moved to the running instance's worker
     */
    static boolean releaseLinked(WorkNode n, WorkerPool pool) {
        Worker running = n.runningWorker;
        boolean toWorker = running != null && running.pool == pool;
        WorkList from = n.list;
        WorkNode anchor = null;
        WorkNode cur = n;
        while ((cur.flags & WorkNode.LINKED) != 0 && cur.next instanceof Barrier) {
            Barrier b = (Barrier) cur.next;
            b.targetTaken = true;
            if (toWorker) {
                boolean more = (b.flags & WorkNode.LINKED) != 0;
                from.remove(b); // call-free list surgery under the pool lock: nothing here can throw
                b.flags = WorkNode.INACTIVE;
                if (anchor == null) {
                    running.scheduled.addFirst(b);
                } else {
                    running.scheduled.addAfter(anchor, b);
                }
                anchor = b;
                if (!more) {
                    break;
                }
                // cur stays n: its next is now the following barrier of the chain
            } else {
                cur = b;
            }
        }
        if (toWorker) {
            n.flags &= ~WorkNode.LINKED;
        }
        return toWorker;
    }

    /**
     * Waits for the last queueing instance of {@code n} to finish by linking a barrier behind
     * it (kernel start_flush_work + insert_wq_barrier).
     *
     * @return true if it waited, false if the item was idle
     */
    public static boolean flushWork(WorkNode n, boolean fromCancel) {
        return await(n, startFlushWork(n, fromCancel, ANY_INSTANCE, null, null, true), fromCancel);
    }

    /**
     * Refuses a cancel-and-wait ({@code cancelSync}, {@code disableSync}), or a delayed-work flush
     * (which fires the timer before it links), called from the item's own function before it
     * changes anything: the wait is first recorded on the item's map (a
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
                + " itself from its own function (or from the handler of its failure, the last part of its run):"
                + " it would wait for itself (nothing was changed)");
    }

    /**
     * The delayed-work flush step: as {@link #flushWork(WorkNode, boolean) flushWork(n, false)},
     * but while the item is pending and on no list (its timer armed, or an instance between
     * the timer and its queue: fired by another flusher, or being re-armed) it links nothing
     * and returns false, even if an older instance runs: waiting for that one alone would
     * return before the pending instance, armed before the caller's flush, has run. The caller
     * fires the timer and asks again.
     *
     * <p>If the pending instance the barrier was linked behind is taken back while the caller
     * waits, the barrier still runs (after the older instance, if one runs) and the answer is
     * {@link #TARGET_TAKEN}: the instance was cancelled, or re-armed, and the caller looks again.
     *
     * <p>{@code runs} is the item's {@link WorkNode#runsStarted} read at the caller's call. Once
     * a run has begun since, an instance pending on no list is a later one (armed by that run,
     * say): it is not waited for, and the step links behind the running instance, or returns
     * {@link #NOT_LINKED} if none runs, as {@link #flushWork} does.
     *
     * @return {@link #FINISHED} if it waited and the instance finished, {@link #TARGET_TAKEN} if
     *         it waited and the instance was taken back, {@link #NOT_LINKED} if the item is idle,
     *         or pending and not yet on a list
     */
    public static int flushQueuedInstance(WorkNode n, int runs) {
        Barrier b = startFlushWork(n, false, runs, null, null, true);
        return await(n, b, false) ? b.outcome() : NOT_LINKED;
    }

    /** {@link #flushQueuedInstance}, giving up the wait when interrupted (see {@link #flushWorkInterruptibly}). */
    public static int flushQueuedInstanceInterruptibly(WorkNode n, int runs) throws InterruptedException {
        Barrier b = startFlushWork(n, false, runs, null, null, true);
        return awaitInterruptibly(n, b) ? b.outcome() : NOT_LINKED;
    }

    /**
     * {@link #flushQueuedInstance} until {@code deadline} (System.nanoTime()); giving up leaves
     * the barrier to complete unobserved.
     *
     * @return {@link #NOT_LINKED}, {@link #FINISHED}, {@link #TARGET_TAKEN} or {@link #TIMED_OUT}
     * @throws InterruptedException if interrupted while waiting
     */
    public static int flushQueuedInstanceUntil(WorkNode n, int runs, long deadline) throws InterruptedException {
        Barrier b = startFlushWork(n, false, runs, null, null, Blocking.timeLeft(deadline));
        if (b == null) {
            return NOT_LINKED;
        }
        return awaitUntil(n, b, false, deadline) ? b.outcome() : TIMED_OUT;
    }

    /**
     * The non-blocking {@link #flushQueuedInstance}: links a barrier that completes {@code f}
     * (with true) when it runs, or runs {@code retry} on the worker instead if the pending
     * instance it was linked behind was taken back first (re-armed: the caller flushes again),
     * or if another thread has an earlier instance off the timer and not yet reported
     * (WorkNode.firedElsewhere: the caller waits for that report without blocking).
     *
     * @return true if a barrier was linked; false if nothing was ({@code f} untouched)
     */
    public static boolean flushQueuedInstanceAsync(WorkNode n, int runs, CompletableFuture<Boolean> f, Runnable retry) {
        return startFlushWork(n, false, runs, f, retry, true) != null;
    }

    /** What the flusher of this barrier learns once it ran: {@link #FINISHED} or {@link #TARGET_TAKEN}. */
    private int outcome() {
        return targetTaken ? TARGET_TAKEN : FINISHED;
    }

    private static boolean await(WorkNode n, Barrier b, boolean fromCancel) {
        if (b == null) {
            return false;
        }
        Object ev = WorkEvents.beginFlush(); // before the record: nothing may throw between it and the try
        HungWaits.Waiter waiting = b.hungWaits().begin(fromCancel ? "cancel_work_sync" : "flush_work", null, n);
        try {
            b.done.await();
        } finally {
            b.hungWaits().end(waiting);
        }
        TestHooks.at("flush.barrierPassed", n);
        WorkEvents.commitFlush(ev, fromCancel ? "cancel_work_sync" : "flush_work", n.name());
        return true;
    }

    /**
     * {@link #flushWork(WorkNode, boolean) flushWork(n, false)}, giving up the wait when
     * interrupted. The barrier stays queued behind the item and completes, unobserved, when it
     * runs: the item and its queue are unaffected.
     */
    public static boolean flushWorkInterruptibly(WorkNode n) throws InterruptedException {
        return awaitInterruptibly(n, startFlushWork(n, false, ANY_INSTANCE, null, null, true));
    }

    private static boolean awaitInterruptibly(WorkNode n, Barrier b) throws InterruptedException {
        if (b == null) {
            return false;
        }
        Object ev = WorkEvents.beginFlush(); // before the record: nothing may throw between it and the try
        HungWaits.Waiter waiting = b.hungWaits().begin("flush_work", null, n);
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
        Barrier b = startFlushWork(n, fromCancel, ANY_INSTANCE, null, null, Blocking.timeLeft(deadline));
        return b == null || awaitUntil(n, b, fromCancel, deadline);
    }

    private static boolean awaitUntil(WorkNode n, Barrier b, boolean fromCancel, long deadline)
            throws InterruptedException {
        Object ev = WorkEvents.beginFlush(); // before the record: nothing may throw between it and the try
        HungWaits.Waiter waiting = b.hungWaits().begin(fromCancel ? "cancel_work_sync" : "flush_work", null, n);
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
        CompletableFuture<Boolean> f = WqRuntime.newFuture();
        if (startFlushWork(n, false, ANY_INSTANCE, f, null, true) == null) {
            f.complete(Boolean.FALSE);
        }
        return f;
    }

    /** {@code queuedRuns} for {@link #flushWork}: no delayed-work instance to tell apart. */
    private static final int ANY_INSTANCE = -1;

    /**
     * Links a barrier behind {@code n} (or its running instance); null if there is nothing to
     * wait for, or (with {@code queuedRuns} not {@link #ANY_INSTANCE}) if the item is pending on
     * no list and has begun no run since {@code queuedRuns} was read (see
     * {@link #flushQueuedInstance}). With {@code async} non-null the barrier completes it, and
     * the caller does not wait: no annotation, no self-wait refusal; {@code retry} runs instead
     * if its target is taken back (see {@link #execute}).
     *
     * @param mayWait false for a timed wait with no time left: it cannot block, so it records no
     *                dependency for the validator and no flush dependency (a poll under a lock
     *                is correct code); it is still refused from the item's own function
     */
    private static Barrier startFlushWork(WorkNode n, boolean fromCancel, int queuedRuns,
                                          CompletableFuture<Boolean> async, Runnable retry, boolean mayWait) {
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
                workMap = v.isEnabled() && async == null && mayWait ? n.lockMap() : null;
                if (workMap != null && !fromCancel) {
                    v.touch(workMap); // SPEC §5: even when idle, as kernels before ~6.9 did
                }
            }
            if (pool != null) {
                pool.acquireFromCaller();
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
            // In transit: another thread owns PENDING between two steps of engine code that run
            // no user code (a queue's claim and insert, the timer's pop and landing, a cancel's
            // or modDelayed's grab and release or re-arm, each taking at most a pool or timer
            // lock on the way), so it lands or is released within a lock hand-off: spin, then
            // yield to it (preempted, it needs this CPU), rather than park with a wake-up to wire.
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
            } else if (pwq == null && queuedRuns != ANY_INSTANCE && n.isPendingBit() && n.runsStarted() == queuedRuns) {
                return null; // armed, or landing: the caller fires the timer and looks again
            } else if (pwq != null) {
                // The flush will wait for this instance: make sure a worker is coming for it (a
                // no-op when one runs or is woken), as a queue flush does for the pwqs it waits on:
                // an Error that cut a wake-up short after the item landed (the locked insert's
                // kick, a producer's wake) left it on the worklist with nobody woken and no hint,
                // and the monitor may be parked idle for the watchdog threshold. Before the commit.
                pool.kick();
                // Every call that can throw (the kick, the allocation, setPool) comes before the call-free list
                // insert, the commit point; only plain writes follow it (an Error leaves nothing half-linked).
                target = pwq.wq;
                b = new Barrier(n.name());
                b.setPool(pool);
                b.runtime = pool.runtime;
                b.async = async;
                b.retry = retry;
                b.retryTarget = n;
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
                b.retry = retry;
                b.retryTarget = n;
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
        if (b != null) {
            TestHooks.at("flush.barrierLinked", n);
        }
        if (self) {
            if (workMap != null && fromCancel) {
                v.touch(workMap); // record first (recursive locking on the item), as flush does; may throw under THROW
            }
            throw new IllegalStateException("work '" + n.name() + "' cannot " + (fromCancel ? "cancel-and-wait for" : "flush")
                    + " itself from its own function (or from the handler of its failure, the last part of its run):"
                    + " it would wait for itself");
        }
        if (!fromCancel && async == null && mayWait) {
            target.checkFlushDependency(n); // kernel start_flush_work: once the item is found queued or running
        }
        if (workMap != null) {
            if (fromCancel) {
                v.touch(workMap); // cancel path: only the work's map, only for a running item
            } else {
                target.touchSiblingWait(v);
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

    @Override
    boolean isEngineNode() {
        return true;
    }
}
