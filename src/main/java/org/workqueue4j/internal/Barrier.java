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
        Barrier b = startFlushWork(n, fromCancel, null);
        if (b == null) {
            return false;
        }
        WorkEvents.FlushWait ev = WorkEvents.beginFlush();
        b.done.await();
        WorkEvents.commitFlush(ev, fromCancel ? "cancel_work_sync" : "flush_work", n.name());
        return true;
    }

    /**
     * {@link #flushWork(WorkNode, boolean) flushWork(n, false)}, giving up the wait when
     * interrupted. The barrier stays queued behind the item and completes, unobserved, when it
     * runs: the item and its queue are unaffected.
     */
    public static boolean flushWorkInterruptibly(WorkNode n) throws InterruptedException {
        Barrier b = startFlushWork(n, false, null);
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
        if (startFlushWork(n, false, f) == null) {
            f.complete(Boolean.FALSE);
        }
        return f;
    }

    /**
     * Links a barrier behind {@code n} (or its running instance); null if there is nothing to
     * wait for. With {@code async} non-null the barrier completes it, and the caller does not
     * wait: no annotation, no self-wait refusal.
     */
    private static Barrier startFlushWork(WorkNode n, boolean fromCancel, CompletableFuture<Boolean> async) {
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
            if (running != null && running == Worker.current() && async == null) {
                throw new IllegalStateException("work '" + n.name() + "' cannot flush itself: it would wait for itself");
            }
            if (pwq != null) {
                target = pwq.wq;
                b = new Barrier(n.name());
                b.async = async;
                b.color = n.color;
                b.flags = WorkNode.INACTIVE | (n.flags & WorkNode.LINKED);
                n.flags |= WorkNode.LINKED;
                b.pwq = pwq;
                pwq.nrInFlight[b.color]++;
                n.list.addAfter(n, b);
            } else if (running != null && running.pool == pool) {
                target = running.currentPwq.wq;
                b = new Barrier(n.name());
                b.async = async;
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
