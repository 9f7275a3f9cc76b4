package org.workqueue4j.internal;

import org.workqueue4j.lockdep.LockMap;

/**
 * The node a queue's flush completion leaves on a pool when flushAsync futures wait (see
 * WorkqueueStruct, "Asynchronous flushes"): a worker runs it with no lock held, completes the
 * futures of the finished round and starts the next one. Like a barrier it never counts toward
 * max_active (INACTIVE) but counts in its colour's in-flight total, so drains wait for it.
 */
final class AsyncFlushStep extends WorkNode {
    private final WorkqueueStruct wq;
    private final boolean roundDone;

    private AsyncFlushStep(WorkqueueStruct wq, boolean roundDone) {
        this.wq = wq;
        this.roundDone = roundDone;
    }

    /** Queues a step on {@code pwq}'s pool; called under that pool's lock. */
    static void queue(PoolWorkqueue pwq, boolean roundDone) {
        AsyncFlushStep s = new AsyncFlushStep(pwq.wq, roundDone);
        int color = pwq.workColor;
        s.color = color;
        s.flags = WorkNode.INACTIVE;
        s.pwq = pwq;
        pwq.nrInFlight[color]++;
        s.setPool(pwq.pool);
        pwq.pool.worklist.addLast(s);
        pwq.pool.noteWorklistAdd();
        pwq.pool.kick();
    }

    @Override
    public String name() {
        return "FLUSH_ASYNC(" + wq.name() + ")";
    }

    @Override
    public LockMap lockMap() {
        return null;
    }

    @Override
    protected void execute() {
        wq.asyncFlushStep(roundDone);
    }

    @Override
    boolean isEngineNode() {
        return true;
    }
}
