package org.workqueue4j.internal;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;

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

    private static final VarHandle USED;

    static {
        try {
            USED = MethodHandles.lookup().findVarHandle(WorkqueueStruct.class, "used", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    final WqRuntime runtime;
    /** The queue's flush pseudo-lock (kernel wq->lockdep_map). */
    final LockMap lockMap;
    /** Validation is on: maintain `used`. Off, the insert path pays one final-field test. */
    private final boolean trackUsed;
    /**
     * An item was queued here at least once (the 2020 thread's proposal): written with release
     * under the pool lock on the first insert, read with acquire by flushers, so a flush that
     * happens-after a successful queue sees it.
     */
    @SuppressWarnings("unused") // accessed through USED
    private boolean used;
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
    final Rescuer rescuer;
    private boolean frozen;

    private final ReentrantLock flushMutex = new ReentrantLock();
    private final Completion flushDone = new Completion(0);
    private final Object stateLock = new Object();
    private volatile int state;
    private int nrDrainers;
    private volatile int maxActive;

    WorkqueueStruct(WqRuntime runtime, Object api, QueueSpec spec) {
        this.runtime = runtime;
        this.api = api;
        this.name = spec.name();
        this.unbound = spec.unbound() || spec.ordered();
        this.ordered = spec.ordered();
        this.highPri = spec.highPri();
        this.cpuIntensive = spec.cpuIntensive();
        this.memReclaim = spec.memReclaim();
        this.freezable = spec.freezable();
        int maxActive = spec.maxActive();
        this.maxActive = maxActive;
        LockClassKey key = spec.lockClass() != null ? spec.lockClass() : new LockClassKey("(wq_completion)" + name);
        this.lockMap = new LockMap("(wq_completion)" + name, key);
        this.trackUsed = runtime.validator().isEnabled();
        if (unbound) {
            pwqs = new PoolWorkqueue[] {new PoolWorkqueue(this, runtime.unboundPool(highPri), maxActive)};
        } else {
            pwqs = new PoolWorkqueue[runtime.cpus()];
            for (int cpu = 0; cpu < pwqs.length; cpu++) {
                pwqs[cpu] = new PoolWorkqueue(this, runtime.cpuPool(cpu, highPri), maxActive);
            }
        }
        rescuer = memReclaim ? new Rescuer(this) : null; // a thread-creation failure fails the queue's creation
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
    void mayday(PoolWorkqueue pwq) {
        rescuer.mayday(pwq);
    }

    /** Stops the rescuer, if any, and waits for its thread to end. */
    private void stopRescuer() {
        if (rescuer != null) {
            rescuer.stop();
        }
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

    /** {started, completed} summed over the pwqs, each read under its pool lock. */
    public WqStats.Counts counts() {
        long started = 0;
        long completed = 0;
        long pending = 0;
        long inactive = 0;
        long running = 0;
        long samples = 0;
        long total = 0;
        long max = 0;
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                started += pwq.started;
                completed += pwq.completed;
                int run = 0;
                for (Worker w : pwq.pool.workers) {
                    if (w.currentPwq == pwq && w.currentWork != null) {
                        run++;
                    }
                }
                running += run;
                pending += Math.max(0, pwq.nrActive - run); // active = on a list or running
                inactive += pwq.inactive.size();
                samples += pwq.latencySamples;
                total += pwq.latencyTotalNanos;
                max = Math.max(max, pwq.latencyMaxNanos);
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return new WqStats.Counts(started, completed, pending, inactive, running, samples, total, max);
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
            last.acquire();
            Worker w = n.runningWorker;
            if (w != null && w.pool == last && w.currentPwq != null && w.currentPwq.wq == this) {
                pwq = w.currentPwq;
                pool = last;
            } else {
                last.lock.unlock();
                pool.acquire();
            }
        } else {
            pool.acquire();
        }
        try {
            int st = state;
            if (refuses(st, true)) {
                n.clearState(WorkNode.PENDING);
                throw new IllegalStateException(rejection(st, n));
            }
            if (trackUsed && !(boolean) USED.getOpaque(this)) {
                USED.setRelease(this, true);
            }
            int color = pwq.workColor;
            pwq.nrInFlight[color]++;
            n.color = color;
            n.pwq = pwq;
            n.setPool(pool);
            n.statsQueuedNanos = runtime.latencyStats() ? System.nanoTime() : 0;
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

    /**
     * A queue attempt on this queue found {@code n} pending: returns quietly when that is the
     * kernel's "already pending, collapse into the pending run" (false to the caller), throws
     * when it is a misuse the kernel would leave to chance:
     * <ul>
     *   <li>the item is pending on another queue (on a list there, or its timer armed for it):
     *       an item belongs to one queue at a time;</li>
     *   <li>{@code plainQueue} and the item's timer is armed: a plain queue neither runs it
     *       sooner nor re-arms it.</li>
     * </ul>
     * Best effort for a moving item: one in transit (between its claim and its insert), or one
     * that ran meanwhile, is reported as pending here (the caller returns false), as before.
     *
     * @throws IllegalStateException naming the item and both queues
     */
    public void checkPendingHere(WorkNode n, boolean plainQueue) {
        long s = n.state();
        if ((s & WorkNode.PENDING) == 0) {
            return; // ran (or was cancelled) since the claim failed, or only disabled
        }
        if ((s & WorkNode.TIMER) != 0) {
            TimerQueue t = n.armedTimer();
            WorkqueueStruct armedFor = t == null ? null : t.armedQueue(n); // under the timer lock
            if (armedFor != null) {
                if (armedFor != this) {
                    throw pendingElsewhere(n, armedFor, "its timer is armed for");
                }
                if (plainQueue) {
                    throw new IllegalStateException("delayed work '" + n.name() + "' has its timer armed for queue '"
                            + name + "'; queue() would neither run it sooner nor re-arm it (use modDelayed,"
                            + " or flush() to run it now)");
                }
                return;
            }
        }
        // Plain, racy read of a lock-guarded field, as a filter only: "this queue" is the common
        // answer (many callers collapsing onto one pending run) and needs no pool lock; a stale
        // value can only make the check miss a misuse, never throw wrongly (re-read under the lock).
        PoolWorkqueue p = n.pwq;
        if (p != null && p.wq == this) {
            return;
        }
        WorkerPool pool = n.poolAcquire();
        if (pool == null) {
            return;
        }
        WorkqueueStruct owner = null;
        pool.lock.lock();
        try {
            p = n.pwq;
            if (p != null && p.pool == pool) {
                owner = p.wq;
            }
        } finally {
            pool.lock.unlock();
        }
        if (owner != null && owner != this) {
            throw pendingElsewhere(n, owner, "it is pending on");
        }
    }

    private IllegalStateException pendingElsewhere(WorkNode n, WorkqueueStruct owner, String where) {
        return new IllegalStateException("cannot queue work '" + n.name() + "' on queue '" + name + "': " + where
                + " queue '" + owner.name + "' (an item belongs to one queue at a time; cancel it first)");
    }

    /**
     * Throws what queueing {@code n} now ({@code now}) or arming its timer would throw, before
     * the caller touches the item, so that a refused modDelayed leaves a pending instance
     * alone. A destroy or drain that begins after this check is caught later, by the insert.
     */
    public void checkAccepting(WorkNode n, boolean now) {
        int st = state;
        if (refuses(st, now)) {
            throw new IllegalStateException(rejection(st, n));
        }
    }

    /** Queueing now is refused once destroyed, or while draining to all but chained work; arming once dying. */
    private boolean refuses(int st, boolean now) {
        if (!now) {
            return (st & (DESTROYING | DESTROYED)) != 0;
        }
        return (st & DESTROYED) != 0 || ((st & (DRAINING | DESTROYING)) != 0 && !isChainedWork());
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

    /** True if a flush, drain or destroy must touch the queue's map (the `used` policy). */
    boolean annotateFlush() {
        return runtime.annotateNeverUsed() || (boolean) USED.getAcquire(this);
    }

    /** Whether the queue was ever queued to (meaningful while validation is on). */
    public boolean wasUsed() {
        return (boolean) USED.getAcquire(this);
    }

    /** Waits until every item queued before the call has finished (kernel __flush_workqueue). */
    public void flush() {
        try {
            flush(false);
        } catch (InterruptedException e) {
            throw new AssertionError("uninterruptible flush interrupted", e); // not thrown: await() keeps the status
        }
    }

    /**
     * {@link #flush()}, giving up the wait when interrupted. The flush it started is not undone:
     * the marked colour drains on its own, and the next flusher waits for it first.
     */
    public void flushInterruptibly() throws InterruptedException {
        flush(true);
    }

    /*
     * Interruptible flushes. An interrupted flusher returns with flushMutex released while pwqs
     * marked with its colour may still count flushDone down (pwqFlushed). Resetting flushDone
     * then would let those late count-downs complete the next flush early, and the mutex of a
     * ReentrantLock cannot be handed to the completion path. So the abandoned flush stays
     * recorded in flushDone itself (not done), and every flusher, once it holds the mutex,
     * first waits for flushDone to be done before it resets it. That costs nothing: the
     * abandoned colour holds items queued before the new flush too, which it must wait for
     * anyway; and it keeps "at most two colours in flight" true.
     */
    private void flush(boolean interruptible) throws InterruptedException {
        annotateAndRefuseSelfWait("flush");
        WorkEvents.FlushWait ev = WorkEvents.beginFlush();
        lockMutex(interruptible);
        try {
            awaitFlushDone(interruptible); // an abandoned (interrupted) flush first; see above
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
            awaitFlushDone(interruptible);
        } finally {
            flushMutex.unlock();
            WorkEvents.commitFlush(ev, "flush_workqueue", name);
        }
    }

    /**
     * Touches the queue's map ("waiting for Q waits for every item of Q"), before blocking, then
     * refuses a wait from one of this queue's own items: it would wait for itself (lockdep has
     * reported the recursive acquisition by then, when it is on).
     */
    private void annotateAndRefuseSelfWait(String operation) {
        LockDependencyValidator v = runtime.validator();
        if (v.isEnabled() && annotateFlush()) {
            v.touch(lockMap);
        }
        Worker self = Worker.current();
        if (self != null && self.currentPwq != null && self.currentPwq.wq == this) {
            throw new IllegalStateException("work '" + self.currentWork.name() + "' cannot " + operation
                    + " its own queue '" + name + "': it would wait for itself");
        }
    }

    private void awaitFlushDone(boolean interruptible) throws InterruptedException {
        if (interruptible) {
            flushDone.awaitInterruptibly();
        } else {
            flushDone.await();
        }
    }

    /** A pwq's marked colour reached zero; called under that pwq's pool lock. */
    void pwqFlushed() {
        flushDone.countDown();
    }

    private void lockMutex(boolean interruptible) throws InterruptedException {
        if (flushMutex.tryLock()) {
            return;
        }
        Worker w = Worker.current();
        if (w != null) {
            w.sleeping();
        }
        try {
            if (interruptible) {
                flushMutex.lockInterruptibly();
            } else {
                flushMutex.lock();
            }
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
        annotateAndRefuseSelfWait("destroy");
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

    @Override
    public String toString() {
        return name;
    }
}
