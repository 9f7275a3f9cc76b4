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
     * worker would (collisions and barriers included). It stays PREP, so it never counts in
     * nr_running. While the pool is still starved it puts the pwq back on the list.
     *
     * The list, the pwqs' `mayday` flags and `stop` are guarded by `lock`.
     */

    private final WorkqueueStruct wq;
    private final Worker worker;
    private final ArrayDeque<PoolWorkqueue> maydays = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private boolean stop;

    /** Creates and starts the rescuer thread; the thread factory's failure propagates. */
    Rescuer(WorkqueueStruct wq) {
        this.wq = wq;
        this.worker = new Worker(this, wq.name());
        Thread t = wq.runtime.newThread(worker, worker.name);
        worker.thread = t;
        t.start();
    }

    /** Kernel send_mayday: queues {@code pwq} for rescue once; called under its pool lock. */
    void mayday(PoolWorkqueue pwq) {
        lock.lock();
        try {
            if (!pwq.mayday) {
                pwq.mayday = true;
                maydays.addLast(pwq);
                wq.stats.mayday.increment();
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
            } finally {
                lock.unlock();
            }
            rescue(r, pwq);
        }
    }

    private void rescue(Worker r, PoolWorkqueue pwq) {
        WorkerPool pool = pwq.pool;
        r.pool = pool;
        pool.lock.lock();
        try {
            WorkNode n;
            while ((n = firstOf(pool, pwq)) != null) {
                wq.stats.rescued.increment();
                if (pool.assignWork(n, r)) {
                    r.processScheduled();
                }
            }
            // Still starved: stay on the list (kernel: requeue the mayday while needed).
            if (pwq.nrActive > 0 && pool.needMoreWorker() && pool.idle.isEmpty()) {
                pool.sendMaydays();
            }
        } finally {
            pool.lock.unlock();
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

    /** Stops the rescuer and waits for its thread to end (kernel kthread_stop). */
    void stop() {
        lock.lock();
        try {
            stop = true;
            wake.signal();
        } finally {
            lock.unlock();
        }
        Thread t = worker.thread;
        if (t == Thread.currentThread()) {
            return;
        }
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
