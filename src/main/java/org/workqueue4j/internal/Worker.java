package org.workqueue4j.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * One worker thread of a pool (kernel {@code worker}). Named like the kernel's:
 * {@code kworker/0:1}, {@code kworker/0:1H}, {@code kworker/u4:0}.
 */
final class Worker implements Runnable {
    /*
     * Implementation Overview
     *
     * The loop is the kernel's worker_thread: leave idle; if the pool does not need a worker,
     * go back to sleep; if no idle worker is left behind us, create one first; then take work
     * while keepWorking(). Taking an item (processOneWork) happens under the pool lock: record
     * it as this worker's current item (the busy-hash entry non-reentrancy relies on), clear
     * PENDING, drop the lock, run, retake the lock and account the completion.
     *
     * Interrupts (ThreadPoolExecutor.runWorker's rule): an interrupt aimed at a worker thread
     * interrupts the item running on it, only. The status is cleared under the pool lock just
     * before an item starts and just after it ends, and before every park, so an item that
     * ends interrupted passes nothing on and an idle worker never parks with an interrupt
     * pending (parkNanos would return at once and the worker would spin, never culled). The
     * engine's own waits never rely on interrupts.
     *
     * Flags follow the kernel: PREP (not yet running work), CPU_INTENSIVE and UNBOUND take the
     * worker out of nrRunning. Only `thread` state touched by other threads is `wakeup`, which
     * relies on LockSupport's permit: an unpark before the park is not lost.
     */

    static final int PREP = 1;
    static final int CPU_INTENSIVE = 1 << 1;
    static final int UNBOUND = 1 << 2;
    /** The monitor saw the current item blocked outside a library wait (see Monitor). */
    static final int UNMANAGED_SLEEP = 1 << 3;
    static final int NOT_RUNNING = PREP | CPU_INTENSIVE | UNBOUND | UNMANAGED_SLEEP;

    private static final ThreadLocal<Worker> CURRENT = new ThreadLocal<>();

    /** The pool served; a rescuer re-attaches to the pool it rescues (read by others under its lock). */
    volatile WorkerPool pool;
    /** The rescuer this worker is the thread of, or null for a pool worker. */
    final Rescuer rescuerOf;
    final int id;
    final String name;
    Thread thread;
    final WorkList scheduled = new WorkList();

    // guarded by pool.lock
    WorkNode currentWork;
    PoolWorkqueue currentPwq;
    int currentColor;
    int flags = PREP;
    long idleSinceNanos;
    /** Nesting depth of library waits (flush inside flush is one sleep). */
    int sleepDepth;
    /** System.nanoTime() when the current item started, 0 between items; the monitor reads it under the pool lock. */
    long currentStartNanos;
    /** A kick woke this idle worker and it has not left idle yet (one wake-up in flight). */
    boolean woken;
    /** Taken off idle to free its slot under the worker cap: exits when it wakes. */
    boolean retired;

    Worker(WorkerPool pool, int id) {
        this.pool = pool;
        this.rescuerOf = null;
        this.id = id;
        if (pool.cpu >= 0) {
            this.name = "kworker/" + pool.cpu + ":" + id + (pool.highPri ? "H" : "");
        } else {
            this.name = "kworker/u" + pool.id + ":" + id;
            this.flags |= UNBOUND;
        }
    }

    /** The thread of {@code rescuer}, for queue {@code queueName} (kernel rescuer_thread): never counts in nr_running. */
    Worker(Rescuer rescuer, String queueName) {
        this.rescuerOf = rescuer;
        this.id = 0;
        this.name = "kworker/R-" + queueName;
        this.flags = PREP;
    }

    /** The runtime this worker (or rescuer) belongs to. */
    WqRuntime runtime() {
        return rescuerOf != null ? rescuerOf.runtime() : pool.runtime;
    }

    /** The worker the calling thread is, or null. */
    static Worker current() {
        return CURRENT.get();
    }

    void wake() {
        LockSupport.unpark(thread);
    }

    // ---------------------------------------------------------------- flags (lock held)

    void setFlags(int f) {
        if ((flags & NOT_RUNNING) == 0 && (f & NOT_RUNNING) != 0 && sleepDepth == 0) {
            pool.nrRunning--;
        }
        flags |= f;
    }

    void clearFlags(int f) {
        int old = flags;
        flags &= ~f;
        if ((old & NOT_RUNNING) != 0 && (flags & NOT_RUNNING) == 0 && sleepDepth == 0) {
            pool.nrRunning++;
        }
    }

    void enterIdle() {
        idleSinceNanos = System.nanoTime();
        pool.idle.addFirst(this);
    }

    void leaveIdle() {
        woken = false;
        pool.idle.remove(this);
    }

    // ---------------------------------------------------------------- managed blocking

    /**
     * The calling worker is about to block in a library wait (flush, cancelSync, drain,
     * destroy, or the runtime's managed-blocking API): it stops counting as running, and the
     * pool wakes another worker if work is pending (kernel wq_worker_sleeping).
     */
    void sleeping() {
        pool.lock.lock();
        try {
            if (sleepDepth++ == 0 && (flags & NOT_RUNNING) == 0) {
                pool.workerSleeping(this);
            }
        } finally {
            pool.lock.unlock();
        }
    }

    /** Back from a library wait (kernel wq_worker_running). */
    void running() {
        pool.lock.lock();
        try {
            if (--sleepDepth == 0 && (flags & NOT_RUNNING) == 0) {
                pool.workerRunning();
            }
        } finally {
            pool.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- the loop

    @Override
    public void run() {
        CURRENT.set(this);
        if (rescuerOf != null) {
            try {
                rescuerOf.loop(this);
            } finally {
                CURRENT.remove();
            }
            return;
        }
        WorkerPool p = pool;
        long idleTimeout = p.runtime.idleTimeoutNanos();
        p.lock.lock();
        try {
            boolean managed = false;
            while (true) {
                if (p.dying && scheduled.isEmpty()) {
                    break;
                }
                leaveIdle();
                if (p.needMoreWorker()) {
                    // Manage once per wake-up: creation drops the lock, so re-check after it; a
                    // creation that failed (cap, factory) does not stop this worker from working.
                    if (!managed && !p.mayStartWorking() && p.manageWorkers()) {
                        managed = true;
                        continue;
                    }
                    managed = false;
                    clearFlags(PREP);
                    do {
                        WorkNode n = p.worklist.first();
                        if (p.assignWork(n, this)) {
                            processScheduled();
                        }
                    } while (p.keepWorking());
                    setFlags(PREP);
                }
                if (p.dying) {
                    break;
                }
                enterIdle();
                p.lock.unlock();
                try {
                    // Never park with an interrupt pending: parkNanos would return at once, forever.
                    Thread.interrupted();
                    LockSupport.parkNanos(p, idleTimeout);
                } finally {
                    p.lock.lock();
                }
                managed = false;
                if (retired) {
                    break; // retired by the monitor: the worker cap needs the slot elsewhere
                }
                if (System.nanoTime() - idleSinceNanos >= idleTimeout && p.worklist.isEmpty()
                        && p.idle.contains(this) && p.tooManyWorkers()) {
                    break; // culled: idle too long while the pool has too many idle workers
                }
            }
        } finally {
            p.workerExited(this);
            p.lock.unlock();
            CURRENT.remove();
        }
    }

    /** Runs everything on the scheduled list, including items moved here by collisions. */
    void processScheduled() {
        WorkNode n;
        while ((n = scheduled.first()) != null) {
            processOne(n);
        }
    }

    /** Kernel process_one_work; called and returns with the pool lock held. */
    private void processOne(WorkNode n) {
        WorkerPool p = pool;
        PoolWorkqueue pwq = n.pwq;
        int color = n.color;
        boolean active = (n.flags & WorkNode.INACTIVE) == 0;
        scheduled.remove(n);
        n.pwq = null;
        n.flags = 0;
        n.runningWorker = this;
        currentWork = n;
        currentPwq = pwq;
        currentColor = color;
        long now = System.nanoTime();
        p.lastProgressNanos = now;
        p.stallReported = false;
        WqRuntime rt = p.runtime;
        boolean intensive = pwq.wq.cpuIntensive;
        if (intensive) {
            setFlags(CPU_INTENSIVE);
        }
        // Unbound and CPU-intensive workers do not count: chain-wake the next idle worker.
        if (p.needMoreWorker()) {
            p.kick();
        }
        // Clear PENDING under the lock (full fence): a queue from now on returns true and,
        // finding this worker in the node's runningWorker, hands the item back to us.
        n.clearState(WorkNode.PENDING);
        // Under the pool lock, before the item is seen running: an interrupt aimed at this
        // worker before now (while idle, or at an item that has ended) is dropped; one sent by
        // whoever finds the item running (under this lock) from now on reaches the item.
        Thread.interrupted();
        pwq.started++;
        if (n.statsQueuedNanos != 0) { // sampled: latency statistics were on when it was queued
            pwq.noteQueueToStart(now - n.statsQueuedNanos);
            n.statsQueuedNanos = 0;
        }
        currentStartNanos = now;
        long queued = n.queuedNanos;
        n.queuedNanos = 0;
        p.lock.unlock();
        Object ev = null;
        try {
            try { // inside the try: an Error here must still reach the accounting below
                rt.monitor().noteBusy();
                ev = WorkEvents.beginExecution();
            } catch (Throwable e) {
                rt.uncaught(pwq.wq, n, e);
            }
            rt.execute(pwq.wq, n);
        } finally {
            if (ev != null) {
                try {
                    WorkEvents.commitExecution(ev, pwq.wq.name(), n.name(), name, queued == 0 ? 0 : now - queued);
                } catch (Throwable e) { // the accounting below must happen, or flushes of this item hang
                    rt.uncaught(pwq.wq, n, e);
                }
            }
            p.acquire();
            currentStartNanos = 0;
            if ((flags & (CPU_INTENSIVE | UNMANAGED_SLEEP)) != 0) {
                clearFlags(CPU_INTENSIVE | UNMANAGED_SLEEP);
            }
            n.runningWorker = null;
            Thread.interrupted(); // the item's interrupt, if it left one, ends with it (TPE.runWorker)
            currentWork = null;
            currentPwq = null;
            pwq.completed++;
            pwq.decInFlight(color, active);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
