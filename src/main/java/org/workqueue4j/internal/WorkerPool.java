package org.workqueue4j.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A pool of worker threads serving one worklist (kernel {@code worker_pool}): one per CPU for
 * normal and high priority, plus unbound pools.
 */
public final class WorkerPool {
    /*
     * Implementation Overview
     *
     * Everything here is guarded by `lock` (kernel pool->lock): the worklist, the idle list,
     * the counters, every queued node's links, and every worker's current/scheduled state.
     *
     * Concurrency management (per-CPU pools only): nrRunning counts workers that are running
     * work and not blocked in a library wait, not CPU-intensive. A per-CPU pool wants exactly
     * one such worker while work is pending:
     *   needMoreWorker  = worklist non-empty && nrRunning == 0
     *   keepWorking     = worklist non-empty && nrRunning <= 1
     * When a worker blocks (Worker.sleeping) nrRunning drops and, if work is pending, the pool
     * wakes an idle worker. Unbound pools are not managed: every worker counts as not running,
     * so any pending item wakes an idle worker.
     *
     * Idle workers sit LIFO on `idle` and park. A worker that leaves idle and finds no other idle
     * worker becomes the manager and creates one first (kernel manage_workers), so a woken worker
     * is always available for the next kick; the first worker is created by the first kick.
     * Workers idle for longer than the idle timeout exit while there are too many
     * (kernel too_many_workers: nrIdle > 2 && (nrIdle - 2) * 4 >= busy).
     */

    static final int MAX_IDLE_WORKERS_RATIO = 4;

    final int id;
    /** CPU index, or -1 for an unbound pool. */
    final int cpu;
    final boolean highPri;
    final boolean concurrencyManaged;
    final WqRuntime runtime;
    final ReentrantLock lock = new ReentrantLock();
    final WorkList worklist = new WorkList();
    final ArrayDeque<Worker> idle = new ArrayDeque<>();
    final List<Worker> workers = new ArrayList<>();
    final List<PoolWorkqueue> pwqs = new ArrayList<>();
    private final BitSet workerIds = new BitSet();
    int nrRunning;
    boolean managerActive;
    boolean dying;
    /** System.nanoTime() of the last progress on the worklist (watchdog). */
    long lastProgressNanos = System.nanoTime();
    /** A worker-creation failure not yet reported (the monitor reports it outside the lock). */
    String creationFailureReport;
    /** The watchdog reported the current stall; cleared by progress. */
    boolean stallReported;
    /** System.nanoTime() of the last failed worker creation, for the cooldown; 0 if none. */
    long createFailedNanos;

    /** Kernel CREATE_COOLDOWN: after a failure, creation is retried at most this often. */
    static final long CREATE_COOLDOWN_NANOS = 1_000_000_000L;

    WorkerPool(WqRuntime runtime, int id, int cpu, boolean highPri) {
        this.runtime = runtime;
        this.id = id;
        this.cpu = cpu;
        this.highPri = highPri;
        this.concurrencyManaged = cpu >= 0;
    }

    /** tryLock attempts before {@link #acquire()} parks. */
    private static final int LOCK_SPINS = 64;

    /**
     * Takes {@code lock}, spinning briefly before parking: the critical sections on the queue
     * and run paths are tens of nanoseconds, while losing the lock to a park and unpark costs
     * microseconds (and, on a contended lock, the JDK's wait-node allocation).
     */
    void acquire() {
        ReentrantLock l = lock;
        for (int i = 0; i < LOCK_SPINS; i++) {
            if (l.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        l.lock();
    }

    // ---------------------------------------------------------------- predicates (lock held)

    boolean needMoreWorker() {
        return !worklist.isEmpty() && nrRunning == 0;
    }

    boolean keepWorking() {
        return !worklist.isEmpty() && nrRunning <= 1;
    }

    boolean mayStartWorking() {
        return !idle.isEmpty();
    }

    boolean tooManyWorkers() {
        int nrIdle = idle.size();
        int nrBusy = workers.size() - nrIdle;
        return nrIdle > 2 && (nrIdle - 2) * MAX_IDLE_WORKERS_RATIO >= nrBusy;
    }

    /** The worklist went from empty to non-empty, or its head changed: that is progress. */
    void noteWorklistAdd() {
        if (worklist.size() == 1) {
            lastProgressNanos = System.nanoTime();
            stallReported = false;
        }
    }

    // ---------------------------------------------------------------- waking (lock held)

    /**
     * Wakes the first idle worker if the pool needs one (kernel {@code kick_pool}). With no
     * worker at all, creates the first one.
     */
    void kick() {
        if (!needMoreWorker()) {
            return;
        }
        Worker w = idle.peekFirst();
        if (w != null) {
            w.wake();
        } else if (workers.isEmpty() && !dying) {
            retryCreateWorker(System.nanoTime());
        }
    }

    /**
     * Creates a worker unless a creation failed within the cooldown; while creation fails,
     * asks the rescuers of this pool's queues for help (kernel maybe_create_worker + mayday).
     */
    void retryCreateWorker(long now) {
        if (createFailedNanos != 0 && now - createFailedNanos < CREATE_COOLDOWN_NANOS) {
            sendMaydays();
            return;
        }
        if (createWorker()) {
            createFailedNanos = 0;
        } else {
            createFailedNanos = now == 0 ? 1 : now;
            sendMaydays();
        }
    }

    /** Kernel send_mayday for every pwq with active items whose queue has a rescuer. */
    void sendMaydays() {
        for (PoolWorkqueue pwq : pwqs) {
            if (pwq.nrActive > 0 && pwq.wq.hasRescuer()) {
                pwq.wq.mayday(pwq);
            }
        }
    }

    // ---------------------------------------------------------------- workers (lock held)

    /** Creates and starts a worker; false (and a report) if the thread factory fails. */
    boolean createWorker() {
        int wid = workerIds.nextClearBit(0);
        Worker w = new Worker(this, wid);
        Thread t;
        try {
            t = runtime.newThread(w, w.name);
        } catch (Throwable e) { // OutOfMemoryError "unable to create native thread" included
            runtime.reportWorkerCreationFailure(this, e);
            return false;
        }
        workerIds.set(wid);
        workers.add(w);
        w.thread = t;
        w.enterIdle();
        try {
            t.start();
        } catch (Throwable e) {
            idle.remove(w);
            workers.remove(w);
            workerIds.clear(wid);
            runtime.reportWorkerCreationFailure(this, e);
            return false;
        }
        return true;
    }

    /** The calling worker found no idle worker behind it: create one (kernel manage_workers). */
    void manageWorkers() {
        if (managerActive || dying) {
            return;
        }
        managerActive = true;
        try {
            retryCreateWorker(System.nanoTime());
        } finally {
            managerActive = false;
        }
    }

    void workerExited(Worker w) {
        workers.remove(w);
        idle.remove(w);
        workerIds.clear(w.id);
    }

    /**
     * Assigns {@code n} to {@code w} (kernel {@code assign_work}): moves it with its linked
     * barriers to the worker's scheduled list, unless another worker of this pool is already
     * running it, in which case they go to that worker, which runs them next (non-reentrancy).
     *
     * @return true if {@code w} got the node
     */
    boolean assignWork(WorkNode n, Worker w) {
        Worker collision = n.runningWorker;
        if (collision != null && collision != w && collision.pool == this) {
            worklist.moveLinked(n, collision.scheduled);
            return false;
        }
        worklist.moveLinked(n, w.scheduled);
        return true;
    }

    /** Worker leaves the running set (blocked in a library wait); kernel wq_worker_sleeping. */
    void workerSleeping(Worker w) {
        nrRunning--;
        if (needMoreWorker()) {
            if (w.currentPwq != null) {
                w.currentPwq.wq.stats.cmWakeup.increment();
            }
            kick();
        }
    }

    /** Worker is back from a library wait; kernel wq_worker_running. */
    void workerRunning() {
        nrRunning++;
    }

    // ---------------------------------------------------------------- lifecycle

    /** Stops every worker; idle ones exit at once, busy ones after their current item. */
    void stop() {
        lock.lock();
        try {
            dying = true;
            for (Worker w : workers) {
                w.wake();
            }
        } finally {
            lock.unlock();
        }
    }

    List<Thread> threads() {
        lock.lock();
        try {
            List<Thread> out = new ArrayList<>();
            for (Worker w : workers) {
                out.add(w.thread);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Kernel-style pool description: {@code cpus=0 node=0 flags=0x0 nice=0}. */
    String describe() {
        String cpus = cpu >= 0 ? Integer.toString(cpu) : "0-" + (runtime.cpus() - 1);
        return "cpus=" + cpus + " flags=0x" + (cpu >= 0 ? "0" : "4") + " nice=" + (highPri ? "-20" : "0");
    }

    @Override
    public String toString() {
        return "pool " + id + " (" + describe() + ")";
    }
}
