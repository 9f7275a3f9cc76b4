package org.workqueue4j.internal;

import java.util.ArrayList;

/**
 * The nodes of a deserted pool. A pool that {@code close()} stopped and whose last worker has
 * left, with none being made ({@link WorkerPool#isDeserted()}), will never run anything again:
 * workers are never made for a dying pool. Nodes can still reach it after {@code close()} gave up
 * (its timeout, or an interrupt): a push whose producer was past its queue's check, chained work
 * from an item still running in another pool (a dying queue accepts its own items' chained
 * work), an item that the worker cap held back or whose pool's first worker was still being made.
 * Left there, such an item would never run and never be reported, and every flush of it or of
 * its queue would wait for ever. Instead each node is taken off the pool as a worker would take
 * it, and ended as a worker would end it, except that an item is not run but reported: its
 * {@code PENDING} released, the item told it never runs (an executor task's future fails) and
 * the uncaught-work handler called with an {@link IllegalStateException} naming the queue, the
 * item and the runtime, as a destroy reports an armed timer. An engine node (a flush barrier, an
 * async flush step) runs, with its accounting, so that its flusher returns. Nothing is left on
 * the pool, and its flushes end.
 *
 * <p>Who does it: whoever may have left a node on a pool it saw dying calls {@link #deliver}
 * with no engine lock held (a report, and a flush future's dependent actions, are user code): a
 * producer whose push or insert found the pool dying, the last worker leaving, a worker creation
 * given up because the pool began dying, and {@code close()} itself once it has joined the
 * runtime's threads. Every node is taken off the worklist under the pool lock, and each item is
 * released there too (a cancel's accounting, then {@code PENDING} cleared), before the first
 * report: an item taken but still pending on no list is what a cancel or a flush waits for as a
 * node in transit, and a report's user code (a handler cancelling or flushing another item of
 * the batch, or flushing its queue) would wait for itself, as a destroy's reports of armed
 * timers once did. The engine nodes then run, each accounted after its run as a worker's.
 *
 * <p>Loaded only on this path: nothing on a live runtime's paths refers to this class until a
 * pool is dying.
 */
final class Deserted {
    private final WorkNode node;
    private final PoolWorkqueue pwq;
    private final int color;
    private final boolean active;

    private Deserted(WorkNode node, PoolWorkqueue pwq, int color, boolean active) {
        this.node = node;
        this.pwq = pwq;
        this.color = color;
        this.active = active;
    }

    /**
     * Takes and ends every node left on {@code pool} if it is deserted; nothing otherwise (a
     * pool with a worker left runs them: its last worker's exit calls this again). Called and
     * returns with no engine lock held; throws nothing (an Error ending a node is reported
     * with that node).
     */
    static void deliver(WorkerPool pool) {
        for (;;) {
            ArrayList<Deserted> taken;
            pool.acquireFromCaller();
            try {
                taken = take(pool);
            } finally {
                pool.lock.unlock();
            }
            if (taken == null) {
                return;
            }
            for (Deserted d : taken) {
                try {
                    d.end(pool);
                } catch (Throwable e) {
                    // An Error ending one node (an allocation failure making its report, say):
                    // reported with that node, and every other node is still ended. Nothing is
                    // thrown to the caller, a producer whose queue() has returned true, perhaps,
                    // whose own item may be among those reported.
                    pool.runtime.uncaught(d.pwq.wq, d.node, e);
                }
            }
            // The accounting may have activated an item held back by max_active, or a finished
            // flush colour queued an async step here: take again, until the pool is empty.
        }
    }

    /**
     * Pool lock held: every node left on a deserted pool, landed inboxes included, taken off
     * the worklist in order (as a worker's assign would), or null if there is none or the pool
     * is not deserted.
     */
    private static ArrayList<Deserted> take(WorkerPool pool) {
        if (!pool.isDeserted()) {
            return null;
        }
        pool.landInboxes();
        ArrayList<Deserted> taken = null;
        WorkNode n;
        while ((n = pool.worklist.first()) != null) {
            PoolWorkqueue pwq = n.pwq;
            boolean active = (n.flags & WorkNode.INACTIVE) == 0;
            if (taken == null) {
                taken = new ArrayList<>();
            }
            taken.add(new Deserted(n, pwq, n.color, active)); // before the node leaves the list: an allocation failure leaves it there
            pool.worklist.remove(n);
            n.pwq = null;
            n.flags = 0;
            if (!n.isEngineNode()) {
                // An item is released here, under the lock, before any report of this batch: the
                // report is user code, and an item taken but not yet released (PENDING on no
                // list) is one that a cancel or flush waits for as a node in transit. The
                // accounting first (a cancel's), then PENDING: a queue() that then claims it
                // lands a new instance. What the freed slot activates goes on the worklist, and
                // a flush colour it finishes may queue an async step there: this loop takes both.
                pwq.decInFlight(n.color, active, false, null);
                n.clearState(WorkNode.PENDING);
            } else {
                // One engine node per round, as a worker takes one node at a time: its run may
                // call user code (a flush future's dependents) while what follows it stays on
                // the worklist, not off every list and counted in flight behind it.
                break;
            }
        }
        return taken;
    }

    /**
     * Ends the node taken, no lock held: an item (released already, see {@link #take}) is
     * reported; an engine node runs and is accounted as a worker's would be.
     */
    private void end(WorkerPool pool) {
        WorkqueueStruct wq = pwq.wq;
        if (!node.isEngineNode()) {
            Pending.reportTakenBack(wq, node, new IllegalStateException("work '" + node.name() + "' of queue '"
                    + wq.name() + "' never runs: it reached " + pool + " after close() of runtime '"
                    + pool.runtime.name() + "' gave up and the pool's workers had left"));
            return;
        }
        try {
            node.startRunning();
            pool.runtime.execute(wq, node); // a barrier or an async flush step: its futures complete here
        } finally {
            pool.acquire();
            try {
                node.endRunning();
                pwq.decInFlight(color, active, false, null); // what it activates is taken by the next round
            } finally {
                pool.lock.unlock();
                if (node instanceof Barrier b) {
                    b.finishBlocking(); // after its colour's count dropped, as a worker's signalFlushers
                }
            }
        }
    }
}
