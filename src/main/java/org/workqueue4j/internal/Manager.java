package org.workqueue4j.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * The runtime's worker-creating thread ({@code kworker/manager}): calls the user's
 * {@code ThreadFactory} for new pool workers, with no pool lock held (kernel: workers are
 * allocated outside {@code pool->lock}).
 */
final class Manager implements Runnable {
    /*
     * Implementation Overview
     *
     * A pool that needs a worker it does not have (a kick with no idle worker, or the monitor's
     * tick finding a pool starved) calls request(). The manager then visits every pool and, for
     * each one that still lacks a worker with no creation in flight, runs
     * WorkerPool.createWorker (factory outside the lock, attach under it). A worker that starts
     * working with no idle worker left behind asks for its spare here too (requestSpare: the
     * kernel's worker makes it itself, first; here the item does not wait for the thread).
     *
     * It is its own thread, not the monitor, so that a slow or blocking factory delays only
     * worker creation: concurrency management, the mayday timer that calls the rescuers and
     * the watchdog keep running on the monitor.
     *
     * Wake-up protocol: `requested` (volatile) is the signal, the permit only the doorbell:
     * request() sets it and unparks; the loop clears it before it scans and parks only while it
     * is clear, re-checking after every return from park. A request during a scan is served by
     * the next scan; an unpark consumed elsewhere loses nothing.
     */

    private final WqRuntime runtime;
    private volatile boolean requested;
    private volatile boolean stopped;
    /** Started when the runtime's first queue is created (a queue's first item needs a worker). */
    OnDemandThread thread;

    Manager(WqRuntime runtime) {
        this.runtime = runtime;
    }

    /** Some pool needs a worker: scan soon. Safe under a pool lock (a volatile write and an unpark). */
    void request() {
        requested = true;
        thread.unpark();
    }

    /** Stops the manager: it starts no more; returns its thread to join, or null if it never started. */
    Thread stop() {
        Thread t = thread.stop();
        stopped = true;
        thread.unpark();
        return t;
    }

    /** {@return true once stopped} */
    boolean isStopped() {
        return stopped;
    }

    @Override
    public void run() {
        if (!thread.checkIn()) {
            return; // started by the factory itself, not by this runtime (see OnDemandThread.checkIn)
        }
        while (!stopped) {
            if (!requested) {
                Thread.interrupted(); // an interrupt is not a request: never let it turn park into a spin
                LockSupport.park(this);
                continue;
            }
            requested = false;
            try {
                for (WorkerPool p : runtime.allPools()) {
                    if (stopped) {
                        return;
                    }
                    if (p.lacksWorker()) {
                        p.createWorker();
                    }
                }
                WqRuntime.testHook("manager.scanned", runtime);
            } catch (Throwable e) {
                // An Error in the manager's own work (an allocation failure at the cap's refusal,
                // say; each pool lock is released by its finally): the manager must outlive it,
                // as the timer and the monitor do, or the monitor finds its thread ended and
                // reports the user's ThreadFactory for it. Logged (Log.log never throws); the
                // monitor asks again on its next tick for a pool still lacking a worker.
                Log.log(System.Logger.Level.ERROR, "workqueue: worker manager thread survived an error", e);
            }
        }
    }
}
