package org.workqueue4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The part of a work item that the engine owns: the atomic state word and the intrusive list
 * links (kernel {@code work_struct::data} and {@code ::entry}). Public only so that
 * {@code org.workqueue4j.Work} can extend it; this package is not exported.
 */
public abstract class WorkNode {
    /*
     * Implementation Overview
     *
     * The state word (a long, accessed through STATE) holds what must change atomically with
     * no lock held, exactly as the kernel's work->data does:
     *
     *   bit 0      PENDING   claimed by queue/queueDelayed with a CAS; cleared by the worker
     *                        (under the pool lock) just before the function runs, or by
     *                        cancel after it has grabbed the item off its list or timer.
     *   bit 1      TIMER     (DelayedWork) the timer is armed; implies PENDING.
     *   bit 2      RUNNING   a worker runs the function now: set in the same CAS that clears
     *                        PENDING at the start of a run (startRunning), cleared after the run
     *                        was accounted (endRunning). It lets a queuer decide without a pool
     *                        lock that no worker runs the item: a claim CAS that expects RUNNING
     *                        clear proves that, at the claim, the item ran nowhere, and no run can
     *                        begin before the claimer's insert lands it (the lock-free fast path
     *                        of WorkqueueStruct; with RUNNING set the queuer takes the locked path,
     *                        which hands the item to the worker running it).
     *   bits 32-47 disable count: while non-zero every queue attempt returns false.
     *
     * Everything else is guarded by the lock of the pool the node currently sits in: the list
     * links, the pool_workqueue it was queued through (pwq != null <=> on a list), its flush
     * colour, the LINKED and INACTIVE flags, and the worker currently running it. `pool` is
     * also read without the lock to find which lock to take (then re-checked under it): that
     * read is an acquire pairing with the release store made under the lock.
     *
     * While a node sits in a pwq's inbox (PoolWorkqueue) it is on no list: pwq == null, and its
     * `next` link is the inbox's (written by the pushing producer before its release CAS, read
     * by the splicer after its acquiring getAndSet). `pool` is already set (before the push).
     *
     * PENDING is the claim token. Whoever sets it owns the right to put the node on a list (or
     * arm its timer); whoever clears it (the worker about to run it, or a canceller that took
     * it off its list) ends that ownership. A node is on at most one list at a time.
     */

    /** Claimed by a successful queue; cleared just before the function runs. */
    public static final long PENDING = 1L;
    /** A delayed item whose timer is armed (PENDING is then set too). */
    public static final long TIMER = 1L << 1;
    /** A worker is running the function now (see the overview). */
    public static final long RUNNING = 1L << 2;
    /** One disable (kernel disable_work): the count sits in bits 32-47. */
    public static final long DISABLE_ONE = 1L << 32;
    public static final long DISABLE_MASK = 0xFFFFL << 32;
    public static final int DISABLE_MAX = 0xFFFF;
    /**
     * One run begun: bits 48-63 count the runs started (wrapping), added in the CAS that clears
     * PENDING for a run. A delayed-work flush reads it at its call to tell the instance pending
     * then from one armed by a later run (which it must neither fire nor wait for, as the
     * kernel's flush_delayed_work fires only the timer armed at its call).
     */
    public static final long RUN_ONE = 1L << 48;

    // List/flag bits in `flags`, guarded by the pool lock.
    /** The next node on the list is a barrier that must move with this one. */
    public static final int LINKED = 1;
    /** Not counted in the pwq's nr_active (inactive items and all barriers). */
    public static final int INACTIVE = 1 << 1;

    private static final VarHandle STATE;
    private static final VarHandle POOL;
    private static final VarHandle FIRING_BY;
    private static final VarHandle AFTER_FIRING;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(WorkNode.class, "state", long.class);
            POOL = l.findVarHandle(WorkNode.class, "pool", WorkerPool.class);
            FIRING_BY = l.findVarHandle(WorkNode.class, "firingBy", Object.class);
            AFTER_FIRING = l.findVarHandle(WorkNode.class, "afterFiring", Object[].class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e); // the JVM wraps it in ExceptionInInitializerError (named here, the verifier would load it at start-up)
        }
    }

    /** Read directly (state()), every write and read-modify-write through STATE. */
    private volatile long state;

    /** Last pool this node was queued to (kernel: pool id kept in data while off queue). */
    @SuppressWarnings("unused") // accessed through POOL
    private WorkerPool pool;

    // ---- guarded by the lock of the pool the node is in ----
    WorkNode next;
    WorkNode prev;
    /** The list this node is on, or null. */
    WorkList list;
    PoolWorkqueue pwq;
    int color;
    int flags;
    /** The worker running this node right now, or null (kernel busy_hash). */
    Worker runningWorker;
    /** System.nanoTime() of the insert that made it pending, stamped only while JFR is up; 0 otherwise (pool lock). */
    long queuedNanos;

    // ---- guarded by the TimerQueue lock (DelayedWork only) ----
    long deadlineNanos;
    int heapIndex = -1;
    /**
     * When the item was last queued, for queue-to-start latency; 0 = not sampled (latency
     * statistics off). Guarded by the pool lock: set at insertion, read and cleared at start.
     */
    long statsQueuedNanos;
    WorkqueueStruct timerWq;
    int timerCpu;
    /**
     * The threads that took this node off the timer to queue it (the timer thread, or a flusher
     * firing it now) or to report it (a destroy taking back the timers armed for its queue), until
     * the node has landed or its report has been delivered: null (none), a Thread (one), or a
     * Thread[] (several: a report outlives the PENDING it released, so the item can be re-armed
     * and taken off the timer again by another thread before that report ends; one slot that
     * the second firer overwrote and then cleared would let a flush return before the first
     * report). Added under the TimerQueue lock, where the node leaves the heap; removed by that
     * thread when it is done, by CAS (FIRING_BY, volatile semantics; removals are not under the
     * lock). Volatile, like the state word: a flusher that reads PENDING clear and then no other
     * thread here knows that an instance which left the timer before has landed (and ran, or
     * runs: it was found) or has been reported, since a firer releases PENDING before it removes
     * itself. The single-firer case allocates nothing.
     */
    @SuppressWarnings("unused") // accessed through FIRING_BY
    private volatile Object firingBy;
    /**
     * Actions to run once no thread but their owner has this node off the timer any more
     * (non-blocking flushes waiting for a report, {@link #whenNotFiredElsewhere}); null when none.
     * Copy-on-write, changed by CAS (AFTER_FIRING, volatile semantics); only ever non-null on the
     * rare path of a report under way. Typed Object[] (each element an AfterFiring) so that this
     * class's initializer, which makes the VarHandle, does not load AfterFiring: every item's
     * first use would pay for a class only that rare path needs.
     */
    @SuppressWarnings("unused") // accessed through AFTER_FIRING
    private volatile Object[] afterFiring;

    /** An action of {@link #whenNotFiredElsewhere}: run once no thread other than {@code owner} has a mark. */
    private static final class AfterFiring {
        final Thread owner;
        final Runnable action;

        AfterFiring(Thread owner, Runnable action) {
            this.owner = owner;
            this.action = action;
        }
    }

    /**
     * Under the TimerQueue lock, before the node leaves the heap to be queued or reported by this
     * thread (a throw here, an OutOfMemoryError on overlapping firings, leaves it armed).
     */
    final void beginFiring() {
        Thread me = Thread.currentThread();
        for (;;) {
            Object o = firingBy;
            Object n;
            if (o == null) {
                n = me;
            } else if (o instanceof Thread t) {
                n = new Thread[] {t, me};
            } else {
                n = with((Thread[]) o, me);
            }
            if (FIRING_BY.compareAndSet(this, o, n)) {
                return;
            }
        }
    }

    /**
     * After the node has landed on its queue, or its report has been delivered: removes one
     * mark of this thread (CAS, volatile semantics), never another thread's.
     */
    final void endFiring() {
        Thread me = Thread.currentThread();
        for (;;) {
            Object o = firingBy;
            Object n;
            if (o == me) {
                n = null;
            } else if (o instanceof Thread[] a) {
                n = without(a, me);
            } else {
                return; // not marked by this thread (cannot happen: begin and end pair up in finally blocks)
            }
            if (FIRING_BY.compareAndSet(this, o, n)) {
                runAfterFiring(); // also with marks left: they may all be the owner's of an action
                return;
            }
        }
    }

    /**
     * Runs {@code r} once no thread other than {@code owner} has this node off the timer: at
     * once, on this thread, if none has; otherwise on the thread whose {@link #endFiring} removes
     * the last such mark. The owner's own marks are not waited for (a reporter's non-blocking
     * flush of the item it reports waits for the others' reports, as its blocking flush does,
     * not for its own: a handler that waited for that future would wait for itself). Never
     * blocks. Exactly one thread runs it: the action is pushed (volatile CAS) before the marks
     * are read again (volatile), and every endFiring removes its mark (volatile CAS) before it
     * reads the actions and then the marks (volatile): of the registrant and the thread removing
     * the last other mark, whichever comes second in that order finds the other's write, and
     * taking the action back (a CAS that removes it) decides who runs it.
     *
     * @param owner the thread whose marks are not waited for (the flush's caller)
     * @param r the action; it handles its own failures
     */
    public final void whenNotFiredElsewhere(Thread owner, Runnable r) {
        registerAfterFiring(owner, r);
    }

    /** {@link #whenNotFiredElsewhere}, returning the registration (for {@link #takeBack}). */
    private AfterFiring registerAfterFiring(Thread owner, Runnable r) {
        AfterFiring w = new AfterFiring(owner, r);
        for (;;) {
            Object[] a = (Object[]) AFTER_FIRING.getVolatile(this);
            Object[] b = a == null ? new Object[] {w} : with(a, w);
            if (AFTER_FIRING.compareAndSet(this, a, b)) {
                break;
            }
        }
        if (!firedOtherThan(owner) && takeBack(w)) {
            r.run();
        }
        return w;
    }

    /** Removes {@code w} from the pending actions; false if another thread took it already. */
    private boolean takeBack(AfterFiring w) {
        for (;;) {
            Object[] a = (Object[]) AFTER_FIRING.getVolatile(this);
            int i = a == null ? -1 : Arrays.asList(a).indexOf(w);
            if (i < 0) {
                return false;
            }
            Object[] b = a.length > 1 ? without(a, i) : null;
            if (AFTER_FIRING.compareAndSet(this, a, b)) {
                return true;
            }
        }
    }

    /** A mark is gone: runs (on this thread) every action no longer waiting for another thread's mark. */
    private void runAfterFiring() {
        Object[] a = (Object[]) AFTER_FIRING.getVolatile(this);
        if (a == null) {
            return; // the common case: no non-blocking flush is waiting
        }
        for (Object o : a) {
            AfterFiring w = (AfterFiring) o;
            if (!firedOtherThan(w.owner) && takeBack(w)) {
                w.action.run(); // completes or re-runs its own flush, and handles its own failures
            }
        }
    }

    /** {@code a} less one occurrence of {@code t}: a Thread when one is left (no allocation for two). */
    private static Object without(Thread[] a, Thread t) {
        int i = 0;
        while (i < a.length && a[i] != t) {
            i++;
        }
        if (i == a.length) {
            return a;
        }
        return a.length == 2 ? a[1 - i] : without(a, i);
    }

    /** A copy of {@code a} with {@code x} appended (the marks and the waiting actions are copy-on-write). */
    private static <T> T[] with(T[] a, T x) {
        T[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = x;
        return b;
    }

    /** A copy of {@code a} without its element {@code i}. */
    private static <T> T[] without(T[] a, int i) {
        T[] b = Arrays.copyOf(a, a.length - 1);
        System.arraycopy(a, i + 1, b, i, b.length - i);
        return b;
    }

    /**
     * {@return true while another thread that took this node off the timer has neither landed
     * it nor delivered its report} A firer's own calls (the uncaught-work handler flushing the
     * item it was told about) are not kept waiting for themselves, but are for other firers.
     */
    public final boolean firedElsewhere() {
        return firedOtherThan(Thread.currentThread());
    }

    /** {@return true while a thread other than {@code me} has this node off the timer} (see {@link #firedElsewhere}) */
    public final boolean firedOtherThan(Thread me) {
        Object o = firingBy;
        if (o instanceof Thread[] a) {
            for (Thread t : a) {
                if (t != me) {
                    return true;
                }
            }
            return false;
        }
        return o != null && o != me;
    }

    /**
     * Waits until no thread other than the caller has this node off the timer: each such
     * instance has landed on its queue, or ended with its report (an expiry refused by a
     * destroyed or draining queue; the report is how that instance ends). A cancel-and-wait
     * calls it after its own wait, as the kernel's {@code del_timer_sync} waits for a running
     * timer callback: on return every instance queued before it ran, was cancelled, or was
     * reported. Not interruptible: the interrupt status is kept and set again on return. The
     * caller's own marks are not waited for (a handler cancelling the item it is told about).
     * Parks (a report is the user's handler and may take any time); registered as a hung wait.
     *
     * @param op the caller's operation, for a hung-wait report
     */
    public final void awaitNotFiredElsewhere(String op) {
        touchTimerMap();
        if (!firedElsewhere()) {
            return; // the common case: no allocation, no registration
        }
        try {
            park(op, false, false, 0);
        } catch (InterruptedException e) {
            throw new AssertionError(e); // not thrown by an uninterruptible park
        }
    }

    /**
     * {@link #awaitNotFiredElsewhere(String)} until {@code deadline} ({@code System.nanoTime()}).
     * Giving up leaves the other threads' landings and reports to end on their own.
     *
     * @return true if no other thread has this node off the timer (any more), false at the deadline
     * @throws InterruptedException if interrupted while waiting (the status is then cleared)
     */
    public final boolean awaitNotFiredElsewhereUntil(String op, long deadline) throws InterruptedException {
        touchTimerMap();
        if (!firedElsewhere()) {
            return true;
        }
        if (deadline - System.nanoTime() <= 0) {
            return false;
        }
        return park(op, true, true, deadline);
    }

    /** {@link #awaitNotFiredElsewhere(String)}, given up when interrupted. */
    public final void awaitNotFiredElsewhereInterruptibly(String op) throws InterruptedException {
        touchTimerMap();
        if (firedElsewhere()) {
            park(op, true, false, 0);
        }
    }

    /**
     * Parks until no other thread has this node off the timer. A worker counts as sleeping
     * meanwhile (its pool may wake another), as in every library wait; the wait is a hung wait.
     *
     * @param interruptible whether an interrupt ends it (with InterruptedException, the status
     *                      cleared); if not, it waits on and sets the status again on return
     * @return false at the deadline (if {@code timed}), else true
     */
    private boolean park(String op, boolean interruptible, boolean timed, long deadline) throws InterruptedException {
        Landing l = new Landing();
        HungWaits.Waiter waiting = beginHungWait(op);
        Worker w = null;
        AfterFiring registered = null;
        boolean interrupted = false;
        try {
            Worker me = Worker.current();
            if (me != null) {
                me.sleeping(); // all or nothing: running() below only if this returned
                w = me;
            }
            WqRuntime.testHook("node.awaitFiring", this);
            registered = registerAfterFiring(l.waiter, l);
            while (!l.done) {
                if (Thread.interrupted()) {
                    if (interruptible) {
                        throw new InterruptedException(op + " of work '" + name() + "' interrupted");
                    }
                    interrupted = true;
                }
                if (timed) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false; // the action is taken back below
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(this, left);
                } else {
                    java.util.concurrent.locks.LockSupport.park(this);
                }
            }
            return true;
        } finally {
            if (registered != null && !l.done) {
                takeBack(registered); // given up (deadline, interrupt): no wake-up left behind for later
            }
            if (w != null) {
                w.running();
            }
            endHungWait(waiting);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private HungWaits.@org.jspecify.annotations.Nullable Waiter beginHungWait(String op) {
        TimerQueue t = armedTimer(); // set: only a node armed once can have been fired
        return t == null ? null : t.runtime().hungWaits().begin(op, null, this);
    }

    private void endHungWait(HungWaits.@org.jspecify.annotations.Nullable Waiter w) {
        TimerQueue t = armedTimer();
        if (t != null) {
            t.runtime().hungWaits().end(w);
        }
    }

    /**
     * A parked caller of {@link #awaitNotFiredElsewhere}: run by whichever thread removes the
     * last other mark (or at once), it sets {@code done} (volatile) and then unparks the
     * waiter, which re-reads {@code done} after every return from park.
     */
    private static final class Landing implements Runnable {
        final Thread waiter = Thread.currentThread();
        volatile boolean done;

        @Override
        public void run() {
            done = true;
            java.util.concurrent.locks.LockSupport.unpark(waiter);
        }
    }

    /** {@return true while {@code t} (not null) has this node off the timer, see {@link #beginFiring}} */
    final boolean firedBy(Thread t) {
        Object o = firingBy;
        if (o instanceof Thread[] a) {
            for (Thread x : a) {
                if (x == t) {
                    return true;
                }
            }
            return false;
        }
        return t != null && o == t;
    }

    /** @return a name for dumps, reports and exceptions */
    public abstract String name();

    /**
     * The timer this node was last armed on, or null (only DelayedWork is ever armed). Read
     * by {@link Pending#grab} after it saw TIMER set, never cached before: the armer binds the
     * timer before it sets TIMER, so that order is what makes the value non-null.
     */
    protected TimerQueue armedTimer() {
        return null;
    }

    /** Runs the item's body. Called by the worker with no pool lock held. */
    protected abstract void execute();

    /**
     * The worker that ran this node has just accounted for it (its colour's in-flight count
     * dropped), pool lock held. Nothing for an item; a flush barrier has its blocking flusher
     * woken at the worker's next unlock (Barrier). A virtual call rather than a type test, so
     * that linking the worker loop loads no Barrier class before the first flush needs it.
     */
    void accounted(Worker w) {
    }

    /**
     * This node's armed instance will never run: a destroy of its queue took it off the timer,
     * or its queue refused the expiry (destroyed, draining, closed). Called with no engine lock
     * held, on the thread that is about to report it to the uncaught-work handler, the node idle
     * again. The engine's nodes and plain items do nothing; an executor view's task fails its
     * future here (a future whose task can never run must not be waited for in vain). The
     * caller catches whatever it throws and adds it to that report.
     *
     * @param reason the refusal, as reported
     */
    protected void neverRuns(Throwable reason) {
    }

    /** {@link #neverRuns} for the engine: what it throws goes with {@code report} (suppressed), never instead of it. */
    final void tellNeverRuns(Throwable report) {
        try {
            neverRuns(report);
        } catch (Throwable e) {
            if (e != report) { // a rethrown reason is in the report already (and cannot suppress itself)
                report.addSuppressed(e);
            }
        }
    }

    /**
     * The user's item this node runs (the {@code Work}), for the uncaught-work handler; null for
     * the engine's own nodes (barriers, flush steps).
     */
    protected Object item() {
        return null;
    }

    /**
     * True for the engine's own nodes (a flush barrier, an async flush step): no user's item,
     * and none holds an active slot. Counted by no statistic of items.
     */
    boolean isEngineNode() {
        return false;
    }

    /**
     * The item's lockdep map (kernel work->lockdep_map), or null for nodes that are not
     * annotated (barriers). Asked only while validation is on.
     */
    public abstract org.workqueue4j.lockdep.LockMap lockMap();

    /**
     * The lockdep map of the item's timer (kernel timer->lockdep_map), or null for a node that is
     * never armed. Held by whoever reports an expiry of the item that will never run
     * ({@link WqRuntime#reportExpiryNeverRuns}), and touched by the waits for such a report
     * ({@link #awaitNotFiredElsewhere}), as the kernel's timer callback runs under the timer's
     * map and del_timer_sync acquires it. Asked only while validation is on.
     */
    public org.workqueue4j.lockdep.@org.jspecify.annotations.Nullable LockMap timerLockMap() {
        return null;
    }

    /**
     * Records a wait for the reports of this item's expiries on its timer's map (see {@link
     * #timerLockMap}), with validation on: a no-op for an item never armed (no report can come)
     * and on a thread that reports an expiry of it itself (it never waits for its own report).
     * May throw PotentialDeadlockException under THROW, before anything waits.
     */
    private void touchTimerMap() {
        TimerQueue t = armedTimer();
        if (t == null || firedBy(Thread.currentThread())) {
            return;
        }
        org.workqueue4j.lockdep.LockDependencyValidator v = t.runtime().validator();
        org.workqueue4j.lockdep.LockMap m;
        if (v.isEnabled() && (m = timerLockMap()) != null) {
            v.touch(m);
        }
    }

    // ---- state word ----

    /**
     * Volatile read: callers act on the result (queue, cancel decisions). The field itself is
     * read, not STATE.getVolatile (the same access): each VarHandle call site is linked on its
     * first call, a few tenths of a millisecond while the JVM is cold, on the first item's path.
     */
    public final long state() {
        return state;
    }

    /** Volatile CAS: the claim of PENDING must be totally ordered with every other claim. */
    public final boolean casState(long expect, long update) {
        return STATE.compareAndSet(this, expect, update);
    }

    /**
     * Clears bits with a volatile read-modify-write: a full fence, as the kernel's
     * {@code smp_mb()} after {@code set_work_pool_and_clear_pending}, so that a queue that sees
     * PENDING clear also sees everything the worker did before (and the worker's later reads
     * see the queuer's stores once it has run again).
     */
    public final long clearState(long bits) {
        return (long) STATE.getAndBitwiseAnd(this, ~bits);
    }

    /** Volatile fetch-add, used for the disable count. */
    public final long addState(long delta) {
        return (long) STATE.getAndAdd(this, delta);
    }

    /**
     * The worker takes the item (pool lock held): clears PENDING and sets RUNNING in one volatile
     * CAS, a full fence as the kernel's {@code smp_mb()} after clearing PENDING, so that a queue
     * that sees PENDING clear also sees everything the worker did before (and the worker's later
     * reads see the queuer's stores once it has run again).
     */
    final void startRunning() {
        for (;;) {
            long s = state();
            if (casState(s, ((s & ~PENDING) | RUNNING) + RUN_ONE)) { // the carry out of bit 63 is dropped: it wraps
                return;
            }
        }
    }

    /**
     * The run is accounted (pool lock held; the node's lock-guarded fields are written): clears
     * RUNNING with a volatile RMW, so a queuer whose claim CAS sees it clear also sees those writes.
     */
    final void endRunning() {
        clearState(RUNNING); // one call site with clearState's: see state()
    }

    /** {@return the runs begun so far, modulo 2^16 (see {@link #RUN_ONE})} */
    public final int runsStarted() {
        return (int) (state() >>> 48);
    }

    public final boolean isPendingBit() {
        return (state() & PENDING) != 0;
    }

    public final int disableCount() {
        return (int) ((state() & DISABLE_MASK) >>> 32);
    }

    /** Acquire load: pairs with the release store under the pool lock in {@link #setPool}. */
    final WorkerPool poolAcquire() {
        return (WorkerPool) POOL.getAcquire(this);
    }

    /** Release store made under the pool lock; lock-free readers then lock and re-check. */
    final void setPool(WorkerPool p) {
        POOL.setRelease(this, p);
    }

    /** True if a pool lock is needed to know more: the node sits on some list. */
    final boolean onList() {
        return pwq != null;
    }
}
