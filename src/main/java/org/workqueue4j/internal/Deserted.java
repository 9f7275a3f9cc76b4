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
 * runtime's threads. Under the pool lock every item is released where it stands (a cancel's
 * accounting, then {@code PENDING} cleared), those its release activates included, and then the
 * engine nodes left are taken off: an item taken but still pending on no list is what a cancel
 * or a flush waits for as a node in transit, and a report's user code (a handler cancelling or
 * flushing another item of the batch) would wait for itself, as a destroy's reports of armed
 * timers once did. Then, with no lock held, the engine nodes run, each accounted after its run as
 * a worker's, and only then are the items reported: a handler that flushes the queue finds
 * nothing of this batch still counted in flight. A flush future's dependent that makes a
 * blocking flush of the queue while a later engine node of the same batch waits its turn on
 * this thread waits for it (after close() gave up, the hand-off thread that runs such
 * dependents on a live runtime is no longer started); a bounded flush returns at its bound.
 *
 * <p>A memReclaim queue's rescuer, while its loop runs, still runs that queue's items in a pool
 * with no worker: those nodes are left to it (leftToRescuer), and its exit delivers what it
 * leaves (Rescuer.exited). Every other queue's node in the pool is taken as above.
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
            try {
                pool.acquireFromCaller();
                try {
                    taken = take(pool);
                } finally {
                    pool.lock.unlock();
                }
            } catch (Throwable e) {
                // The stack probe's overflow, or an allocation failure in take() (before the node
                // it was for left the list): nothing taken in this round is lost, what is left
                // stays on the pool for the next delivery (a later push, close()'s own). Not
                // thrown: the caller may be a producer whose item has landed, and a throw would
                // undo its claim on a node already queued.
                try {
                    Log.log(System.Logger.Level.ERROR, "workqueue: the items left in " + pool
                            + " could not be taken for their never-run reports now; the next delivery takes them", e);
                } catch (Throwable ignored) {
                    // at the end of a stack, even the log line may not fit
                }
                return;
            }
            if (taken == null) {
                return;
            }
            // The engine nodes first: each is counted in flight until it has run, so a report's
            // handler that flushed the queue would wait for one still to come on this thread.
            // The items are released already: nothing a flush future's dependents do waits for them.
            for (int pass = 0; pass < 2; pass++) {
                for (Deserted d : taken) {
                    if (d.node.isEngineNode() == (pass == 0)) {
                        try {
                            if (pass == 0) {
                                d.run(pool);
                            } else {
                                d.report(pool);
                            }
                        } catch (Throwable e) {
                            // An Error ending one node (an allocation failure making its report,
                            // say): reported with that node, and every other node is still ended.
                            // Nothing is thrown to the caller, a producer whose queue() has returned
                            // true, perhaps, whose own item may be among those reported.
                            pool.runtime.uncaught(d.pwq.wq, d.node, e);
                        }
                    }
                }
            }
            // The accounting may have activated an item held back by max_active, or a finished
            // flush colour queued an async step here: take again, until the pool is empty.
        }
    }

    /**
     * Pool lock held: every node left on a deserted pool (inboxes landed), but those a rescuer
     * still keeps (leftToRescuer), or null if there is none or the pool is not deserted. First
     * every item is released where it stands, in passes
     * until none is left (a release frees a max_active slot, which activates the next item onto
     * the worklist behind it; a flush colour it finishes may queue an async step there); then the
     * engine nodes left are taken off in order. See the class overview for why nothing is left
     * in transit.
     */
    private static ArrayList<Deserted> take(WorkerPool pool) {
        if (!pool.isDeserted()) {
            return null;
        }
        pool.landInboxes();
        if (pool.worklist.isEmpty()) {
            return null;
        }
        ArrayList<Deserted> taken = new ArrayList<>();
        boolean released;
        do {
            released = false;
            for (WorkNode n = pool.worklist.first(); n != null; ) {
                WorkNode next = n.next; // before the removal clears it; nodes activated meanwhile go on the tail, for the next pass
                if (!n.isEngineNode() && !leftToRescuer(n)) {
                    Deserted d = takeOff(pool, n, taken);
                    d.pwq.decInFlight(d.color, d.active, false, null); // a cancel's accounting, then PENDING
                    n.clearState(WorkNode.PENDING);
                    released = true;
                }
                n = next;
            }
        } while (released);
        for (WorkNode n = pool.worklist.first(); n != null; ) { // the engine nodes, and what a rescuer keeps
            WorkNode next = n.next;
            if (!leftToRescuer(n)) {
                takeOff(pool, n, taken);
            }
            n = next;
        }
        return taken.isEmpty() ? null : taken;
    }

    /**
     * Pool lock held: records {@code n} in {@code taken} and takes it off the worklist, as a
     * worker's assignment would; an item's linked flushes are marked as having lost their target
     * first, as a cancel's take-back does (they stay on the worklist and are taken next, as
     * engine nodes).
     *
     * @return the record made
     */
    private static Deserted takeOff(WorkerPool pool, WorkNode n, ArrayList<Deserted> taken) {
        Deserted d = new Deserted(n, n.pwq, n.color, (n.flags & WorkNode.INACTIVE) == 0);
        taken.add(d); // before the node leaves the list: an allocation failure leaves it there
        if (!n.isEngineNode() && (n.flags & WorkNode.LINKED) != 0) {
            Barrier.releaseLinked(n, pool);
        }
        pool.worklist.remove(n);
        n.pwq = null;
        n.flags = 0;
        return d;
    }

    /**
     * Whether {@code n} (on the worklist) is its queue's rescuer's to run: a memReclaim queue
     * whose rescuer's loop has not returned runs its own items in a pool with no worker (it was
     * sent for them, or is running one of them), and its exit delivers what it leaves. Every other
     * queue's node in the pool is taken: the rescuer never runs another queue's items, and holding
     * them until it exits (for as long as its item runs) would strand them.
     */
    private static boolean leftToRescuer(WorkNode n) {
        Rescuer r = n.pwq.wq.rescuer;
        return r != null && r.mayRescue();
    }

    /** An item's report: released already (see {@link #take}), it is told it never runs, and so is the handler. No lock held. */
    private void report(WorkerPool pool) {
        WorkqueueStruct wq = pwq.wq;
        Pending.reportTakenBack(wq, node, new IllegalStateException("work '" + node.name() + "' of queue '"
                + wq.name() + "' never runs: it reached " + pool + " after close() of runtime '"
                + pool.runtime.name() + "' gave up and the pool's workers had left"));
    }

    /** An engine node's run and accounting, as a worker's. No lock held. */
    private void run(WorkerPool pool) {
        try {
            node.startRunning();
            pool.runtime.execute(pwq.wq, node); // a barrier or an async flush step: its futures complete here
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
