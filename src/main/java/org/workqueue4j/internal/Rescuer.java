package org.workqueue4j.internal;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The rescuer of a {@code memReclaim()} queue (kernel {@code rescuer_thread}): one thread,
 * {@code kworker/R-<name>}, that runs the queue's items when their pool cannot get a worker.
 */
final class Rescuer {
    /*
     * Implementation Overview
     *
     * A pool that fails to create a worker while items are active calls mayday() for each of its
     * pwqs whose queue has a rescuer (WorkerPool.sendMaydays). The rescuer takes pwqs off its
     * mayday list one at a time, attaches to the pwq's pool (Worker.pool), and under the pool
     * lock assigns that pwq's items from the worklist to itself and runs them, exactly as a pool
     * worker would (collisions and barriers included), at most BATCH items per turn. It stays
     * PREP, so it never counts in nr_running. While the pool is still starved and the pwq has
     * items left it puts the pwq back at the tail of the list, so every pwq in need is served.
     * Maydays come from WorkerPool.createWorker (a factory failure, the worker cap) and from
     * the monitor's mayday timer (a pool lacking a worker for 10 ms, then every 100 ms).
     *
     * A mayday for the pwq whose batch is under way (`rescuing`) is not queued: the rescuer
     * decides at the end of the batch, under the same pool lock every mayday is sent under,
     * whether the pwq goes back on the list, and then behind the pwqs that asked meanwhile (the
     * mayday timer firing during a batch would otherwise put it ahead of them).
     *
     * The list, the pwqs' `mayday` flags, `rescuing` and `stop` are guarded by `lock`.
     */

    /** Items a rescuer runs for one pwq before it serves the next pwq on its list. */
    static final int BATCH = 16;

    private final WorkqueueStruct wq;
    private final Worker worker;
    private final ArrayDeque<PoolWorkqueue> maydays = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private boolean stop;
    private boolean deadReported;
    /** The pwq whose batch runs now, or null; set when it is taken off the list, cleared under its pool lock. */
    private PoolWorkqueue rescuing;

    /** Starts the rescuer thread: through an OnDemandThread, so that a thread that never runs its body is seen. */
    private final OnDemandThread thread;

    /**
     * Creates and starts the rescuer thread and waits until it runs (OnDemandThread's check-in):
     * the thread factory's failure propagates, and a factory's thread that ended without running
     * the Runnable refuses the queue with IllegalStateException (a memReclaim queue whose
     * rescuer does not exist would have no forward-progress guarantee, silently).
     */
    Rescuer(WorkqueueStruct wq) {
        this.wq = wq;
        this.worker = new Worker(this, wq.name());
        this.thread = new OnDemandThread(wq.runtime, worker, worker.name);
        thread.start();
    }

    /**
     * The rescuer's loop has returned (volatile): it rescues nothing more. Until then this
     * queue's nodes in a deserted pool are left to it, since it still runs what it was sent for
     * (Deserted.leftToRescuer); once set, {@link #exited} delivers what is left there.
     */
    private volatile boolean loopEnded;

    /** Whether the rescuer may still run items (its loop has not returned). */
    boolean mayRescue() {
        return !loopEnded;
    }

    /**
     * The rescuer thread, its loop returned (Worker.run): marks it ended (volatile store), then
     * delivers what is left in the stopped pools of its queue, which no longer count on it
     * (Deserted). A push that read the mark still clear came before this store, so the landing
     * of the delivery sees it.
     */
    void exited() {
        loopEnded = true;
        for (PoolWorkqueue pwq : wq.pwqs) {
            if (pwq != null) {
                Deserted.deliver(pwq.pool);
            }
        }
    }

    /** The rescuer thread's first action (Worker.run): true on the thread this rescuer started. */
    boolean checkIn() {
        if (!thread.checkIn()) {
            return false;
        }
        worker.thread = Thread.currentThread(); // read only by this thread; others use `thread`
        return true;
    }

    /** Kernel send_mayday: queues {@code pwq} for rescue once; called under its pool lock. */
    void mayday(PoolWorkqueue pwq) {
        lock.lock();
        try {
            if (!pwq.mayday && pwq != rescuing) {
                // Counted first: the count may allocate (WqStats on first use, a LongAdder cell),
                // and an Error between the mark and the signal would leave the pwq marked with
                // the rescuer asleep, every later mayday dropped by the mark. Thrown here, it
                // changes nothing, and the next mayday (the monitor's timer) is queued afresh.
                WqRuntime.testHook("rescuer.mayday", pwq);
                wq.stats().mayday.increment();
                maydays.addLast(pwq); // before the mark: a growing ArrayDeque allocates before it changes
                pwq.mayday = true;
                wake.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The rescuer thread's loop; returns once stopped with nothing left to rescue. */
    void loop(Worker r) {
        while (true) {
            PoolWorkqueue pwq;
            lock.lock();
            try {
                while (maydays.isEmpty() && !stop) {
                    Thread.interrupted(); // never wait with one pending (awaitUninterruptibly would re-assert it)
                    wake.awaitUninterruptibly();
                }
                if (maydays.isEmpty()) {
                    return;
                }
                pwq = maydays.pollFirst();
                pwq.mayday = false;
                rescuing = pwq;
            } finally {
                lock.unlock();
            }
            try {
                rescue(r, pwq);
            } catch (Throwable e) {
                // An Error in the engine's own work while rescuing (an allocation failure; an
                // item's failure goes to the handler, not here). rescue() ended its batch and
                // handed back what was scheduled to it; the rescuer must outlive it, as the
                // timer, the monitor and the manager do: a memReclaim queue's forward progress
                // rests on this one thread, which nothing replaces. The pwq, still starved, is
                // sent again by the monitor's mayday timer. Logged (Log.log never throws).
                Log.log(System.Logger.Level.ERROR, "workqueue: rescuer thread of memReclaim queue '" + wq.name()
                        + "' survived an error", e);
            }
        }
    }

    private void rescue(Worker r, PoolWorkqueue pwq) {
        WorkerPool pool = pwq.pool;
        r.pool = pool;
        pool.lock.lock();
        try {
            WqRuntime.testHook("rescuer.rescue", pwq); // pool lock held, the batch begun
            pool.takeInboxes(); // lock-free pushes are the pwq's items too
            WorkNode n;
            int taken = 0;
            while (taken < BATCH && (n = firstOf(pool, pwq)) != null) {
                wq.stats().rescued.increment();
                taken++;
                if (pool.assignWork(n, r)) {
                    r.processScheduled();
                }
            }
            endBatch(); // from here a mayday for pwq is queued again (this pool lock orders it)
            // More left and still starved: back on the list, behind the other pwqs in need
            // (kernel: requeue the mayday while needed), so one busy pwq cannot starve the rest.
            if (firstOf(pool, pwq) != null && pool.needMoreWorker() && pool.idle.isEmpty()) {
                mayday(pwq);
            } else if (pwq.nrActive > 0 && pool.needMoreWorker() && pool.idle.isEmpty()) {
                pool.sendMaydays();
            }
        } finally {
            endBatch(); // also when an engine Error ends the batch early (the next mayday must queue it)
            // What was handed to the rescuer (a flush's barrier behind the item it ran) goes back
            // to the pool when an Error ends the batch early (the loop logs it and goes on).
            pool.handBackScheduled(r);
            pool.lock.unlock();
            r.signalFlushers(); // the last barrier it ran wakes its flusher, as a pool worker's next unlock does
        }
    }

    private void endBatch() {
        lock.lock();
        try {
            rescuing = null;
        } finally {
            lock.unlock();
        }
    }

    private static WorkNode firstOf(WorkerPool pool, PoolWorkqueue pwq) {
        for (WorkNode n = pool.worklist.first(); n != null; n = n.next) {
            if (n.pwq == pwq) {
                return n;
            }
        }
        return null;
    }

    WqRuntime runtime() {
        return wq.runtime;
    }

    Worker worker() {
        return worker;
    }

    /**
     * Monitor, its pool lock held (pool lock, then this lock, as in mayday): the rescuer's
     * thread has ended although the rescuer was never asked to stop, so the maydays sent to it
     * are never served: the ThreadFactory's thread did not run the Runnable it was given, or
     * the loop died. Pool workers that do this are reaped and replaced (WorkerPool.reapDeadWorkers);
     * a rescuer cannot be, so it is reported, once.
     *
     * @return the report the first time the dead thread is seen, else null
     */
    String deadThreadReport() {
        Thread t = thread.thread();
        if (t == null || t.getState() != Thread.State.TERMINATED) {
            return null;
        }
        lock.lock();
        try {
            if (stop || deadReported) {
                return null; // nothing to build on every later tick
            }
        } finally {
            lock.unlock();
        }
        // Built before it is marked made: an Error building it (an allocation failure) leaves it
        // to the next scan instead of losing it.
        String report = "workqueue: the rescuer thread '" + t.getName() + "' of memReclaim queue '" + wq.name()
                + "' has ended without being stopped (does the ThreadFactory run the Runnable it is given?):"
                + " the queue's items are not rescued when their pool cannot get a worker";
        lock.lock();
        try {
            if (stop || deadReported) {
                return null;
            }
            deadReported = true;
        } finally {
            lock.unlock();
        }
        return report;
    }

    /** Asks the rescuer to end once nothing is left to rescue; does not wait. */
    Thread requestStop() {
        lock.lock();
        try {
            stop = true;
            wake.signal();
        } finally {
            lock.unlock();
        }
        return thread.thread();
    }

    /** Stops the rescuer and waits for its thread to end (kernel kthread_stop). */
    void stop() {
        WqRuntime.joinUninterruptibly(requestStop());
    }
}
