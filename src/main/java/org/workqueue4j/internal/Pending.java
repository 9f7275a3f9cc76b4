package org.workqueue4j.internal;

/**
 * Taking a pending item back (kernel {@code try_to_grab_pending}) and the operations built on
 * it: cancel, disable, enable.
 */
public final class Pending {
    /*
     * Implementation Overview
     *
     * grab() returns with the caller owning PENDING, whatever the item was doing, and says
     * which queue the pending instance was taken from (null if there was none):
     *   - idle: a CAS sets PENDING (so no queue can slip in) -> null;
     *   - timer armed: the timer entry is removed under the timer lock (only by the timer whose
     *     heap holds it: TimerQueue.holds) -> the queue it was armed for;
     *   - on a list: under the pool lock it is unlinked (activated first if inactive, so that
     *     barriers linked behind it stay queued and their flushers complete; the pool is then
     *     kicked, as nothing else would wake a worker for them) and its colour count dropped
     *     -> its queue. The barriers linked behind it lose their target (Barrier.releaseLinked):
     *     each is marked so that a delayed-work flush whose instance was re-armed flushes again,
     *     and if an older instance of the item runs in this pool they move to its worker's
     *     scheduled list, as a barrier linked to a running item is: a flush that began while that
     *     instance ran must not end before it (on the worklist an idle worker would run them
     *     at once);
     *   - in a pwq's lock-free inbox (pushed by the fast path, see PoolWorkqueue): under the
     *     pool lock every inbox of the pool is landed first, then it is on a list, as above;
     *   - in transit (PENDING claimed by a queuer or a firing timer that has not inserted yet):
     *     spin until it lands; the window is a few instructions long.
     * The caller then releases PENDING (cancel) or reuses it (modDelayed). A caller that took
     * an instance and then cannot say so (it throws) reports that instance (reportTakenBack).
     *
     * cancel() and disable() never claim an idle item's PENDING: a queue racing them would
     * see it set, return false ("already pending"), and the instance it counted on would never
     * exist. On an idle item cancel() only reads the state (false), and disable() adds to the
     * disable count with a CAS on the state word; only a pending item is grabbed.
     *
     * The timer is looked up (armedTimer()) only after TIMER was seen set, never passed in by
     * the caller: a canceller that read the item's timer before a concurrent first arm saw
     * null and would spin until the timer fired (an hour later, for an hour's delay).
     */

    private Pending() {
    }

    /**
     * Grabs PENDING; see the overview. Probes the stack first (WorkerPool.stackProbe): the caller
     * releases the grabbed PENDING in a finally at about this depth, which must not overflow.
     *
     * @return the queue the pending instance was taken from (the caller reports that instance
     *         with {@link #reportTakenBack} if it cannot go on: nothing else knows of it now), or
     *         null if the item was idle; the caller owns PENDING either way
     */
    public static WorkqueueStruct grab(WorkNode n) {
        WorkerPool.probeStack();
        return grab(n, true);
    }

    /**
     * As {@link #grab(WorkNode)}; with {@code claimIdle} false an idle item is left alone and
     * null is returned without the caller owning PENDING.
     */
    private static WorkqueueStruct grab(WorkNode n, boolean claimIdle) {
        for (int spins = 0; ; spins++) {
            long s = n.state();
            if ((s & WorkNode.PENDING) == 0) {
                if (!claimIdle) {
                    return null;
                }
                if (n.casState(s, s | WorkNode.PENDING)) {
                    return null;
                }
                continue;
            }
            TimerQueue timer;
            WorkqueueStruct armedFor;
            if ((s & WorkNode.TIMER) != 0 && (timer = n.armedTimer()) != null) {
                WqRuntime.testHook("grab.timerRead", n); // the binding read: a re-arm elsewhere may move the node now
                if ((armedFor = timer.cancel(n)) != null) { // null if the node is not in that timer's heap (any more)
                    return armedFor; // cancel cleared TIMER
                }
            }
            WorkerPool pool = n.poolAcquire();
            if (pool != null) {
                pool.acquireFromCaller();
                try {
                    pool.landInboxesFor(n); // in a pwq's lock-free inbox: land it, then take it back
                    PoolWorkqueue pwq = n.pwq;
                    if (pwq != null && pwq.pool == pool) {
                        boolean barrierMoved = (n.flags & (WorkNode.INACTIVE | WorkNode.LINKED))
                                == (WorkNode.INACTIVE | WorkNode.LINKED);
                        if ((n.flags & WorkNode.INACTIVE) != 0) {
                            pwq.activate(n);
                        }
                        if ((n.flags & WorkNode.LINKED) != 0 && Barrier.releaseLinked(n, pool)) {
                            barrierMoved = false; // they wait behind the running instance, on its worker
                        }
                        n.list.remove(n);
                        n.pwq = null;
                        n.flags = 0;
                        pwq.decInFlight(n.color, true);
                        if (barrierMoved) {
                            // The barriers linked behind it now sit on the worklist, where no
                            // worker was woken for them (a frozen or full queue activates
                            // nothing more): wake one, or their flushers wait for an unrelated item.
                            pool.kick();
                        }
                        return pwq.wq;
                    }
                } finally {
                    pool.lock.unlock();
                }
            }
            if (spins > 64) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /**
     * Kernel cancel_work / disable_work.
     *
     * @return true if the item was pending
     */
    public static boolean cancel(WorkNode n, boolean disable) {
        return cancelTaking(n, disable) != null;
    }

    /**
     * {@link #cancel}, returning the queue the pending instance was taken from (null if the item
     * was not pending): a caller that goes on to wait and then throws (a validator's
     * PotentialDeadlockException under THROW) reports that instance with {@link #reportTakenBack},
     * since it cannot say any more that it cancelled it.
     */
    public static WorkqueueStruct cancelTaking(WorkNode n, boolean disable) {
        return cancelTaking(n, disable, null);
    }

    /**
     * {@link #cancelTaking cancelTaking(n, true)} for a cancel-and-wait ({@code cancelSync}),
     * whose disable is its own and lasts for its wait only (kernel __cancel_work_sync). An idle
     * item at the disable limit is refused by every queue attempt already: nothing is added then
     * (the kernel warns and adds nothing), and {@code added[0]} is false; {@link #endWaitDisable}
     * takes it.
     */
    public static WorkqueueStruct cancelTakingForWait(WorkNode n, boolean[] added) {
        return cancelTaking(n, true, added);
    }

    /**
     * Ends a cancel-and-wait's own disable ({@link #cancelTakingForWait}), if it added one. An
     * {@code enable()} without its {@code disable()}, made by another thread during the wait,
     * has consumed it: that is logged (the kernel's enable_work warns on the underflow) and the
     * cancel-and-wait returns as usual, since what it cancelled stays cancelled.
     */
    public static void endWaitDisable(WorkNode n, boolean added) {
        if (!added) {
            return;
        }
        while (true) {
            long s = n.state();
            if ((s & WorkNode.DISABLE_MASK) == 0) {
                Log.log(System.Logger.Level.WARNING, "workqueue: work '" + n.name() + "': an enable() without a"
                        + " disable() consumed the disable of a cancel-and-wait while it waited", null);
                return;
            }
            if (n.casState(s, s - WorkNode.DISABLE_ONE)) { // volatile CAS, as enable()
                return;
            }
        }
    }

    private static WorkqueueStruct cancelTaking(WorkNode n, boolean disable, boolean[] added) {
        if (added != null) {
            added[0] = true;
        }
        while (true) {
            long s = n.state();
            if ((s & WorkNode.PENDING) == 0) {
                // Idle: never claim PENDING just to release it, or a queue racing this cancel
                // would return false ("already pending") for an instance that never runs.
                if (!disable) {
                    return null;
                }
                if (added != null && ((s & WorkNode.DISABLE_MASK) >>> 32) == WorkNode.DISABLE_MAX) {
                    added[0] = false; // disabled to the limit: refused by every queue attempt already
                    return null;
                }
                checkDisableRoom(n, s);
                if (n.casState(s, s + WorkNode.DISABLE_ONE)) { // volatile CAS: ordered with every claim
                    return null;
                }
                continue;
            }
            // Probed from this frame, whose finally releases what the grab takes: an overflow
            // there (the VarHandle's own frames, interpreted) would leave the item off every list
            // with PENDING set for good; probed, it strikes here, with nothing grabbed.
            WorkerPool.probeStack();
            WorkqueueStruct takenFrom = grab(n, false);
            if (takenFrom == null) {
                continue; // it ran (or was cancelled) meanwhile: decide again
            }
            try {
                WqRuntime.testHook("cancel.grabbed", n); // off every list, PENDING still ours
                if (disable) {
                    n.addState(WorkNode.DISABLE_ONE); // before releasing PENDING: no queue slips between
                }
            } catch (Throwable e) {
                // Only an asynchronous Error can strike here (a pending item's disable count is
                // zero: every disable of a pending item takes it back first). The call throws, so
                // it cannot say it cancelled: the instance it took is reported instead of lost.
                n.clearState(WorkNode.PENDING);
                reportTakenBack(takenFrom, n, e);
                throw e;
            }
            n.clearState(WorkNode.PENDING);
            return takenFrom;
        }
    }

    /**
     * Reports a pending instance that a caller took back ({@link #grab}) and then could not
     * cancel or re-arm, because it threw: to the item (an executor task's future fails) and to
     * the runtime's uncaught-work handler with the throwable, as a destroy reports an armed item.
     * The caller has released PENDING (a handler may queue the item again). Throws nothing
     * ({@link WqRuntime#uncaught} throws nothing; tellNeverRuns only completes a future).
     */
    public static void reportTakenBack(WorkqueueStruct takenFrom, WorkNode n, Throwable why) {
        try {
            n.tellNeverRuns(why);
        } finally {
            takenFrom.runtime.uncaught(takenFrom, n, why);
        }
    }

    /**
     * {@link #reportTakenBack} for a timed cancel-and-wait that took a pending instance back and
     * then timed out: its false ("still running") cannot say that it cancelled that instance.
     */
    public static void reportTakenThenTimedOut(WorkqueueStruct takenFrom, WorkNode n, String op) {
        reportTakenBack(takenFrom, n, new java.util.concurrent.TimeoutException(op + " of work '" + n.name()
                + "' took back a pending instance and then timed out waiting for the running one"));
    }

    /**
     * A test point between a re-arm's grab and its arm ({@code WorkQueue.modDelayed}), which is
     * outside this package.
     */
    public static void grabbedForRearm(WorkNode n) {
        WqRuntime.testHook("modDelayed.grabbed", n);
    }

    private static void checkDisableRoom(WorkNode n, long s) {
        if (((s & WorkNode.DISABLE_MASK) >>> 32) == WorkNode.DISABLE_MAX) {
            throw new IllegalStateException("work '" + n.name() + "' disabled too many times (max "
                    + WorkNode.DISABLE_MAX + ")");
        }
    }

    /**
     * Kernel enable_work.
     *
     * @return true if the disable count reached zero
     * @throws IllegalStateException on underflow
     */
    public static boolean enable(WorkNode n) {
        while (true) {
            long s = n.state();
            if ((s & WorkNode.DISABLE_MASK) == 0) {
                throw new IllegalStateException("work '" + n.name() + "' is not disabled; enable without disable");
            }
            if (n.casState(s, s - WorkNode.DISABLE_ONE)) {
                return ((s - WorkNode.DISABLE_ONE) & WorkNode.DISABLE_MASK) == 0;
            }
        }
    }

    /**
     * The refusing half of {@link #claim}: true if the node is pending already or disabled, at an
     * ordered failure, claiming nothing; false if it could be claimed at the moment it was read
     * (nothing changed). A queue attempt that this refuses has nothing to release, so it needs no
     * stack probe.
     */
    public static boolean refuses(WorkNode n) {
        while (true) {
            long s = n.state();
            if ((s & (WorkNode.PENDING | WorkNode.DISABLE_MASK)) == 0) {
                return false;
            }
            /*
             * Ordered on failure (the kernel's 2022 "Make test_and_*_bit() ordered on failure",
             * which lost TTY data through a workqueue). A volatile load alone orders nothing for
             * the caller's earlier plain stores: they may still sit in its store buffer when the
             * load reads PENDING, and the worker, which clears PENDING with a volatile RMW
             * (WorkNode.clearState in Worker.processOne) and then runs the function, reads them
             * stale in the very run the caller counted on. jcstress
             * PendingBitTest.FailedClaimOrdered observes it on x86.
             *
             * So the failed claim writes: a volatile CAS of the state word to the value it read
             * (no change). If it succeeds, PENDING was still set at a volatile write of ours that
             * precedes the worker's clear in the synchronization order; that clear is a volatile
             * read of the same variable, so our write synchronizes-with it (JLS 17.4.4), and the
             * caller's earlier stores happen-before everything the run does. If it fails, the word
             * changed (the worker cleared PENDING, or another queue or cancel moved it): decide
             * again -- possibly claiming, which returns true with the same edge.
             *
             * Why not the cheaper-looking VarHandle.fullFence() before a re-read: it forbids the
             * reordering on HotSpot in practice, but the JMM gives a fence no happens-before edge,
             * so the contract ("happens-before") could not be argued from the spec. The CAS costs
             * one locked instruction on the already-pending path only (as the kernel's fix made
             * test_and_set_bit always do its atomic RMW); measured by RequeueBenchmark.queueAlreadyPending(Contended).
             */
            if (n.casState(s, s)) {
                return true;
            }
        }
    }

    /**
     * Claims PENDING for a queue attempt: false if pending already or disabled. Ordered either
     * way: everything the caller did before happens-before the start of some run that begins
     * after the call (a failure is {@link #refuses}'s, see there).
     */
    public static boolean claim(WorkNode n) {
        while (true) {
            if (refuses(n)) {
                return false;
            }
            long s = n.state();
            if ((s & (WorkNode.PENDING | WorkNode.DISABLE_MASK)) == 0 && n.casState(s, s | WorkNode.PENDING)) {
                return true; // the run this claim queues starts after the CAS: happens-before
            }
        }
    }

    /** Kernel work_busy: PENDING (1) | RUNNING (2), read under the pool lock; advisory. */
    public static int busy(WorkNode n) {
        int r = n.isPendingBit() ? 1 : 0;
        WorkerPool pool = n.poolAcquire();
        if (pool != null) {
            pool.acquireFromCaller();
            try {
                if (n.runningWorker != null) {
                    r |= 2;
                }
            } finally {
                pool.lock.unlock();
            }
        }
        return r;
    }
}
