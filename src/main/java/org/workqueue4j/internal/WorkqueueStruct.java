package org.workqueue4j.internal;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.lockdep.LatentWait;
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
     * Queueing (insert): pick the pwq (the given CPU, the caller's CPU, or the single unbound
     * pwq). Lock the pool the node last ran in (its `pool`, stable while no one owns PENDING
     * but re-checked under the lock): the worker there running it, if any, is runningWorker.
     * If that worker runs it for *another* queue, refuse with an IllegalStateException: an
     * item runs on one worker at a time across queues and runtimes (SPEC §4; the kernel's rule
     * is per queue), which keeps busy/flush/cancelSync truthful. The check comes before the
     * claim of PENDING, under the same lock, so a refusal changes nothing (no racing queue
     * sees a PENDING that is then dropped) and no run can begin between check and claim (a
     * run needs PENDING, or a pending instance, which makes the claim fail). The lock-free
     * claim is kept for the dedup path (item pending or disabled) and for never-queued items;
     * a claim won there is checked under the lock afterwards and released by the refusal.
     * If the worker runs it for this queue in another pool, queue it to that worker's pwq
     * (non-reentrancy: the pool hands it to the same worker). Under the pool lock: check the
     * queue is accepting, count it in its colour, and put it on the pool's worklist or on the
     * pwq's inactive list. Arming a timer (claimForArm) claims the same way, without inserting;
     * a timer firing (insertClaimed) re-checks, but no run elsewhere can begin while PENDING
     * is owned.
     *
     * Fast path (lock-free insert). When the item is idle and runs nowhere (state word without
     * PENDING, disable count or RUNNING), the queue is not to be marked `used` now, and an
     * item is queued now (not armed), claimAndInsert claims PENDING with a CAS that expects
     * exactly that word and pushes the node on the chosen pwq's inbox (PoolWorkqueue): no lock.
     * The CAS proves no worker runs the item at the claim, and no run can begin before the push
     * lands it, so there is nothing to hand to a running worker and no "runs on another queue"
     * to refuse; the non-reentrancy hand-off (kernel find_worker_executing_work) stays on the
     * locked path, which every item with RUNNING set takes. Draining and destroyed queues are
     * refused by the inbox itself: drain() and destroy() close every pwq's inbox before they set
     * DRAINING / DESTROYING (and drain reopens after clearing it), and a push CASes only from an
     * open head, so a successful push happened while the queue accepted anyone's work and the
     * drainer, which looks after closing, lands and waits for it; a closed inbox sends the
     * producer to the locked path with its claim, which applies the rules under the lock. An
     * Error between the claim and the push releases PENDING in the claiming frame; once pushed
     * the node has landed (the worker owns PENDING), and an Error in the wake-up that follows
     * goes to the uncaught-work handler. Who sees inbox items, and how: see PoolWorkqueue.
     *
     * Flush: FlushColors (kernel __flush_workqueue and its flusher queue). A flush flips every
     * pwq's workColor under that pwq's pool lock, marking the pwqs that still have items of the
     * old colour, and waits until they and every older flip have finished; items queued after
     * the flip never delay it. Concurrent flushers share flips and wait side by side (the flip
     * mutex is never held while waiting); see its overview.
     *
     * Limits: freeze(), thaw() and setMaxActive() hold the queue's mutex (kernel wq->mutex)
     * from deciding the limit (maxActive, or 0 while frozen) until every pwq has it, so the
     * pwqs always end with the limit of the last of them (kernel wq_adjust_max_active reads
     * the freezing state under that mutex too). maxActive is written under the mutex and read
     * volatile by maxActive().
     *
     * State: DRAINING while drain() runs (only chained work, queued by this queue's own items,
     * is accepted; a timer expiring meanwhile is refused and reported, as the kernel drops it),
     * DESTROYING from destroy() on, DESTROYED when destroy() finished. Written under stateLock,
     * read volatile; the insert path reads it under the pool lock, so a drain that found every
     * pwq idle under those same locks cannot miss an item accepted before it.
     */

    static final int DRAINING = 1;
    static final int DESTROYING = 1 << 1;
    static final int DESTROYED = 1 << 2;


    private static final VarHandle USED;

    static {
        try {
            USED = MethodHandles.lookup().findVarHandle(WorkqueueStruct.class, "used", int.class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e); // the JVM wraps it in ExceptionInInitializerError (named here, the verifier would load it at start-up)
        }
    }

    private final String name;
    final WqRuntime runtime;
    /**
     * The queue's flush pseudo-lock (kernel wq->lockdep_map), made on first use by lockMap():
     * only a validator asks for it (every use is behind isEnabled()), so with validation off the
     * first queue of a process loads neither LockMap nor LockClassKey. Written once under
     * latentLock, read volatile: a map seen is fully built, and every caller gets the same one.
     */
    private volatile LockMap lockMap;
    /** The map the engine's own nodes run under (see stepMap()), made on first use. */
    private volatile LockMap stepMap;
    /** The caller's shared lock class, or null: the queue's own, made with its map. */
    private final LockClassKey lockClass;
    /**
     * DEFER_UNTIL_USED: at most this many distinct latent waits per queue; a further distinct
     * wait is recorded at once, as under FlushAnnotation.ALWAYS, so no dependency is lost.
     */
    private static final int MAX_LATENT_WAITS = 16;
    /**
     * Guards latentWaits, and orders the first use's take against a concurrent deferral; also
     * the making of {@link #lockMap}. A leaf lock: nothing is called under it.
     */
    private final Object latentLock = new Object();
    /** Latent waits of DEFER_UNTIL_USED while the queue was never used; guarded by latentLock. */
    private List<LatentWait> latentWaits;
    /** The key is this queue's own (not a caller's shared class): destroy() frees its class. */
    private final boolean ownLockClass;
    /** Validation is on: maintain `used`. Off, the insert path pays one final-field test. */
    private final boolean trackUsed;
    /**
     * An item was queued here at least once (the 2020 thread's proposal): written with release
     * under the pool lock on the first insert, read with acquire by flushers, so a flush that
     * happens-after a successful queue sees it. 0 or 1: an int, not a boolean, so that its
     * VarHandle is of the kind the JDK's default CDS archive holds (a boolean field's VarHandle
     * classes are loaded from the runtime image at start-up).
     */
    @SuppressWarnings("unused") // accessed through USED
    private int used;
    final PoolWorkqueue[] pwqs;
    final boolean unbound;
    final boolean ordered;
    final boolean highPri;
    final boolean cpuIntensive;
    final boolean memReclaim;
    final boolean freezable;
    /**
     * Made on first count or read ({@link #stats()}): a queue whose items never trip concurrency
     * management, the CPU-intensive check or a mayday has none, and the first queue of a process
     * does not initialize LongAdder (VarHandle look-ups, a class from the runtime image) on its
     * way. Written once under statsLock, read volatile.
     */
    private volatile WqStats stats;
    /** Guards the making of {@link #stats}; a leaf lock (nothing is taken under it). */
    private final Object statsLock = new Object();
    /** The public object handed to handlers and reports. */
    final Object api;

    /** The rescuer (memReclaim queues), else null. */
    final Rescuer rescuer;
    /**
     * A flush by one of this (memReclaim) queue's items of a queue without a rescuer was
     * reported ({@link #checkFlushDependency}). Plain, written racily, as the kernel's
     * WARN_ONCE flag: two first flushes at once may both report, none is missed.
     */
    private boolean flushDependencyWarned;
    /**
     * Kernel wq->mutex: freeze, thaw and setMaxActive each decide the limit and apply it to
     * every pwq under it, so none of them can apply a limit another has already overtaken.
     * Taken before any pool lock, never under one.
     */
    private final ReentrantLock mutex = new ReentrantLock();
    /** Guarded by mutex. */
    private boolean frozen;

    /** The queue-flush protocol: colour flips, flushers, flushAsync futures. */
    private final FlushColors flushColors = new FlushColors(this);
    private final Object stateLock = new Object();
    private volatile int state;
    private int nrDrainers;
    /** A destroy is closing the inboxes before it sets DESTROYING; guarded by stateLock. */
    private boolean destroyClosing;
    /**
     * The thread of the destroy() or destroyUntil() under way, from its beginDestroy to its end
     * (destroyed, undone, or given up at its deadline), else null; guarded by stateLock, whose
     * notifyAll announces the end to the destroy() calls waiting for it (awaitOtherDestroy).
     * A destroy() on that thread itself (the uncaught-work handler told of armed delayed work
     * by beginDestroy) returns at once, as before: it would wait for itself.
     */
    private Thread destroyRunner;
    private volatile int maxActive;

    /*
     * Kernel alloc_workqueue flags (WQ_UNBOUND, WQ_HIGHPRI, …), as the public builder decided
     * them: an int, not a spec object, one class less to load on the first queue's path.
     */
    public static final int WQ_UNBOUND = 1;
    public static final int WQ_FREEZABLE = 1 << 2;
    public static final int WQ_MEM_RECLAIM = 1 << 3;
    public static final int WQ_HIGHPRI = 1 << 4;
    public static final int WQ_CPU_INTENSIVE = 1 << 5;
    /** Kernel __WQ_ORDERED (implies unbound, max_active 1). */
    public static final int WQ_ORDERED = 1 << 17;

    /**
     * @param flags     WQ_* flags
     * @param lockClass the lock class of the queue's flush pseudo-lock, or null for one of its own
     */
    WorkqueueStruct(WqRuntime runtime, Object api, String name, int flags, int maxActive, LockClassKey lockClass) {
        this.runtime = runtime;
        this.api = api;
        this.name = name;
        this.ordered = (flags & WQ_ORDERED) != 0;
        this.unbound = (flags & WQ_UNBOUND) != 0 || ordered;
        this.highPri = (flags & WQ_HIGHPRI) != 0;
        this.cpuIntensive = (flags & WQ_CPU_INTENSIVE) != 0;
        this.memReclaim = (flags & WQ_MEM_RECLAIM) != 0;
        this.freezable = (flags & WQ_FREEZABLE) != 0;
        this.maxActive = maxActive;
        this.ownLockClass = lockClass == null;
        this.lockClass = lockClass;
        this.trackUsed = runtime.validating();
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
            pwq.pool.acquireFromCaller();
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
        WorkerPool.lockFromCaller(mutex);
        try {
            frozen = true;
            applyMaxActive(0);
        } finally {
            mutex.unlock();
        }
    }

    /** Kernel thaw_workqueues: restore max_active and activate what waited. */
    void thaw() {
        WorkerPool.lockFromCaller(mutex);
        try {
            frozen = false;
            applyMaxActive(maxActive);
        } finally {
            mutex.unlock();
        }
    }

    /** True while any item of this (frozen) queue is still active. */
    boolean freezeBusy() {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.acquireFromCaller();
            try {
                pwq.landInbox(); // pushed before the freeze: active, as a locked insert would be
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

    /** {@return this queue's counters, made on first use} */
    public WqStats stats() {
        WqStats s = stats; // volatile read: a WqStats seen is fully built (written under statsLock)
        if (s != null) {
            return s;
        }
        synchronized (statsLock) {
            s = stats;
            if (s == null) {
                s = new WqStats();
                stats = s;
            }
            return s;
        }
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
            pwq.pool.acquireFromCaller();
            try {
                pwq.landInbox();
                started += pwq.started;
                completed += pwq.completed;
                int run = 0;
                for (Worker w : pwq.pool.workers) {
                    if (runsItemOf(w, pwq)) {
                        run++;
                    }
                }
                if (rescuer != null && runsItemOf(rescuer.worker(), pwq)) {
                    run++; // the rescuer is none of the pool's workers
                }
                running += run;
                pending += Math.max(0, pwq.nrActive - run); // active = on a list or running
                inactive += pwq.inactive.countItems(); // barriers linked behind inactive items are no items
                samples += pwq.latencySamples;
                total += pwq.latencyTotalNanos;
                max = Math.max(max, pwq.latencyMaxNanos);
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return new WqStats.Counts(started, completed, pending, inactive, running, samples, total, max);
    }

    /**
     * True if {@code w} runs an item of {@code pwq}: a user's item, not an engine node (a flush
     * barrier, an async flush step), which holds no active slot. Pool lock held (the rescuer
     * sets its current item under the pool lock too).
     */
    private static boolean runsItemOf(Worker w, PoolWorkqueue pwq) {
        WorkNode n = w.currentWork;
        return w.currentPwq == pwq && n != null && !n.isEngineNode();
    }

    public int maxActive() {
        return maxActive;
    }

    /**
     * Kernel workqueue_set_max_active: store, then (unless frozen) activate inactive items up
     * to the limit. Serialized with freeze and thaw by the queue's mutex.
     */
    public void setMaxActive(int n) {
        WorkerPool.lockFromCaller(mutex);
        try {
            maxActive = n;
            if (!frozen) {
                applyMaxActive(n);
            }
        } finally {
            mutex.unlock();
        }
    }

    private void applyMaxActive(int n) {
        WqRuntime.testHook("maxActive.apply", this);
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.acquireFromCaller();
            try {
                pwq.landInbox(); // pushed before the new limit: landed under the old one, as if locked
                pwq.maxActive = n;
                while (pwq.activateFirstInactive()) {
                    // activate in order up to the limit
                }
                // Kick even when nothing was activated: work may wait on the worklist that no
                // worker was woken for (kick() does nothing when the pool needs no worker).
                pwq.pool.kick();
            } finally {
                pwq.pool.lock.unlock();
            }
        }
    }

    /** The limit each pwq applies right now (each read under its pool lock), for tests and dumps. */
    public int[] appliedMaxActive() {
        int[] out = new int[pwqs.length];
        for (int i = 0; i < pwqs.length; i++) {
            PoolWorkqueue pwq = pwqs[i];
            pwq.pool.acquireFromCaller();
            try {
                out[i] = pwq.maxActive;
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return out;
    }

    public boolean isDestroyed() {
        return (state & DESTROYED) != 0;
    }

    /** destroy() has begun: the timer refuses to arm for this queue (checked under its lock). */
    boolean isDying() {
        return (state & (DESTROYING | DESTROYED)) != 0;
    }

    public boolean isDraining() {
        return (state & (DRAINING | DESTROYING)) != 0;
    }

    // ------------------------------------------------------------------------------- queueing

    /**
     * Claims PENDING and queues {@code n} now (kernel queue_work_on).
     *
     * <p>Exception-safe, with one rule for the caller: it returns normally if and only if the
     * node has landed on a list. Whatever it throws (a refusal, or an {@code Error} such as a
     * StackOverflowError anywhere on the way, including at this method's own entry) leaves the
     * node on no list and PENDING released (this call claimed it; see {@link #insert}). The
     * pool lock is released by try/finally. Under the lock every call that can throw comes before the
     * commit point (the call-free {@code WorkList.addLast}); after it only plain writes follow,
     * and an Error from the wake-up that follows goes to the uncaught-work handler, outside the
     * lock (the item is queued: queue() returned true truthfully).
     *
     * @param cpu a CPU index, or -1 for the caller's CPU
     * @return false if the item was pending (anywhere) or disabled: nothing changed
     * @throws IllegalStateException if the queue does not accept the item, or the item runs on
     *                               another queue right now; the item is then unchanged
     */
    public boolean queue(int cpu, WorkNode n) {
        return claimAndInsert(cpu, n, true);
    }

    /**
     * Claims PENDING so that the caller may arm {@code n}'s timer for this queue.
     *
     * @return false if the item was pending (anywhere) or disabled: nothing changed
     * @throws IllegalStateException if the item runs on another queue right now; unchanged
     */
    public boolean claimForArm(WorkNode n) {
        return claimAndInsert(-1, n, false);
    }

    /**
     * Queues a node whose PENDING bit the caller has just claimed (or grabbed back). Returns
     * normally if and only if the node landed on a list; whatever it throws (a refusal, or an
     * Error on the way) leaves the node on no list with PENDING still claimed, and the caller
     * releases it in the frame that claimed it.
     *
     * @param cpu a CPU index, or -1 for the caller's CPU
     * @throws IllegalStateException if the queue does not accept the item, or the item runs on
     *                               another queue
     */
    public void insertClaimed(int cpu, WorkNode n) {
        insert(cpu, n, true, true, null);
    }

    /**
     * {@link #insertClaimed} for a node {@code timer} has in transit (see TimerQueue): once the
     * node has landed and the pool lock is released, its transit ends here, before the user
     * code an insert may run after a landing (a first use's latent waits, whose validator
     * listeners may run; the report of an Error after the landing). A destroy waiting for the
     * transit then goes on; it must not wait for that code (a listener destroying the queue
     * waits for that destroy). A throw still ends the transit in the caller.
     */
    void insertFired(int cpu, WorkNode n, TimerQueue timer) {
        insert(cpu, n, true, true, timer);
    }

    /**
     * Throws if {@code n} runs on a worker of another queue right now (see the overview). A
     * caller that owns PENDING keeps owning it when this throws, and releases it.
     *
     * @throws IllegalStateException naming the item and both queues
     */
    public void checkNotRunningElsewhere(WorkNode n) {
        WorkerPool last = lockLastPool(n);
        if (last == null) {
            return;
        }
        boolean firstUse = false;
        try {
            refuseIfRunningElsewhere(n, last);
        } finally {
            last.lock.unlock();
        }
    }

    private boolean claimAndInsert(int cpu, WorkNode n, boolean now) {
        long s = n.state();
        if (now && (s & (WorkNode.PENDING | WorkNode.DISABLE_MASK | WorkNode.RUNNING)) == 0
                && (!trackUsed || (int) USED.getOpaque(this) != 0)) {
            PoolWorkqueue pwq = selectPwq(cpu);
            // The claim: a volatile CAS expecting RUNNING clear (see the overview). Lost: decide below.
            // Not with the inbox closed (the queue draining or dying): the locked path's rules
            // decide then, and its claim comes after its stack probe. Claimed here, an overflow in
            // that path struck the release in this frame's catch too, leaving the item pending on
            // no list for good (chained work at the end of a stack during a drain). The inbox
            // read is volatile, as push's own; a close after it still goes the claimed way below.
            if (!pwq.inboxClosed() && n.casState(s, s | WorkNode.PENDING)) {
                int pushed;
                try { // this frame claimed: it releases the claim if the node does not land
                    pushed = push(pwq, n);
                    if (pushed == PoolWorkqueue.PUSH_CLOSED) {
                        return insert(cpu, n, true, true, null); // draining or destroyed: the locked rules
                    }
                } catch (Throwable e) {
                    n.clearState(WorkNode.PENDING);
                    throw e;
                }
                if (pushed == PoolWorkqueue.PUSH_FIRST) {
                    signal(pwq.pool, n);
                }
                return true;
            }
        }
        if ((s & (WorkNode.PENDING | WorkNode.DISABLE_MASK)) != 0 || n.poolAcquire() == null) {
            // Pending or disabled (the dedup path: the claim decides without a lock), or never
            // queued (nothing can be running it). A claim won here is checked under the lock.
            // The stack probe before a claim: the release below runs at this frame's depth, and an
            // overflow there would leave the claim set on no list for good; probed, it strikes here
            // instead, with nothing claimed (the fast path above, the common one, goes without). An
            // attempt refused outright (the dedup of a pending item) claims nothing: no probe.
            if (Pending.refuses(n)) {
                return false;
            }
            WorkerPool.probeStack();
            if (!Pending.claim(n)) {
                return false;
            }
            try { // this frame claimed: it releases the claim if the node does not land
                return insert(cpu, n, true, now, null);
            } catch (Throwable e) {
                n.clearState(WorkNode.PENDING);
                throw e;
            }
        }
        return insert(cpu, n, false, now, null);
    }

    /**
     * The fast path's push: stamps the node (plain writes, published by the push) and pushes it.
     *
     * @return a PoolWorkqueue.PUSH_* result; with PUSH_CLOSED nothing was pushed
     */
    private int push(PoolWorkqueue pwq, WorkNode n) {
        boolean stats = runtime.latencyStats();
        long queuedAt = stats || WorkEvents.active() ? System.nanoTime() : 0;
        n.statsQueuedNanos = stats ? queuedAt : 0;
        n.queuedNanos = queuedAt;
        n.setPool(pwq.pool); // release: a reader that finds this pool locks it and lands the inbox
        return pwq.push(n);
    }

    /**
     * The push made the inbox non-empty: store the pool's hint (volatile), then read whether a
     * worker is seeking or running (volatile); if none, wake one (WorkerPool's handshake). The
     * node has landed: an Error here goes to the uncaught-work handler (queue() returned true
     * truthfully). The signal is still owed then: every later push on the non-empty inbox is a
     * PUSH_MORE that signals nobody, so a dropped signal would strand this node and all behind
     * it until some unrelated event landed the inbox. The catch stores the hint (volatile) and
     * wakes the pool once more, unconditionally (a spare kick is harmless).
     */
    private void signal(WorkerPool pool, WorkNode n) {
        try {
            WqRuntime.testHook("queue.pushedFirst", n);
            pool.inboxHint = 1;
            if (pool.nrSeeking == 0 && pool.nrRunning == 0) {
                pool.wakeForInbox();
            }
        } catch (Throwable e) {
            pool.inboxHint = 1;
            try {
                pool.wakeForInbox();
            } catch (Throwable again) {
                // The failed wake may have landed the inbox (clearing the hint) before it could wake
                // anyone: set it again, so that the next seeking worker or monitor tick kicks the pool.
                pool.inboxHint = 1;
                e.addSuppressed(again);
            }
            runtime.uncaught(this, n, e);
        }
    }

    /**
     * The insert path. Without {@code claimed}, PENDING is claimed under the lock of the pool
     * the item last ran in, after checking that no worker there runs it for another queue:
     * a refusal then changes nothing, and whatever is thrown after that claim (a refusal, an
     * Error) releases it before the node lands. With {@code claimed} the caller owns PENDING and
     * keeps owning it when this throws: it releases it in the frame that claimed (one owner,
     * one release; a second clear could wipe a later claimer's bit). Without {@code now}, only
     * claims and checks; the claim then passes to the caller.
     *
     * <p>Under the lock every call that can throw comes before the commit point (the call-free
     * {@code WorkList.addLast}); after it only plain writes follow, and an Error from the
     * wake-up goes to the uncaught-work handler, outside the lock (the item is queued).
     *
     * @return false if the claim failed (the item is pending or disabled)
     */
    private boolean insert(int cpu, WorkNode n, boolean claimed, boolean now, @org.jspecify.annotations.Nullable TimerQueue fired) {
        boolean ownClaim = false; // this call claimed PENDING and must release it unless the node lands
        boolean landed = false; // the node is on a list: a timer's transit of it ends after the unlock
        boolean firstUse = false; // this insert set `used`: DEFER_UNTIL_USED's latent waits are replayed
        WorkerPool locked = null;
        WorkerPool deserted = null; // a dying pool landed on: its nodes are delivered after the unlock (Deserted)
        Throwable afterLanding = null;
        try {
            PoolWorkqueue pwq = selectPwq(cpu);
            WorkerPool pool = pwq.pool;
            WorkerPool last = lockLastPool(n);
            locked = last;
            Worker w = null;
            if (last != null) {
                w = refuseIfRunningElsewhere(n, last);
            }
            if (!claimed) {
                if (!Pending.claim(n)) {
                    return false;
                }
                ownClaim = true;
            }
            if (!now) {
                ownClaim = false; // the caller arms it and owns the claim from here
                return true;
            }
            if (last != null && last != pool && w != null && !ordered) {
                // It runs in `last` for this queue: queue it there, the pool hands it to that
                // worker (non-reentrancy).
                pwq = w.currentPwq;
                pool = last;
            } else if (last != pool) {
                locked = null;
                if (last != null) {
                    last.lock.unlock();
                }
                pool.acquireFromCaller();
                locked = pool;
            }
            int st = state;
            if (refuses(st, true)) {
                throw new IllegalStateException(rejection(st, n));
            }
            if (trackUsed && (int) USED.getOpaque(this) == 0) {
                USED.setRelease(this, 1);
                firstUse = true;
            }
            boolean wasEmpty = pool.worklist.isEmpty();
            boolean landedBefore = pwq.takeInbox(); // earlier lock-free pushes first: FIFO
            n.setPool(pool); // harmless if what follows throws: readers re-check pwq under the lock
            boolean active = pwq.land(n); // commit (WorkList.addLast); only plain writes after it
            ownClaim = false; // landed: the worker owns PENDING from here
            landed = true;
            // Queue-to-start latency: one clock read serves JFR and the runtime's statistics,
            // taken only while either wants it (plain writes, guarded by the pool lock).
            boolean stats = runtime.latencyStats();
            long queuedAt = stats || WorkEvents.active() ? System.nanoTime() : 0;
            n.statsQueuedNanos = stats ? queuedAt : 0;
            n.queuedNanos = queuedAt;
            if (active || landedBefore) {
                try {
                    if (wasEmpty) {
                        pool.noteProgress();
                    }
                    pool.kick();
                } catch (Throwable e) {
                    afterLanding = e;
                }
            }
            if (pool.dying) {
                deserted = pool; // chained work after a close() gave up: the pool may have no worker left
            }
            return true;
        } finally {
            if (locked != null) {
                locked.lock.unlock();
            }
            if (ownClaim) {
                n.clearState(WorkNode.PENDING); // claimed here, never landed: idle again
            }
            if (landed && fired != null) {
                fired.endTransit(n); // before the user code below (see insertFired)
            }
            if (deserted != null) {
                Deserted.deliver(deserted); // user code (reports), after the unlock and the transit's end; throws nothing
            }
            if (afterLanding != null) {
                runtime.uncaught(this, n, afterLanding);
            }
            if (firstUse) {
                try {
                    WqRuntime.testHook("queue.firstUse", this);
                    addLatentWaits(); // outside the pool lock: it may report, and listeners are user code
                } catch (Throwable e) {
                    // After the item landed (an allocation failure, the validator's deep stack
                    // probe at the end of a stack): not this insert's failure, since the item is
                    // queued and runs, so never thrown to its caller, whose undo would take a
                    // landed item for an idle one (the timer's refused expiry clears PENDING and
                    // reports it). The waits recorded before the queue's first use are lost to the
                    // validator: said in the log.
                    Log.log(System.Logger.Level.ERROR, "workqueue: queue '" + name + "': the waits recorded"
                            + " before its first use could not be given to the lock validator", e);
                }
            }
        }
    }

    /**
     * Locks the pool {@code n} last ran in and returns it, or returns null if it was never
     * queued. The node's pool changes only by an insert, which owns PENDING: re-read under the
     * lock, a value that still matches is the pool whose lock guards runningWorker.
     */
    private static WorkerPool lockLastPool(WorkNode n) {
        for (;;) {
            WorkerPool last = n.poolAcquire();
            if (last == null) {
                return null;
            }
            last.acquireFromCaller();
            if (n.poolAcquire() == last) {
                return last;
            }
            last.lock.unlock();
        }
    }

    /**
     * Under {@code last}'s lock: throws if a worker of {@code last} runs {@code n} for another
     * queue (releasing PENDING if {@code claimed}); returns that worker if it runs it for this
     * queue, else null.
     */
    private Worker refuseIfRunningElsewhere(WorkNode n, WorkerPool last) {
        Worker w = n.runningWorker;
        if (w == null || w.pool != last || w.currentPwq == null) {
            return null;
        }
        WorkqueueStruct runsOn = w.currentPwq.wq;
        if (runsOn == this) {
            return w;
        }
        throw new IllegalStateException("cannot queue work '" + n.name() + "' on queue '" + name + "': it runs on queue '"
                + runsOn.name + "' right now (a work item runs on one worker at a time; wait for it, e.g. with flush()"
                + " or cancelSync(), before moving it)");
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
        pool.acquireFromCaller();
        try {
            pool.landInboxesFor(n); // a node still in an inbox shows no pwq
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

    /** The queue's flush pseudo-lock for the validator, made on first use (see the field). */
    LockMap lockMap() {
        LockMap m = lockMap; // volatile read: pairs with the write under latentLock
        if (m != null) {
            return m;
        }
        synchronized (latentLock) {
            m = lockMap;
            if (m == null) {
                m = new LockMap("(wq_completion)" + name, ownLockClass ? new LockClassKey("(wq_completion)" + name) : lockClass);
                lockMap = m;
            }
            return m;
        }
    }

    /**
     * The map the engine's own nodes (flush barriers, a queue flush's async steps) run under:
     * the queue's lock class at subclass 1. A queue's flush, drain and destroy wait for them
     * (they count in the queue's in flight), so those waits touch it too, and a flushAsync()
     * future's dependent action that runs on the worker is seen as waited for by them; a
     * sibling flush on a maxActive(1) queue touches only the queue's map, since a barrier
     * holds no active slot and blocks no sibling.
     */
    LockMap stepMap() {
        LockMap m = stepMap;
        if (m != null) {
            return m;
        }
        LockMap q = lockMap();
        synchronized (latentLock) {
            m = stepMap;
            if (m == null) {
                m = new LockMap("(wq_flush)" + name, q.key(), 1);
                stepMap = m;
            }
            return m;
        }
    }

    /** True if a flush, drain or destroy must touch the queue's map now (the `used` policy). */
    boolean annotateFlush() {
        return runtime.flushAnnotation() == FlushAnnotation.ALWAYS || (int) USED.getAcquire(this) != 0;
    }

    /**
     * Records "the caller waits for this queue": now, or (DEFER_UNTIL_USED, never used) as a
     * latent wait kept on this instance. The `used` re-check under latentLock pairs with
     * addLatentWaits(): a wait added before the first use's take is replayed by it, one added
     * after sees `used` and is recorded directly, so none is lost.
     */
    private void annotateWait(LockDependencyValidator v, boolean engineNodesToo) {
        if (annotateFlush()) {
            v.touch(lockMap());
            if (engineNodesToo && (int) USED.getAcquire(this) != 0) {
                // The barriers and async steps in flight are waited for too; a queue never used
                // has run none (a barrier is linked behind an item, a step queued by a flush of
                // a used queue), so its flush adds no edge for them (flush ALWAYS: one edge)
                v.touch(stepMap());
            }
            return;
        }
        if (runtime.flushAnnotation() != FlushAnnotation.DEFER_UNTIL_USED) {
            return; // SKIP_NEVER_USED
        }
        LatentWait w = v.deferWait(lockMap());
        if (w == null) {
            return;
        }
        boolean recordNow;
        synchronized (latentLock) {
            recordNow = (int) USED.getAcquire(this) != 0;
            if (!recordNow) {
                if (latentWaits == null) {
                    latentWaits = new ArrayList<>(2);
                }
                if (latentWaits.stream().noneMatch(w::sameHeldLocks)) {
                    if (latentWaits.size() < MAX_LATENT_WAITS) {
                        latentWaits.add(w);
                    } else {
                        // The store is full: rather than drop the dependency, record it now, as
                        // FlushAnnotation.ALWAYS (and the kernel's __flush_workqueue) does. Nothing
                        // is lost; the price is that this wait counts even if the queue is
                        // destroyed unused, as it always would in the kernel.
                        recordNow = true;
                    }
                }
            }
        }
        if (recordNow) {
            // raced with the first use, or the latent store is full: an ordinary wait now (no
            // engine node ran before it). Outside latentLock: it may report, and listeners are user code.
            v.touch(lockMap());
        }
    }

    /** First use: replays the latent waits into the graph (full check, deferred reports). */
    private void addLatentWaits() {
        List<LatentWait> waits = takeLatentWaits();
        if (waits != null) {
            runtime.validator().addLatentWaits(lockMap(), waits);
        }
    }

    private List<LatentWait> takeLatentWaits() {
        synchronized (latentLock) {
            List<LatentWait> waits = latentWaits;
            latentWaits = null;
            return waits;
        }
    }

    /** Whether the queue was ever queued to (meaningful while validation is on). */
    public boolean wasUsed() {
        return (int) USED.getAcquire(this) != 0;
    }

    /** Waits until every item queued before the call has finished (kernel __flush_workqueue). */
    public void flush() {
        try {
            flush(false, false, 0);
        } catch (InterruptedException e) {
            throw new IllegalStateException("uninterruptible flush interrupted", e); // not thrown: await() keeps the status
        }
    }

    /**
     * {@link #flush()}, giving up the wait when interrupted. The colour flip it made is not
     * undone: it finishes on its own, and later flushers wait for it as for any older flip.
     */
    public void flushInterruptibly() throws InterruptedException {
        flush(true, false, 0);
    }

    /**
     * {@link #flushInterruptibly()} that gives up at {@code deadline} (System.nanoTime()), as
     * it gives up when interrupted: the flip already made finishes on its own.
     *
     * @return true if flushed, false if the deadline passed first
     */
    public boolean flushUntil(long deadline) throws InterruptedException {
        return flush(true, true, deadline);
    }

    private boolean flush(boolean interruptible, boolean timed, long deadline) throws InterruptedException {
        boolean mayWait = !timed || Blocking.timeLeft(deadline);
        annotateAndRefuseSelfWait("flush", mayWait);
        if (mayWait) {
            checkFlushDependency(null);
        }
        Object ev = WorkEvents.beginFlush(); // before the record: nothing may throw between it and the try
        HungWaits.Waiter waiting = runtime.hungWaits().begin("flush_workqueue", this, null);
        try {
            return flushColors.flush(interruptible, timed, deadline);
        } finally {
            runtime.hungWaits().end(waiting); // first: a throwing event commit must not leave the record waiting
            WorkEvents.commitFlush(ev, "flush_workqueue", name);
        }
    }

    /**
     * A future completed once every item queued before the call has finished (the condition of
     * {@link #flush()}), without a waiting thread. Not annotated for the validator (nothing
     * waits); allowed from the queue's own items.
     *
     * @return the future, complete on return when nothing was in flight
     */
    public CompletableFuture<Void> flushAsync() {
        return flushColors.flushAsync();
    }

    /** Run by a worker (no lock held) for an AsyncFlushStep queued by pwqFlushed. */
    void asyncFlushStep(boolean roundDone) {
        flushColors.runAsyncWork(false);
    }

    /**
     * A pwq's marked colour reached zero; called under that pwq's pool lock. The flushers it
     * finishes are woken by {@code signaller} once it has dropped the lock, or now if null.
     */
    void pwqFlushed(PoolWorkqueue pwq, int color, Worker signaller) {
        flushColors.pwqFlushed(pwq, color, signaller);
    }

    /** Colour flips made so far: concurrent flushers that shared a flip made one (for tests). */
    public long flushFlips() {
        return flushColors.flipsMade();
    }

    /**
     * A freeze is about to wait for this freezable queue's running items: touches the queue's
     * map with validation on, as a flush does (may throw PotentialDeadlockException under THROW).
     */
    void annotateFreezeWait() {
        if (runtime.validating()) {
            annotateWait(runtime.validator(), false); // a freeze waits for running items only
        }
    }

    /**
     * Records, for the validator, a wait for item {@code n} of this queue that goes through no
     * flush (an executor view's {@code Future.get()}), as {@code Work.flush()} records its own:
     * the item's map, then the queue's when one earlier item can hold the item up (one active
     * slot, or a rescuer: kernel start_flush_work). Before blocking: under THROW a predicted
     * deadlock throws with nothing waited for. Nothing when validation is off.
     */
    public void annotateItemWait(WorkNode n) {
        if (!runtime.validating()) {
            return;
        }
        LockDependencyValidator v = runtime.validator();
        LockMap workMap = n.lockMap();
        if (workMap == null) {
            return;
        }
        v.touch(workMap);
        touchSiblingWait(v);
    }

    /**
     * A wait for one of this queue's items (an item flush, a task's {@code Future.get()}) has
     * touched the item's map; touches what else it waits behind (kernel start_flush_work:
     * saved_max_active == 1 || wq->rescuer, with the current limit). One active slot (ordered or
     * not) or a stalled rescuer: an earlier item blocks it, so the queue's map; and the rescuer,
     * one thread, runs barriers and their dependent actions too: one there blocks it as an item
     * does (a barrier holds no active slot, so on a maxActive(1) queue's workers it blocks no
     * sibling), so with a rescuer the step map as well. May throw PotentialDeadlockException
     * under THROW.
     */
    void touchSiblingWait(LockDependencyValidator v) {
        if ((maxActive == 1 || rescuer != null) && annotateFlush()) {
            v.touch(lockMap());
            if (rescuer != null) {
                v.touch(stepMap());
            }
        }
    }

    /**
     * Records a thread's wait on this queue's {@code flushAsync()} future (its {@code get} or
     * {@code join}) as {@link #flush()} records its own wait. Not from one of the queue's own
     * items: one queued after the call is not covered by the future, and the record, made by
     * class, could not tell it from one that is (that one's wait deadlocks unrecorded).
     */
    void annotateAsyncGet() {
        if (!runtime.validating()) {
            return;
        }
        Worker self = Worker.current();
        if (self != null && self.currentPwq != null && self.currentPwq.wq == this) {
            return; // an item queued after the flushAsync() call may wait on it: the class-level record would be a false report
        }
        annotateWait(runtime.validator(), true);
    }

    /**
     * Reports {@code t}, thrown by code the engine ran for item {@code n} on a caller's thread
     * (an executor view's completion-service wrapper, run by a cancel), to the uncaught-work
     * handler, as a worker reports its item's failure. Throws nothing.
     */
    public void reportFailure(WorkNode n, Throwable t) {
        runtime.uncaught(this, n, t);
    }

    /**
     * Records, for the validator, a wait for some of this queue's items that goes through no
     * flush (an executor view's {@code awaitTermination}): the queue's map, as a queue flush
     * records it (every item runs under it). Nothing when validation is off.
     */
    public void annotateItemsWait() {
        if (runtime.validating() && annotateFlush()) {
            runtime.validator().touch(lockMap());
        }
    }

    /**
     * Touches the queue's map ("waiting for Q waits for every item of Q"), before blocking, then
     * refuses a wait from one of this queue's own items: it would wait for itself (lockdep has
     * reported the recursive acquisition by then, when it is on).
     */
    /**
     * @param mayWait false for a timed wait with no time left: it cannot block, so it records
     *                nothing for the validator (see Barrier.startFlushWork); still refused from
     *                the queue's own items
     */
    private void annotateAndRefuseSelfWait(String operation, boolean mayWait) {
        if (mayWait && runtime.validating() && !unannotatedDestroy) {
            annotateWait(runtime.validator(), true);
        }
        Worker self = Worker.current();
        if (self != null && self.currentPwq != null && self.currentPwq.wq == this) {
            throw new IllegalStateException("work '" + self.currentWork.name() + "' cannot " + operation
                    + " its own queue '" + name + "' (from its function, or from the handler of its failure): it would wait for itself");
        }
    }

    /**
     * Kernel check_flush_dependency(): the calling thread runs an item of a {@code memReclaim()}
     * queue (on a pool worker or on its rescuer) and is about to wait for this queue, which has
     * no rescuer. The rescuer is there so that its queue goes on when no worker thread can be
     * made; an item that waits for a queue needing a new worker gives that guarantee away, and
     * under exactly those conditions both queues stop. Reported once per flushing queue (the
     * kernel's WARN_ONCE), on the runtime's report path, with or without a validator: it is a
     * workqueue check, not lockdep's. Not called on the cancel path (kernel 6.13, commit
     * de35994ecd2d: cancelling a reclaim item's work from anywhere must stay allowed). Called
     * with no engine lock held.
     *
     * @param target the item waited for, or null for a flush, drain or destroy of the queue
     */
    void checkFlushDependency(WorkNode target) {
        if (memReclaim) {
            return;
        }
        Worker self = Worker.current();
        PoolWorkqueue cur = self == null ? null : self.currentPwq; // the calling worker's own fields
        if (cur == null || !cur.wq.memReclaim || cur.wq.flushDependencyWarned) {
            return;
        }
        // Built on the item's thread, at whatever depth its code is: the first report of the JVM
        // also first initializes JDK classes (StackTraceElement's formatting), which an overflow
        // would leave failed for the JVM's life (FlushDependencyAttackTest, run alone).
        WorkerPool.probeStackDeep();
        WorkNode running = self.currentWork;
        StringBuilder sb = new StringBuilder("workqueue: WQ_MEM_RECLAIM ").append(cur.wq.name).append(':')
                .append(running == null ? "?" : running.name()).append(" is flushing !WQ_MEM_RECLAIM ").append(name)
                .append(':').append(target == null ? "0x0" : target.name())
                .append(" (the rescuer's forward-progress guarantee does not reach this queue)\n");
        for (StackTraceElement e : Thread.currentThread().getStackTrace()) {
            sb.append("    at ").append(e).append('\n');
        }
        String text = sb.toString();
        // Spent only once the report is built: an overflow or allocation failure building it
        // (a flush at the end of a stack) must leave the report to the next flush, not lose it.
        cur.wq.flushDependencyWarned = true;
        runtime.report(text);
    }

    /** Flushes until every pwq is idle; meanwhile only chained work may queue (kernel drain_workqueue). */
    public void drain() {
        try {
            drain(false, 0);
        } catch (InterruptedException e) {
            throw new IllegalStateException("uninterruptible drain interrupted", e); // not thrown: flush() keeps the status
        }
    }

    /**
     * {@link #drain()} that gives up at {@code deadline} (System.nanoTime()) or when
     * interrupted; the queue then accepts items again as before the call.
     *
     * @return true if drained, false if the deadline passed first
     */
    public boolean drainUntil(long deadline) throws InterruptedException {
        return drain(true, deadline);
    }

    private boolean drain(boolean timed, long deadline) throws InterruptedException {
        HungWaits.Waiter waiting = runtime.hungWaits().begin("drain_workqueue", this, null);
        try {
            return drainMarked(timed, deadline);
        } finally {
            runtime.hungWaits().end(waiting);
        }
    }

    private boolean drainMarked(boolean timed, long deadline) throws InterruptedException {
        closeInboxes(pwqs.length); // before DRAINING: a push that succeeds is one the drain sees
        try {
            synchronized (stateLock) {
                if (nrDrainers++ == 0) {
                    state |= DRAINING;
                }
            }
        } catch (Throwable e) {
            reopenInboxes(pwqs.length);
            throw e;
        }
        try {
            for (int tries = 1; ; tries++) {
                if (timed) {
                    if (!flushUntil(deadline)) {
                        return false;
                    }
                } else {
                    flush();
                }
                if (allIdle()) {
                    return true;
                }
                if (tries == 10 || (tries % 100 == 0 && tries <= 1000)) {
                    Log.logFormat(Level.WARNING, "workqueue {0}: drain isn''t complete after {1} tries", name, tries);
                }
            }
        } finally {
            try {
                synchronized (stateLock) {
                    if (--nrDrainers == 0) {
                        state &= ~DRAINING;
                    }
                }
            } finally {
                reopenInboxes(pwqs.length); // after clearing DRAINING (destroy keeps its own close)
            }
        }
    }

    /**
     * Closes the inboxes of the first {@code k} pwqs (PoolWorkqueue.closeInbox), each under its
     * pool lock; on an Error reopens those it closed and rethrows.
     */
    private void closeInboxes(int k) {
        int closed = 0;
        try {
            for (; closed < k; closed++) {
                PoolWorkqueue pwq = pwqs[closed];
                pwq.pool.acquireFromCaller();
                try {
                    pwq.closeInbox();
                } finally {
                    pwq.pool.lock.unlock();
                }
            }
        } catch (Throwable e) {
            reopenInboxes(closed);
            throw e;
        }
    }

    /** Undoes closeInboxes(k). */
    private void reopenInboxes(int k) {
        for (int i = 0; i < k; i++) {
            PoolWorkqueue pwq = pwqs[i];
            pwq.pool.acquireFromCaller();
            try {
                pwq.reopenInbox();
            } finally {
                pwq.pool.lock.unlock();
            }
        }
    }

    private boolean allIdle() {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.acquireFromCaller();
            try {
                pwq.landInbox();
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
     * Set for the run of {@link #destroyUnannotated()}: that destroy's own waits (its drain's
     * flushes) touch no map. Volatile: read by annotateAndRefuseSelfWait on that thread (and,
     * harmlessly, by any other waiter on this queue meanwhile, which then records nothing).
     */
    private volatile boolean unannotatedDestroy;

    /**
     * {@link #destroy()} whose waits are not annotated for the validator: the library's own
     * destroy of a queue whose items have all finished and whose owner queues none any more (an
     * executor view's own queue, destroyed from a system queue's item once the view has
     * terminated). Annotated, it would record "that system queue waits for this queue", which,
     * with a task of the view that flushed the system queue, makes a cycle that no run can
     * close: the destroy is queued only after the last task ended. Every other check (a wait on
     * the queue's own item is refused) stays.
     *
     * @return false if the queue was already destroyed
     */
    public boolean destroyUnannotated() {
        unannotatedDestroy = true;
        try {
            return destroy();
        } finally {
            unannotatedDestroy = false;
        }
    }

    /**
     * Drains, then refuses every later queue and unlinks the queue from its pools. Calling it
     * again after it returned does nothing.
     *
     * @return false if the queue was already destroyed
     */
    public boolean destroy() {
        try {
            return destroy(false, 0);
        } catch (InterruptedException e) {
            throw new IllegalStateException("uninterruptible destroy interrupted", e); // not thrown: drain() keeps the status
        }
    }

    /**
     * {@link #destroy()} for {@code WqRuntime.close}: gives up at {@code deadline} or when
     * interrupted, leaving the queue refusing every new item (destroy begun, not finished).
     *
     * @return true if destroyed (or destroyed already), false if the deadline passed first
     */
    boolean destroyUntil(long deadline) throws InterruptedException {
        annotateAndRefuseSelfWait("destroy", Blocking.timeLeft(deadline));
        int begun;
        while ((begun = beginDestroy(true, true, deadline)) == DESTROY_BUSY) {
            // Another thread's destroy() runs: close() waits for it as for its own (it drains what
            // the queue accepted; the runtime's threads must outlive it), up to the deadline, at
            // which close() interrupts and reports the items still running, that one's included.
            if (!awaitOtherDestroyUntil(deadline)) {
                return false;
            }
        }
        if (begun != DESTROY_BEGUN) {
            return true; // destroyed, or dying already (a close's destroy that gave up, refuseAll)
        }
        try {
            return finishDestroy(true, deadline);
        } finally {
            endDestroyRun(); // also at the deadline: the queue stays dying, and waiting destroy() calls return
        }
    }

    private boolean destroy(boolean timed, long deadline) throws InterruptedException {
        annotateAndRefuseSelfWait("destroy", !timed || Blocking.timeLeft(deadline));
        int begun;
        while ((begun = beginDestroy(true, timed, deadline)) == DESTROY_BUSY) {
            awaitOtherDestroy(); // returns once that destroy ended: destroyed, undone (then this one begins), or given up
        }
        if (begun != DESTROY_BEGUN) {
            return false;
        }
        try {
            return finishDestroy(timed, deadline);
        } catch (RuntimeException | Error e) {
            undoDestroying(); // an Error mid-way: the queue lives on, and destroy() can be called again
            throw e;
        } finally {
            endDestroyRun();
        }
    }

    /** beginDestroy: this call began the destroy (and, if asked, runs it). */
    private static final int DESTROY_BEGUN = 0;
    /** beginDestroy: destroyed, or dying with no destroy running (a close gave up): nothing to do or wait for. */
    private static final int DESTROY_DONE = 1;
    /** beginDestroy(true): another destroy() or destroyUntil() runs now. */
    private static final int DESTROY_BUSY = 2;

    /**
     * Waits (not interruptibly; the status is kept and set again) until no destroy runs: a second
     * destroy() returns only once the queue is destroyed, as the runtime's close() does (issue 13).
     * A library wait (a worker calling it counts as sleeping), reported as a hung destroy. The
     * caller, never an item of this queue (refused before), then looks again.
     */
    private void awaitOtherDestroy() {
        Worker w = Worker.current();
        if (w != null) {
            w.sleeping();
        }
        boolean interrupted = false;
        HungWaits.Waiter waiting = runtime.hungWaits().begin("destroy_workqueue", this, null);
        try {
            synchronized (stateLock) {
                while (destroyRunner != null || destroyClosing) {
                    try {
                        stateLock.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        } finally {
            runtime.hungWaits().end(waiting);
            if (w != null) {
                w.running();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * {@link #awaitOtherDestroy()} for close()'s bounded destroy: gives up at {@code deadline}
     * (System.nanoTime()) or when interrupted.
     *
     * @return false if the deadline passed first
     */
    private boolean awaitOtherDestroyUntil(long deadline) throws InterruptedException {
        HungWaits.Waiter waiting = runtime.hungWaits().begin("destroy_workqueue", this, null);
        try {
            synchronized (stateLock) {
                while (destroyRunner != null || destroyClosing) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    TimeUnit.NANOSECONDS.timedWait(stateLock, left);
                }
            }
            return true;
        } finally {
            runtime.hungWaits().end(waiting);
        }
    }

    /** {@return whether the calling thread runs this queue's destroy (it may be in a report it makes)} */
    boolean destroyRunsOnThisThread() {
        synchronized (stateLock) {
            return destroyRunner == Thread.currentThread();
        }
    }

    /** The destroy this thread ran has ended (idempotent): wakes the destroy() calls waiting for it. */
    private void endDestroyRun() {
        synchronized (stateLock) {
            if (destroyRunner == Thread.currentThread()) {
                destroyRunner = null;
                stateLock.notifyAll();
            }
        }
    }

    private void undoDestroying() {
        synchronized (stateLock) {
            state &= ~DESTROYING;
        }
        reopenInboxes(pwqs.length); // beginDestroy's close
    }

    /** Drains (up to the deadline when timed), then marks the queue destroyed and unlinks it. */
    private boolean finishDestroy(boolean timed, long deadline) throws InterruptedException {
        HungWaits.Waiter waiting = runtime.hungWaits().begin("destroy_workqueue", this, null);
        try {
            if (!finishDrain(timed, deadline)) {
                return false;
            }
        } finally {
            runtime.hungWaits().end(waiting);
        }
        return finishUnlink();
    }

    private boolean finishDrain(boolean timed, long deadline) throws InterruptedException {
        if (timed) {
            if (!drain(true, deadline)) {
                return false;
            }
        } else {
            drain();
        }
        return true;
    }

    /** Marks the drained queue destroyed, unlinks it from its pools, stops its rescuer. */
    private boolean finishUnlink() {
        synchronized (stateLock) {
            state = (state & ~DESTROYING) | DESTROYED;
        }
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.acquireFromCaller();
            try {
                pwq.pool.pwqs.remove(pwq);
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        stopRescuer();
        runtime.unregister(this);
        List<LatentWait> unused = takeLatentWaits(); // destroyed unused: the latent waits never happened to matter
        if (unused != null) {
            runtime.validator().dropLatentWaits(unused.size());
        }
        LockMap map = lockMap; // never made: no validator ever saw its key
        if (ownLockClass && map != null) {
            runtime.validator().unregisterKey(map.key()); // kernel wq_unregister_lockdep
        }
        return true;
    }

    /**
     * Marks the queue dying and takes back its armed timers (reported).
     *
     * @param run the caller will run the destroy (drain and unlink) and end it with endDestroyRun;
     *            false for refuseAll, which only marks (and does not wait for an expiry in
     *            transit to this queue: a destroy that runs does, see TimerQueue)
     * @param timed whether the wait for an expiry in transit ends at {@code deadline} or an
     *              interrupt (a close's bounded destroy)
     * @param deadline {@code System.nanoTime()} deadline, if {@code timed}
     * @return DESTROY_BEGUN; DESTROY_DONE if already dying with no destroy running; DESTROY_BUSY if
     *         another destroy runs (with {@code run}; without, DESTROY_DONE)
     */
    private int beginDestroy(boolean run, boolean timed, long deadline) {
        // Deep, before anything changes: what follows on this frame's depth (closing the inboxes
        // and its undo, the armed items' reports, each task told it never runs, the drain) must
        // not overflow half-way. Struck in closeInboxes' own shallow probe, the catch below
        // overflowed again and left destroyClosing set: every later destroy() of the queue
        // waited for ever (NeverRunsAndCreationAttackTest.aDestroyAtTheEndOfAStackLeavesNoTaskStranded).
        WorkerPool.probeStackDeep();
        synchronized (stateLock) {
            if (destroyRunner != null || destroyClosing) {
                return run && destroyRunner != Thread.currentThread() ? DESTROY_BUSY : DESTROY_DONE;
            }
            if ((state & (DESTROYING | DESTROYED)) != 0) {
                return DESTROY_DONE;
            }
            destroyClosing = true; // one destroyer closes the inboxes, once
            destroyRunner = run ? Thread.currentThread() : null;
        }
        try {
            closeInboxes(pwqs.length); // before DESTROYING, never reopened unless destroy is undone
        } catch (Throwable e) {
            synchronized (stateLock) {
                destroyClosing = false;
                if (run) {
                    destroyRunner = null;
                }
                stateLock.notifyAll();
            }
            throw e;
        }
        synchronized (stateLock) {
            destroyClosing = false;
            state |= DESTROYING;
            stateLock.notifyAll(); // a refuseAll's close has ended (a running destroy notifies at its end)
        }
        TimerQueue timer = runtime.timerIfMade(); // none made: nothing was ever armed (see timerIfMade)
        List<WorkNode> taken;
        try {
            taken = timer == null ? List.of() : timer.cancelAllFor(this, run, timed, deadline);
        } catch (Throwable e) {
            undoDestroying();
            endDestroyRun();
            throw e;
        }
        // Armed delayed work is the caller's duty (kernel rule); it is reported, never lost silently.
        // Every node taken off the timer is ended, even if one report fails (each is marked firing
        // until then, and a flush of it would wait for that mark forever).
        // All are released before the first report: one held by the handler must not keep the
        // next PENDING (a flushAsync of that one would spin in its caller until then; released and
        // still marked, it waits for its own report without blocking).
        for (WorkNode n : taken) {
            n.clearState(WorkNode.TIMER | WorkNode.PENDING);
        }
        Throwable failure = null;
        for (WorkNode n : taken) {
            try {
                IllegalStateException report = new IllegalStateException("queue '" + name + "' destroyed while delayed work '"
                        + n.name() + "' was armed; the timer was cancelled (cancel delayed work before destroying its queue)");
                runtime.reportExpiryNeverRuns(this, n, report);
            } catch (RuntimeException | Error e) { // uncaught() does not throw; an Error building the report can
                if (failure == null) {
                    failure = e;
                }
            } finally {
                n.endFiring(); // reported: a flush of the item that found it idle may return now
            }
        }
        if (failure != null) {
            undoDestroying();
            endDestroyRun();
            if (failure instanceof Error) {
                throw (Error) failure;
            }
            throw (RuntimeException) failure;
        }
        return DESTROY_BEGUN;
    }

    /** A close that ran out of time: refuse every new item from now on (no drain, no wait). */
    void refuseAll() {
        beginDestroy(false, false, 0);
    }

    /** Asks the rescuer, if any, to end; its thread (to join), or null. */
    Thread requestRescuerStop() {
        return rescuer == null ? null : rescuer.requestStop();
    }

    /** The rescuer's worker, or null. */
    Worker rescuerWorker() {
        return rescuer == null ? null : rescuer.worker();
    }

    @Override
    public String toString() {
        return name;
    }
}
