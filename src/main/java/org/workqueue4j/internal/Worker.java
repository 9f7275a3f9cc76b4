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
     * Inbox and idling (see WorkerPool's overview for the handshake with producers). The loop
     * lands the pools' inboxes (spliceInboxes) when it leaves idle and whenever its worklist
     * runs dry, so it processes whole batches of lock-free pushes; items are still taken one
     * per lock hold (PENDING is cleared just before each run, never for a batch ahead, so a
     * queue() racing an item that has not started yet still collapses into it). The worker is
     * "seeking" except while it works through a batch: seek(false) before its first item and
     * kick() before each item (which reads the hint and lands the inboxes), seek(true) when the
     * batch ends (its worklist is dry, or another worker runs). Between two items of a batch it
     * holds the pool lock and lands the hint itself before the next one, so it need not be
     * counted; not counting it saves two volatile stores per item. Going idle it spins
     * IDLE_SPINS times without the lock, watching inboxHint and `woken`, then under the lock
     * turns seeking off and re-reads the hint before it parks.
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
    /** System.nanoTime() when this idle worker last parked, 0 if it has not parked since it went idle (pool lock). */
    long idleSinceNanos;
    /** Nesting depth of library waits (flush inside flush is one sleep). */
    int sleepDepth;
    /**
     * Items this worker started (pool lock). The monitor times the current item from the first
     * scan that sees a new value (seenRunSeq, runSeenNanos, its own fields, under the pool lock),
     * so starting an item reads no clock; its estimate of an item's running time is short by at
     * most one tick, never long.
     */
    long runSeq;
    long seenRunSeq;
    long runSeenNanos;

    /**
     * Monitor, pool lock held: when the current item was first seen running; {@code now} if this
     * scan is the first to see it (as WorkerPool.observeProgress turns progress into a time).
     */
    long observeRun(long now) {
        if (runSeq != seenRunSeq) {
            seenRunSeq = runSeq;
            runSeenNanos = now;
        }
        return runSeenNanos;
    }
    /**
     * A kick woke this idle worker and it has not left idle yet (one wake-up in flight).
     * Written under the pool lock; volatile because the spinning worker reads it without it.
     */
    volatile boolean woken;
    /** This worker counts in pool.nrSeeking (pool lock). */
    private boolean seeking;
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
        return WorkerPool.CURRENT_WORKER.get();
    }

    void wake() {
        LockSupport.unpark(thread);
    }

    /**
     * The queue whose finished flush colour this worker is to wake the flushers of, at its next
     * unlock of the pool lock (signalFlushers); only this worker's thread touches it.
     */
    private FlushColors flushSignal;
    /**
     * A blocking flush's barrier this worker ran, whose flusher it wakes at its next unlock of
     * the pool lock (signalFlushers); only this worker's thread touches it.
     */
    private Barrier barrierToFinish;

    /**
     * Pool lock held, completing an item: {@code fc} has flushers to wake once the lock is
     * dropped (a second queue's, which cannot come before the next unlock, is woken at once).
     */
    void deferFlushSignal(FlushColors fc) {
        FlushColors other = flushSignal;
        flushSignal = fc;
        if (other != null && other != fc) {
            other.signalFinished();
        }
    }

    /**
     * Pool lock held, a flush barrier just left its colour's in-flight count: its blocking
     * flusher is woken at the next unlock (signalFlushers), with the flushers of that colour.
     * One at a time: each item's run begins with an unlock that finishes the one before.
     */
    void deferBarrier(Barrier b) {
        Barrier older = barrierToFinish;
        barrierToFinish = b;
        if (older != null) {
            older.finishBlocking(); // not reached (see above); if it were, waking it now loses nothing
        }
    }

    /**
     * Just after dropping the pool lock: wakes the flushers that the item completed last
     * released (see PoolWorkqueue.decInFlight). Every unlock of the worker loop that can
     * follow a completion calls it: before the next item runs, before the idle spin, and on
     * exit (and ManualWorkers' turn of the loop).
     */
    void signalFlushers() {
        Barrier b = barrierToFinish;
        if (b != null) {
            barrierToFinish = null;
            b.finishBlocking();
        }
        FlushColors fc = flushSignal;
        if (fc != null) {
            flushSignal = null;
            fc.signalFinished();
        }
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
        idleSinceNanos = 0; // stamped when it parks: a worker that finds work while spinning reads no clock
        pool.idle.addFirst(this);
    }

    void leaveIdle() {
        woken = false;
        pool.idle.remove(this);
        seek(true);
    }

    /**
     * Pool lock held: counts this pool worker in, or out of, pool.nrSeeking (volatile store).
     * A rescuer never counts: it does not serve the pool's producers.
     */
    void seek(boolean on) {
        if (seeking != on && rescuerOf == null) {
            seeking = on;
            pool.nrSeeking += on ? 1 : -1;
        }
    }

    // ---------------------------------------------------------------- managed blocking

    /**
     * The calling worker is about to block in a library wait (flush, cancelSync, drain,
     * destroy, or the runtime's managed-blocking API): it stops counting as running, and the
     * pool wakes another worker if work is pending (kernel wq_worker_sleeping).
     */
    void sleeping() {
        // Probed: called from an item's code (a managed wait, a library wait) at any depth of the
        // worker's stack. running() takes the same lock from the same frame as its sleeping(), so
        // this probe, reaching deeper, covers it too.
        pool.acquireFromCaller();
        try {
            if (sleepDepth++ == 0 && (flags & NOT_RUNNING) == 0) {
                // All or nothing: the caller calls running() only if this returns. The counts are
                // plain and volatile field writes here (no call between them), and an Error from
                // the wake-up (its statistics allocate) undoes both: left counted asleep, the
                // worker would never count in nrRunning again.
                pool.nrRunning--; // volatile store, then the inboxHint read in wakeForSleeper: the producers' handshake
                try {
                    pool.wakeForSleeper(this);
                } catch (Throwable e) {
                    sleepDepth--;
                    pool.nrRunning++;
                    throw e;
                }
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
                pool.nrRunning++; // inline, no call: nothing can come between the two counts
            }
        } finally {
            pool.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- the loop

    @Override
    public void run() {
        if (rescuerOf != null && !rescuerOf.checkIn()) {
            // A thread the factory started itself (newThread refused it, so the rescuer's
            // OnDemandThread never recorded it): the rescuer's loop would wait here for ever.
            return;
        }
        WorkerPool.CURRENT_WORKER.set(this);
        if (rescuerOf != null) {
            try {
                rescuerOf.loop(this);
            } finally {
                try {
                    WorkerPool.CURRENT_WORKER.remove();
                } finally {
                    rescuerOf.exited(); // whatever happens above: else its queue's nodes would wait for it for good
                }
            }
            return;
        }
        WorkerPool p = pool;
        long idleTimeout = p.runtime.idleTimeoutNanos();
        p.lock.lock();
        if (thread != Thread.currentThread() || !p.workers.contains(this)) {
            // Not the started thread of an attached worker: a factory that started the thread
            // itself, or a start() that threw after starting (createWorker gave the worker up).
            // Running the loop here would make a worker outside the pool's list: outside the
            // cap, never woken (wake() unparks `thread`), never stopped or joined by close().
            // `thread` and `workers` are written by createWorker under this lock: read here under it.
            p.lock.unlock();
            WorkerPool.CURRENT_WORKER.remove();
            return;
        }
        try {
            while (true) {
                if (p.dying && nothingLeftWhileDying(p)) {
                    break;
                }
                leaveIdle();
                p.landHintedInboxes();
                if (p.needMoreWorker()) {
                    if (!p.mayStartWorking()) {
                        // No idle worker left behind this one: the kernel's worker makes one first
                        // (manage_workers). Here the manager thread makes it while this worker
                        // starts on the items: the spare is there about as soon, and the first
                        // item of an idle pool does not wait for a thread creation.
                        p.requestSpare();
                    }
                    clearFlags(PREP);
                    do {
                        WorkNode n = p.worklist.first();
                        if (p.assignWork(n, this)) {
                            processScheduled();
                        }
                        if (p.worklist.isEmpty()) {
                            p.landHintedInboxes(); // the next batch of lock-free pushes
                        }
                    } while (p.keepWorking());
                    WqRuntime.testHook("worker.batchEnd", p); // lock held, not seeking yet
                    seek(true); // the batch is over: it looks at the hint again before it parks
                    setFlags(PREP);
                }
                if (p.dying && nothingLeftWhileDying(p)) {
                    break;
                }
                enterIdle();
                p.lock.unlock();
                try {
                    signalFlushers();
                    spinForWork(p);
                } finally {
                    p.acquire();
                }
                // Dying, and still here: items are left that another running worker will take
                // (its exit kicks and wakes the idle ones): park as when not dying.
                if (p.inboxHint == 0 && !woken && !retired) {
                    WqRuntime.testHook("worker.idleHandshake", p);
                    seek(false); // volatile store, then the hint re-read: no lost wake-up (see WorkerPool)
                    if (p.inboxHint == 0) {
                        idleSinceNanos = System.nanoTime(); // the idle timeout counts from here
                        p.lock.unlock();
                        try {
                            WqRuntime.testHook("worker.park", p);
                            // Never park with an interrupt pending: parkNanos would return at once, forever.
                            Thread.interrupted();
                            LockSupport.parkNanos(p, idleTimeout);
                        } finally {
                            p.lock.lock();
                        }
                    }
                }
                if (retired) {
                    break; // retired by the monitor: the worker cap needs the slot elsewhere
                }
                if (idleSinceNanos != 0 && p.worklist.isEmpty() && p.inboxHint == 0 && p.idle.contains(this)
                        && p.tooManyWorkers() && System.nanoTime() - idleSinceNanos >= idleTimeout) {
                    break; // culled: idle too long while the pool has too many idle workers
                }
            }
        } finally {
            boolean stopped = p.dying;
            try {
                p.workerExited(this);
                p.kick(); // it stopped seeking: a push that counted on it finds another worker
                if (stopped) {
                    p.wakeAll(); // idle workers parked with items left: they take them, or exit
                }
            } finally {
                p.lock.unlock();
                WorkerPool.CURRENT_WORKER.remove();
                signalFlushers();
                if (stopped) {
                    Deserted.deliver(p); // the last to leave: what reached the pool since its last look is reported
                }
            }
        }
    }

    /**
     * The pool is dying (close()): whether this worker may exit, nothing being left that it
     * could run. The items still queued when close() stopped the pool (past its timeout, or
     * interrupted) run before the workers end, as close() promises: its own scheduled items, the
     * worklist, and every inbox, landed first, hinted or not (a push that made it in before the
     * queue refused new items, its pusher perhaps not yet at the hint). Before, a woken idle
     * worker exited at once, leaving such items in a pool with no worker: never run, never
     * reported, their flushes waiting for ever. Pool lock held.
     */
    private boolean nothingLeftWhileDying(WorkerPool p) {
        if (!scheduled.isEmpty()) {
            return false;
        }
        p.landInboxes();
        return p.worklist.isEmpty();
    }

    /** Spin iterations (without the lock) before an idle worker parks. */
    static final int IDLE_SPINS = 256;

    /** Spins without the lock until a push signals the pool or a kick woke this worker, or the spin ends. */
    private void spinForWork(WorkerPool p) {
        WqRuntime.testHook("worker.spin", p); // idle and seeking, no lock held
        for (int i = 0; i < IDLE_SPINS; i++) {
            if (p.inboxHint != 0 || woken) {
                return;
            }
            Thread.onSpinWait();
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
        p.noteProgress();
        runSeq++;
        WqRuntime rt = p.runtime;
        boolean intensive = pwq.wq.cpuIntensive;
        if (intensive) {
            setFlags(CPU_INTENSIVE);
        }
        // Not seeking while user code runs: volatile store, then kick() reads the hint (lands the
        // inboxes). Unbound and CPU-intensive workers do not count: chain-wake the next idle worker.
        seek(false);
        p.kick();
        // Clear PENDING (and set RUNNING) under the lock (full fence): a queue from now on returns
        // true and, finding this worker in the node's runningWorker, hands the item back to us.
        n.startRunning();
        // Under the pool lock, before the item is seen running: an interrupt aimed at this
        // worker before now (while idle, or at an item that has ended) is dropped; one sent by
        // whoever finds the item running (under this lock) from now on reaches the item.
        Thread.interrupted();
        boolean item = !n.isEngineNode(); // a flush barrier or step is no item: stats() counts items only
        if (item) {
            pwq.started++;
        }
        long queued = n.queuedNanos; // stamped only while JFR or latency statistics are on: then read the clock
        long now = queued != 0 || n.statsQueuedNanos != 0 ? System.nanoTime() : 0;
        if (n.statsQueuedNanos != 0) { // sampled: latency statistics were on when it was queued
            pwq.noteQueueToStart(now - n.statsQueuedNanos);
            n.statsQueuedNanos = 0;
        }
        n.queuedNanos = 0;
        p.lock.unlock();
        signalFlushers();
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
            try {
                if (ev != null) {
                    try {
                        WorkEvents.commitExecution(ev, pwq.wq.name(), n.name(), name, queued == 0 ? 0 : now - queued);
                    } catch (Throwable e) { // the accounting below must happen, or flushes of this item hang
                        rt.uncaught(pwq.wq, n, e);
                    }
                }
                WqRuntime.testHook("worker.itemEnd", n);
            } finally {
                // Even if an Error (asynchronous, or an allocation failure) strikes the lines above:
                // the item is accounted for, and the Error then ends this worker with the lock held,
                // as run() expects (workerExited un-counts it and hands its scheduled items back).
                p.acquire();
                if ((flags & (CPU_INTENSIVE | UNMANAGED_SLEEP)) != 0) {
                    clearFlags(CPU_INTENSIVE | UNMANAGED_SLEEP);
                }
                n.runningWorker = null;
                Thread.interrupted(); // the item's interrupt, if it left one, ends with it (TPE.runWorker)
                currentWork = null;
                currentPwq = null;
                n.endRunning(); // after the node's last lock-guarded write: a fast-path claim sees them
                if (item) {
                    pwq.completed++;
                }
                // A pool worker runs what it activates next, and wakes the flushers a finished colour
                // releases at its next unlock (a rescuer wakes them at once: its loop is its own).
                try {
                    pwq.decInFlight(color, active, rescuerOf != null, rescuerOf == null ? this : null);
                } finally { // even if an Error strikes the accounting: the flusher is still woken (at the exit's unlock)
                    n.accounted(this); // a blocking flush's barrier: its flusher is woken at the next unlock
                }
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
