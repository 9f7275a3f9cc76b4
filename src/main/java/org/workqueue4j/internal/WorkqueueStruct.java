package org.workqueue4j.internal;

import java.lang.System.Logger.Level;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine side of one workqueue (kernel {@code workqueue_struct}): its pool_workqueues, the
 * flush-colour protocol, draining and destruction. The public {@code WorkQueue} delegates here.
 */
public final class WorkqueueStruct {
    /*
     * Implementation Overview
     *
     * Queueing (insert): the caller has already claimed PENDING. Pick the pwq (the given CPU, the
     * caller's CPU, or the single unbound pwq). If the node last ran in another pool and a
     * worker there is running it for this queue right now, queue it to that worker's pwq
     * instead (non-reentrancy: the pool will hand it to the same worker). Under the pool lock:
     * check the queue is accepting, count it in its colour, and put it on the pool's worklist or
     * on the pwq's inactive list.
     *
     * Flush: flushers take flushMutex one at a time. A flush advances every pwq's workColor
     * under that pwq's pool lock, marks the pwqs that still have items of the old colour, and
     * waits for the last of them to report (pwqFlushed). Because the previous flush finished
     * before this one started, at most two colours are ever in flight, and the 16 colours of the
     * kernel are used round-robin. Items queued after the colour advanced never delay the flush.
     * The counter starts at 1 and the flusher drops its own 1 after marking, so a pwq finishing
     * during the marking cannot complete the flush early (kernel flush_workqueue_prep_pwqs).
     *
     * State: DRAINING while drain() runs (only chained work, queued by this queue's own items,
     * is accepted), DESTROYING from destroy() on, DESTROYED when destroy() finished. Written under
     * stateLock, read volatile; the insert path reads it under the pool lock, so a drain that
     * found every pwq idle under those same locks cannot miss an item accepted before it.
     */

    static final int DRAINING = 1;
    static final int DESTROYING = 1 << 1;
    static final int DESTROYED = 1 << 2;

    private static final System.Logger LOG = System.getLogger("org.workqueue4j");

    private final String name;
    final WqRuntime runtime;
    final PoolWorkqueue[] pwqs;
    final boolean unbound;
    final boolean ordered;
    final boolean highPri;
    final boolean cpuIntensive;
    final boolean memReclaim;
    final boolean freezable;
    final WqStats stats = new WqStats();
    /** The public object handed to handlers and reports. */
    final Object api;

    /** The rescuer (memReclaim queues), else null. */
    private final Worker rescuer;
    /** pwqs that asked the rescuer for help; guarded by maydayLock. */
    private final java.util.ArrayDeque<PoolWorkqueue> maydays = new java.util.ArrayDeque<>();
    private final ReentrantLock maydayLock = new ReentrantLock();
    private final java.util.concurrent.locks.Condition maydayCond = maydayLock.newCondition();
    private boolean rescuerStop;
    private boolean frozen;

    private final ReentrantLock flushMutex = new ReentrantLock();
    private final Completion flushDone = new Completion(0);
    private final Object stateLock = new Object();
    private volatile int state;
    private int nrDrainers;
    private volatile int maxActive;

    WorkqueueStruct(WqRuntime runtime, Object api, String name, boolean unbound, boolean ordered,
                    boolean highPri, boolean cpuIntensive, boolean memReclaim, boolean freezable,
                    int maxActive) {
        this.runtime = runtime;
        this.api = api;
        this.name = name;
        this.unbound = unbound;
        this.ordered = ordered;
        this.highPri = highPri;
        this.cpuIntensive = cpuIntensive;
        this.memReclaim = memReclaim;
        this.freezable = freezable;
        this.maxActive = maxActive;
        if (unbound) {
            pwqs = new PoolWorkqueue[] {new PoolWorkqueue(this, runtime.unboundPool(highPri), maxActive)};
        } else {
            pwqs = new PoolWorkqueue[runtime.cpus()];
            for (int cpu = 0; cpu < pwqs.length; cpu++) {
                pwqs[cpu] = new PoolWorkqueue(this, runtime.cpuPool(cpu, highPri), maxActive);
            }
        }
        if (memReclaim) {
            rescuer = new Worker(this);
            Thread t = runtime.newThread(rescuer, rescuer.name); // a failure fails the queue's creation
            rescuer.thread = t;
            t.start();
        } else {
            rescuer = null;
        }
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                pwq.pool.pwqs.add(pwq);
            } finally {
                pwq.pool.lock.unlock();
            }
        }
    }

    public boolean hasRescuer() {
        return rescuer != null;
    }

    /** Queues {@code pwq} for the rescuer (kernel send_mayday); called under its pool lock. */
    // mayday flag: guarded by maydayLock, set here and cleared when the rescuer takes the pwq.
    void mayday(PoolWorkqueue pwq) {
        maydayLock.lock();
        try {
            if (!pwq.mayday) {
                pwq.mayday = true;
                maydays.addLast(pwq);
                stats.mayday.increment();
                maydayCond.signal();
            }
        } finally {
            maydayLock.unlock();
        }
    }

    /**
     * The rescuer's loop (kernel rescuer_thread): for each pwq that called mayday, attach to
     * its pool and run that pwq's items from the worklist, then detach.
     */
    void rescuerLoop(Worker r) {
        while (true) {
            PoolWorkqueue pwq;
            maydayLock.lock();
            try {
                while (maydays.isEmpty() && !rescuerStop) {
                    maydayCond.awaitUninterruptibly();
                }
                if (maydays.isEmpty()) {
                    return;
                }
                pwq = maydays.pollFirst();
                pwq.mayday = false;
            } finally {
                maydayLock.unlock();
            }
            WorkerPool pool = pwq.pool;
            r.pool = pool;
            pool.lock.lock();
            try {
                WorkNode n;
                while ((n = firstOf(pool, pwq)) != null) {
                    stats.rescued.increment();
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
    private void stopRescuer() {
        if (rescuer == null) {
            return;
        }
        maydayLock.lock();
        try {
            rescuerStop = true;
            maydayCond.signal();
        } finally {
            maydayLock.unlock();
        }
        if (rescuer.thread != Thread.currentThread()) {
            boolean interrupted = false;
            while (rescuer.thread.isAlive()) {
                try {
                    rescuer.thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    Thread rescuerThread() {
        return rescuer == null ? null : rescuer.thread;
    }

    // ------------------------------------------------------------------------------- freezing

    /** Kernel freeze_workqueues_begin for this queue: max_active 0, new items wait inactive. */
    void freeze() {
        synchronized (stateLock) {
            frozen = true;
        }
        applyMaxActive(0);
    }

    /** Kernel thaw_workqueues: restore max_active and activate what waited. */
    void thaw() {
        synchronized (stateLock) {
            frozen = false;
        }
        applyMaxActive(maxActive);
    }

    /** True while any item of this (frozen) queue is still active. */
    boolean freezeBusy() {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                if (pwq.nrActive > 0) {
                    return true;
                }
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return false;
    }

    public String name() {
        return name;
    }

    public Object api() {
        return api;
    }

    public WqStats stats() {
        return stats;
    }

    public int maxActive() {
        return maxActive;
    }

    /** Kernel workqueue_set_max_active: store, then activate inactive items up to the limit. */
    public void setMaxActive(int n) {
        boolean isFrozen;
        synchronized (stateLock) {
            maxActive = n;
            isFrozen = frozen;
        }
        if (!isFrozen) {
            applyMaxActive(n);
        }
    }

    private void applyMaxActive(int n) {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                pwq.maxActive = n;
                boolean any = false;
                while (pwq.activateFirstInactive()) {
                    any = true;
                }
                if (any) {
                    pwq.pool.kick();
                }
            } finally {
                pwq.pool.lock.unlock();
            }
        }
    }

    public boolean isDestroyed() {
        return (state & DESTROYED) != 0;
    }

    /** destroy() has begun: the timer refuses to arm for this queue (checked under its lock). */
    boolean isDying() {
        return (state & (DESTROYING | DESTROYED)) != 0;
    }

    boolean isDraining() {
        return (state & (DRAINING | DESTROYING)) != 0;
    }

    // ------------------------------------------------------------------------------- queueing

    /**
     * Queues a node whose PENDING bit the caller has just claimed.
     *
     * @param cpu a CPU index, or -1 for the caller's CPU
     * @throws IllegalStateException if the queue does not accept the item; PENDING is cleared
     */
    public void insertClaimed(int cpu, WorkNode n) {
        PoolWorkqueue pwq = selectPwq(cpu);
        WorkerPool pool = pwq.pool;
        WorkerPool last = n.poolAcquire();
        if (last != null && last != pool && !ordered) {
            last.lock.lock();
            Worker w = n.runningWorker;
            if (w != null && w.pool == last && w.currentPwq != null && w.currentPwq.wq == this) {
                pwq = w.currentPwq;
                pool = last;
            } else {
                last.lock.unlock();
                pool.lock.lock();
            }
        } else {
            pool.lock.lock();
        }
        try {
            int st = state;
            if ((st & DESTROYED) != 0 || ((st & (DRAINING | DESTROYING)) != 0 && !isChainedWork())) {
                n.clearState(WorkNode.PENDING);
                throw new IllegalStateException(rejection(st, n));
            }
            int color = pwq.workColor;
            pwq.nrInFlight[color]++;
            n.color = color;
            n.pwq = pwq;
            n.setPool(pool);
            if (pwq.inactive.isEmpty() && pwq.nrActive < pwq.maxActive) {
                pwq.nrActive++;
                n.flags = 0;
                pool.worklist.addLast(n);
                pool.noteWorklistAdd();
                pool.kick();
            } else {
                n.flags = WorkNode.INACTIVE;
                pwq.inactive.addLast(n);
            }
        } finally {
            pool.lock.unlock();
        }
    }

    private String rejection(int st, WorkNode n) {
        String why = (st & (DESTROYED | DESTROYING)) != 0 ? "is destroyed" : "is draining";
        if ((st & DESTROYED) == 0 && (st & DESTROYING) != 0) {
            why = "is being destroyed";
        }
        return "queue '" + name + "' " + why + "; cannot queue work '" + n.name() + "'"
                + ((st & DESTROYED) == 0 ? " (only its own work items may queue to it now)" : "");
    }

    private PoolWorkqueue selectPwq(int cpu) {
        if (unbound) {
            return pwqs[0];
        }
        return pwqs[cpu >= 0 ? cpu : runtime.localCpu()];
    }

    /** Kernel is_chained_work: the caller is a worker running an item of this queue. */
    boolean isChainedWork() {
        Worker w = Worker.current();
        return w != null && w.currentPwq != null && w.currentPwq.wq == this;
    }

    // ------------------------------------------------------------------------------- flushing

    /** Waits until every item queued before the call has finished (kernel __flush_workqueue). */
    public void flush() {
        Worker self = Worker.current();
        if (self != null && self.currentPwq != null && self.currentPwq.wq == this) {
            throw new IllegalStateException("work '" + self.currentWork.name()
                    + "' cannot flush its own queue '" + name + "': it would wait for itself");
        }
        WorkEvents.FlushWait ev = WorkEvents.beginFlush();
        lockMutex();
        try {
            flushDone.reset(1);
            for (PoolWorkqueue pwq : pwqs) {
                WorkerPool pool = pwq.pool;
                pool.lock.lock();
                try {
                    int color = pwq.workColor;
                    if (pwq.nrInFlight[color] > 0) {
                        pwq.flushColor = color;
                        flushDone.add(1);
                    }
                    pwq.workColor = (color + 1) % PoolWorkqueue.NR_COLORS;
                } finally {
                    pool.lock.unlock();
                }
            }
            flushDone.countDown();
            flushDone.await();
        } finally {
            flushMutex.unlock();
            WorkEvents.commitFlush(ev, "flush_workqueue", name);
        }
    }

    /** A pwq's marked colour reached zero; called under that pwq's pool lock. */
    void pwqFlushed() {
        flushDone.countDown();
    }

    private void lockMutex() {
        if (flushMutex.tryLock()) {
            return;
        }
        Worker w = Worker.current();
        if (w != null) {
            w.sleeping();
        }
        try {
            flushMutex.lock();
        } finally {
            if (w != null) {
                w.running();
            }
        }
    }

    /** Flushes until every pwq is idle; meanwhile only chained work may queue (kernel drain_workqueue). */
    public void drain() {
        synchronized (stateLock) {
            if (nrDrainers++ == 0) {
                state |= DRAINING;
            }
        }
        try {
            for (int tries = 1; ; tries++) {
                flush();
                if (allIdle()) {
                    return;
                }
                if (tries == 10 || (tries % 100 == 0 && tries <= 1000)) {
                    LOG.log(Level.WARNING, "workqueue {0}: drain isn''t complete after {1} tries", name, tries);
                }
            }
        } finally {
            synchronized (stateLock) {
                if (--nrDrainers == 0) {
                    state &= ~DRAINING;
                }
            }
        }
    }

    private boolean allIdle() {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                if (!pwq.isIdle()) {
                    return false;
                }
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return true;
    }

    /**
     * Drains, then refuses every later queue and unlinks the queue from its pools. Calling it
     * again after it returned does nothing.
     *
     * @return false if the queue was already destroyed
     */
    public boolean destroy() {
        synchronized (stateLock) {
            if ((state & (DESTROYING | DESTROYED)) != 0) {
                return false;
            }
            state |= DESTROYING;
        }
        // Armed delayed work is the caller's duty (kernel rule); it is reported, never lost silently.
        for (WorkNode n : runtime.timer().cancelAllFor(this)) {
            n.clearState(WorkNode.TIMER | WorkNode.PENDING);
            runtime.uncaught(this, n, new IllegalStateException("queue '" + name + "' destroyed while delayed work '"
                    + n.name() + "' was armed; the timer was cancelled (cancel delayed work before destroying its queue)"));
        }
        drain();
        synchronized (stateLock) {
            state = (state & ~DESTROYING) | DESTROYED;
        }
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                pwq.pool.pwqs.remove(pwq);
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        stopRescuer();
        runtime.unregister(this);
        return true;
    }

    // ------------------------------------------------------------------------------- work flush

    /**
     * Waits for the last queueing instance of {@code n} to finish by linking a barrier behind
     * it (kernel start_flush_work + insert_wq_barrier).
     *
     * @return true if it waited, false if the item was idle
     */
    public static boolean flushWork(WorkNode n) {
        Barrier b = null;
        WorkerPool pool;
        while (true) {
            pool = n.poolAcquire();
            if (pool == null) {
                return false;
            }
            if (b == null) {
                b = new Barrier(n.name());
            }
            pool.lock.lock();
            // pwq and runningWorker are guarded by the lock of the pool the node is in; a node
            // requeued to another pool meanwhile shows a pwq of that pool: follow it there
            // (kernel start_flush_work checks pwq->pool == pool).
            PoolWorkqueue p = n.pwq;
            if (p == null || p.pool == pool) {
                break;
            }
            pool.lock.unlock();
        }
        try {
            PoolWorkqueue pwq = n.pwq;
            Worker running = n.runningWorker;
            if (running != null && running == Worker.current()) {
                throw new IllegalStateException("work '" + n.name() + "' cannot flush itself: it would wait for itself");
            }
            if (pwq != null) {
                b.color = n.color;
                b.flags = WorkNode.INACTIVE | (n.flags & WorkNode.LINKED);
                n.flags |= WorkNode.LINKED;
                b.pwq = pwq;
                pwq.nrInFlight[b.color]++;
                n.list.addAfter(n, b);
            } else if (running != null && running.pool == pool) {
                b.color = running.currentColor;
                b.flags = WorkNode.INACTIVE;
                b.pwq = running.currentPwq;
                b.pwq.nrInFlight[b.color]++;
                running.scheduled.addFirst(b);
            } else {
                return false;
            }
            b.setPool(pool);
        } finally {
            pool.lock.unlock();
        }
        WorkEvents.FlushWait ev = WorkEvents.beginFlush();
        b.done.await();
        WorkEvents.commitFlush(ev, "flush_work", n.name());
        return true;
    }

    @Override
    public String toString() {
        return name;
    }
}
