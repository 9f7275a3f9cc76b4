package org.workqueue4j.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
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
     * Producers are the exception: on the fast path they push onto a pwq's lock-free inbox
     * (PoolWorkqueue) and take no lock; the few fields they read without it are volatile
     * (inboxHint, nrSeeking, nrRunning), written under the lock.
     *
     * Inbox hand-off and the idle handshake (no lost wake-up). A producer whose push made a
     * pwq's inbox non-empty (PUSH_FIRST) stores inboxHint = 1 (volatile), then reads nrSeeking
     * and nrRunning (volatile). If both are 0 it takes the lock and kicks (wakeForInbox); else
     * it returns at once: a worker will land its node. Later pushes on the non-empty inbox do
     * nothing more (the first pusher's signal covers them: the inbox is non-empty until a
     * getAndSet takes it, and a push after that take is a PUSH_FIRST again).
     *   nrSeeking counts pool workers that will look at inboxHint before they next run user
     *   code or park: a worker is seeking from its wake-up (counted by the kicker, so a burst
     *   costs one unpark) until it starts an item, and again from the end of its batch until it
     *   parks (between two items of a batch it is not counted: it lands the hint itself, under
     *   the lock, before each item).
     *   Every place that turns seeking off (Worker.seek(false): before an item, before parking)
     *   stores nrSeeking (volatile) and then reads inboxHint (volatile); the producer stores
     *   inboxHint and then reads nrSeeking. Two volatile store→load pairs on two variables: in
     *   the synchronization order one of the two loads sees the other side's store (Dekker),
     *   so either the worker sees the hint (and lands the inbox: kick() before an item, or the
     *   loop instead of parking) or the producer sees nrSeeking == 0 (and wakes one).
     *   nrRunning (per-CPU pools) is the kernel's: a worker running an item keeps counting
     *   until it blocks in a library wait or turns CPU-intensive, and every such decrement is
     *   followed by kick(), which lands the inboxes first (spliceInboxes), so the kernel rule
     *   "a blocked worker wakes another if work is pending" covers inbox items too. Unbound
     *   pools count no one in nrRunning: a producer wakes a worker whenever none is seeking,
     *   which keeps the kernel's "an idle worker is woken for pending work" for them.
     * A worker spins briefly (IDLE_SPINS, reading inboxHint and its own `woken`) before it
     * turns seeking off and parks: a producer that pushes within the spin needs no unpark.
     * inboxHint is cleared (volatile) by whoever lands every inbox of the pool under the lock
     * (takeInboxes), before it looks at them, so a push after that look sets it again.
     * Work stealing between per-CPU pools is not done: an item runs in the pool it was queued
     * to (or the pool of the worker running it: non-reentrancy), as in the kernel.
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
     * worker asks the manager thread for a spare (kernel manage_workers, which the kernel's
     * worker runs itself before working; here it does not wait for it), so a woken worker is
     * soon available for the next kick. A kick that finds no idle worker (the first item of
     * a pool, or every worker busy) asks the runtime's manager thread to create one. Workers idle for longer than
     * the idle timeout exit while there are too many (kernel too_many_workers:
     * nrIdle > 2 && (nrIdle - 2) * 4 >= busy).
     *
     * Worker creation (createWorker) runs the user's ThreadFactory with no pool lock held, as
     * the kernel allocates outside pool->lock: under the lock it reserves a worker id and a slot
     * under the runtime's worker cap, then calls the factory unlocked, then retakes the lock to
     * attach and start the worker (or, if the pool began dying meanwhile, to give both back). A
     * factory that queues work, or is slow, blocks no producer; ids are never shared.
     *
     * Wake-ups in flight are counted: a kick wakes the first idle worker only if it has not been
     * woken already (`Worker.woken`, cleared when it leaves idle), so a burst of items costs one
     * unpark, not one per item.
     *
     * Starvation (kernel mayday timer): `starvedSinceNanos` records when the pool first needed a
     * worker it did not have (kick with no idle worker); the monitor sends maydays to the
     * rescuers of its memReclaim queues once that lasts MAYDAY_INITIAL_TIMEOUT (10 ms), then
     * every MAYDAY_INTERVAL (100 ms), and clears it when the pool is served.
     */

    static final int MAX_IDLE_WORKERS_RATIO = 4;

    /**
     * The worker running on the current thread (see {@link Worker#current}). Here, not in
     * Worker: a class's first initialization that a StackOverflowError strikes marks the class
     * failed for the JVM's life (JVMS 5.5), and a caller's first queue() asks for the current
     * worker, perhaps at the end of its stack. This class is initialized when a runtime is built,
     * and Worker has no static initializer code left to fail (FirstUseOverflowTest).
     */
    static final ThreadLocal<Worker> CURRENT_WORKER = new ThreadLocal<>();

    final int id;
    /** CPU index, or -1 for an unbound pool. */
    final int cpu;
    final boolean highPri;
    final boolean concurrencyManaged;
    final WqRuntime runtime;
    final PoolLock lock = new PoolLock();
    final WorkList worklist = new WorkList();
    final ArrayDeque<Worker> idle = new ArrayDeque<>();
    final List<Worker> workers = new ArrayList<>();
    final List<PoolWorkqueue> pwqs = new ArrayList<>();
    /**
     * Worker ids in use, one bit each (kernel worker_ida), lowest free first. A plain bitmap, not
     * java.util.BitSet: that class is outside the JDK's default CDS archive, loaded from the
     * runtime image by the first create(), a class load on the start-up path.
     */
    private long[] workerIds = new long[1];
    /** Workers counted as running (concurrency management); written under the lock, read by producers. */
    volatile int nrRunning;
    /** Workers that will look at inboxHint before they run user code or park (see the overview). */
    volatile int nrSeeking;
    /** Some pwq's inbox may hold nodes: set by the pusher that made one non-empty, cleared by takeInboxes. */
    volatile int inboxHint;
    boolean dying;
    /**
     * Progress on the worklist: items started, and the worklist going from empty to non-empty.
     * A plain count under the lock, so that the hot path reads no clock; the monitor turns a
     * change it sees into {@link #lastProgressNanos} at its next scan.
     */
    long progressSeq;
    /** The monitor's: the progressSeq it last saw (under the lock). */
    long seenProgressSeq;
    /**
     * System.nanoTime() of the last progress on the worklist as the monitor saw it (watchdog,
     * dump): at most one monitor tick after the progress itself, never before it.
     */
    long lastProgressNanos = System.nanoTime();
    /** A worker-creation failure not yet reported (the monitor reports it outside the lock). */
    String creationFailureReport;
    /** The watchdog reported the current stall; cleared by progress. */
    boolean stallReported;
    /** System.nanoTime() of the last failed worker creation, for the cooldown; 0 if none. */
    long createFailedNanos;

    /** Kernel CREATE_COOLDOWN: after a failure, creation is retried at most this often. */
    static final long CREATE_COOLDOWN_NANOS = 1_000_000_000L;
    /** Kernel MAYDAY_INITIAL_TIMEOUT: a pool starved this long calls the rescuers. */
    static final long MAYDAY_INITIAL_TIMEOUT_NANOS = 10_000_000L;
    /** Kernel MAYDAY_INTERVAL: and again this often while it stays starved. */
    static final long MAYDAY_INTERVAL_NANOS = 100_000_000L;

    /** Creations in flight (factory running outside the lock). */
    int nrCreating;
    /** System.nanoTime() since the pool needs a worker it does not have; 0 when served. */
    long starvedSinceNanos;
    /** System.nanoTime() of the last maydays sent by the starvation timer. */
    long lastMaydayNanos;
    /** The worker cap refused a worker for this pool: report (monitor) once per episode. */
    String capReport;
    WorkerPool(WqRuntime runtime, int id, int cpu, boolean highPri) {
        this.runtime = runtime;
        this.id = id;
        this.cpu = cpu;
        this.highPri = highPri;
        this.concurrencyManaged = cpu >= 0;
    }

    /**
     * Takes {@code lock}, spinning briefly before it waits (PoolLock): the critical sections on
     * the queue and run paths are tens of nanoseconds, while losing the lock to a wait and a
     * wake-up costs microseconds. Allocates nothing, contended or not.
     */
    void acquire() {
        lock.lock();
    }

    /** {@link #acquire()} for a caller's thread, not a worker's: probes the stack first (see {@link #stackProbe}). */
    void acquireFromCaller() {
        probeStack();
        acquire();
    }

    /**
     * Takes another engine lock ({@code ReentrantLock}: a queue's mutex or flip mutex, the timer's
     * heap lock) on a caller's thread: probes the stack first, as {@link #acquireFromCaller()}.
     */
    static void lockFromCaller(ReentrantLock l) {
        probeStack();
        l.lock();
    }

    /**
     * Touches the stack well below the caller's before it takes a lock. A StackOverflowError
     * that strikes inside the JDK's lock acquisition is delivered when the acquisition returns
     * (its reserved-stack section completes first), that is after the lock was taken: the
     * caller's {@code try/finally} has not begun, and the lock would stay held for good.
     * Overflowing here first, with nothing taken, is what a producer at the very end of its
     * stack then sees instead (every method entry checks the same shadow zone below its frame).
     *
     * <p>The probe must reach deeper than the whole acquisition (up to the park of a contended
     * lock) in every compilation state, including a compiled probe (small frames, the recursion
     * partly inlined) in front of an interpreted acquisition: PROBE_DEPTH frames, each keeping
     * PROBE_SLOTS values loaded before its call and used after it, which compiled code must
     * spill to its frame (no callee-saved registers) and the interpreter keeps in its locals,
     * at least 8 * PROBE_SLOTS bytes a frame either way. Four frames of three longs (the first
     * version) were seen not to be enough: StackProbeAttackTest caught a delayed overflow from
     * {@code ReentrantLock.Sync.tryLock} behind a passed probe, the pool lock kept.
     *
     * @return a value of no meaning (returned so that no compiler drops the loads)
     */
    private static long stackProbe(int depth, int frames) {
        long[] s = PROBE_SEEDS; // plain loads of a shared array: none can move past the call below
        long v0 = s[0] + depth;
        long v1 = s[1] + depth;
        long v2 = s[2] + depth;
        long v3 = s[3] + depth;
        long v4 = s[4] + depth;
        long v5 = s[5] + depth;
        long v6 = s[6] + depth;
        long v7 = s[7] + depth;
        long v8 = s[8] + depth;
        long v9 = s[9] + depth;
        long v10 = s[10] + depth;
        long v11 = s[11] + depth;
        long v12 = s[12] + depth;
        long v13 = s[13] + depth;
        long v14 = s[14] + depth;
        long v15 = s[15] + depth;
        long v16 = s[16] + depth;
        long v17 = s[17] + depth;
        long v18 = s[18] + depth;
        long v19 = s[19] + depth;
        long v20 = s[20] + depth;
        long v21 = s[21] + depth;
        long v22 = s[22] + depth;
        long v23 = s[23] + depth;
        long acc = depth >= frames - 1 ? depth : stackProbe(depth + 1, frames);
        acc += v0;
        acc += v1;
        acc += v2;
        acc += v3;
        acc += v4;
        acc += v5;
        acc += v6;
        acc += v7;
        acc += v8;
        acc += v9;
        acc += v10;
        acc += v11;
        acc += v12;
        acc += v13;
        acc += v14;
        acc += v15;
        acc += v16;
        acc += v17;
        acc += v18;
        acc += v19;
        acc += v20;
        acc += v21;
        acc += v22;
        acc += v23;
        return acc;
    }

    /**
     * Probes the stack ({@link #stackProbe}): before a lock acquisition on a caller's thread, or
     * a state change whose undo, in the same frame, must not overflow. Public for the library's
     * API classes (this package is not exported).
     */
    public static void probeStack() {
        stackProbe(0, PROBE_DEPTH);
    }

    /**
     * Probes {@value #DEEP_PROBE_DEPTH} probe frames deep (each at least 24 longs; {@link
     * #probeStack()} probes {@value #PROBE_DEPTH}): before a rare path whose own work goes far
     * deeper than a lock acquisition, on a caller's thread at any depth, and whose half-done
     * state, or a JDK class it first initializes, an overflow would leave broken: the lock
     * validator's check and report, the first CompletableFuture of the JVM, a report built on
     * an item's thread. 64 frames were found enough for the validator's first report, 48 not.
     */
    public static void probeStackDeep() {
        stackProbe(0, DEEP_PROBE_DEPTH);
    }

    private static final int DEEP_PROBE_DEPTH = 128;

    /**
     * Probes {@value #FIRST_LOG_PROBE_DEPTH} probe frames deep, before the library's first log
     * record of the JVM ({@link Log}): that record looks up the JDK's LoggerFinder, sets up
     * java.util.logging and formats with the JDK's locale providers, all first initialized then
     * and far deeper than {@link #probeStackDeep()} reaches; an overflow inside those
     * initializations marks the JDK's classes failed for the JVM's life (JVMS 5.5).
     */
    static void probeStackForFirstLog() {
        stackProbe(0, FIRST_LOG_PROBE_DEPTH);
    }

    private static final int FIRST_LOG_PROBE_DEPTH = 512;

    private static final int PROBE_DEPTH = 6;
    /** The values each probe frame holds across its call (the v0..v23 of stackProbe). */
    static final int PROBE_SLOTS = 24;
    private static final long[] PROBE_SEEDS = new long[PROBE_SLOTS];

    /*
     * The JDK's lock queue nodes, initialized with this class (on the thread that builds the
     * first runtime or validator, at its depth): the engine's locks are the JDK's, and the JVM's
     * first contended wait on one (a caller's queue() meeting a worker that holds the pool lock,
     * a condition wait) initializes AbstractQueuedSynchronizer's node classes. At the end of a
     * stack the overflow struck inside that initialization and marked them failed for the JVM's
     * life (JVMS 5.5): every contended java.util.concurrent lock of the process, the engine's
     * included, threw NoClassDefFoundError from then on (FirstUseOverflowTest). A JDK whose
     * AQS has other nested classes leaves the missing ones to their first use.
     */
    static {
        for (String node : new String[] {"ExclusiveNode", "SharedNode", "ConditionNode"}) {
            try {
                Class.forName("java.util.concurrent.locks.AbstractQueuedSynchronizer$" + node, true, null);
            } catch (ClassNotFoundException notInThisJdk) {
                // nothing to initialize
            }
        }
    }

    // ---------------------------------------------------------------- inbox (lock held)

    /*
     * Every landing of the pool's inboxes clears inboxHint, and a producer that found a worker
     * seeking counted on that worker to see the hint. So whoever lands them, other than that
     * worker itself, wakes a worker for what went on the worklist (kick's waking half): a
     * reader that landed silently (the manager's scan, the cap's retirement scan, a rescuer)
     * would leave the items on the worklist while the seeking worker, finding no hint, parks.
     */

    /**
     * Lands every pwq's inbox if the hint says one may hold nodes (one volatile read otherwise),
     * and wakes a worker for what went on the worklist.
     */
    void spliceInboxes() {
        if (inboxHint != 0 && landInboxes()) {
            wakeWorker();
        }
    }

    /**
     * Lands every pwq's inbox if the hint says so, waking no one: for the worker loop (the
     * calling worker looks at the worklist next, so it is the worker a wake-up would be for)
     * and for kick() and wakeForSleeper(), which wake one right after.
     */
    void landHintedInboxes() {
        if (inboxHint != 0) {
            landInboxes();
        }
    }

    /**
     * Lands every pwq's inbox, whatever the hint: for callers looking for one node in transit
     * (its pusher may not have stored the hint yet). Wakes a worker for what went on the worklist.
     *
     * @return true if some node went on the worklist
     */
    boolean takeInboxes() {
        boolean any = landInboxes();
        if (any) {
            wakeWorker();
        }
        return any;
    }

    /**
     * Lands every pwq's inbox. Clears the hint (volatile) first, so a push this scan misses
     * stores it again. The caller wakes a worker for what landed, or is that worker (a dying
     * pool's worker deciding whether anything is left: Worker.nothingLeftWhileDying).
     */
    boolean landInboxes() {
        inboxHint = 0;
        boolean wasEmpty = worklist.isEmpty();
        boolean any = false;
        for (int i = 0, k = pwqs.size(); i < k; i++) {
            any |= pwqs.get(i).takeInbox();
        }
        if (any && wasEmpty) {
            noteProgress();
        }
        return any;
    }

    /**
     * For a caller looking for {@code n}: if it is on no list (maybe in an inbox), lands every
     * inbox (takeInboxes, which wakes a worker for what landed). Lock held.
     */
    void landInboxesFor(WorkNode n) {
        if (n.pwq == null) {
            takeInboxes();
        }
    }

    /**
     * A producer's PUSH_FIRST found no worker seeking and none running: lands the inboxes and
     * wakes one (kick). Called and returns without the lock.
     */
    void wakeForInbox() {
        boolean stopped;
        acquireFromCaller();
        try {
            kick();
            stopped = dying;
        } finally {
            lock.unlock();
        }
        if (stopped) {
            Deserted.deliver(this); // no worker may be left to take what this push brought
        }
    }

    // ---------------------------------------------------------------- predicates (lock held)

    /**
     * Stopped by close(), with no worker left and none being made: nothing will ever run what
     * reaches it, but a rescuer still running runs its own queue's items (Deserted). Lock held.
     */
    boolean isDeserted() {
        return dying && workers.isEmpty() && nrCreating == 0;
    }

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
            noteProgress();
        }
    }

    /** The worklist went from empty to non-empty (several nodes at once, from an inbox), or an item started: progress. */
    void noteProgress() {
        progressSeq++;
        stallReported = false;
    }

    /**
     * Monitor, under the lock, before it looks at lastProgressNanos: progress made since its
     * last look counts as made {@code now}.
     */
    void observeProgress(long now) {
        if (progressSeq != seenProgressSeq) {
            seenProgressSeq = progressSeq;
            lastProgressNanos = now;
        }
    }

    // ---------------------------------------------------------------- waking (lock held)

    /**
     * Wakes the first idle worker if the pool needs one and it is not already woken (kernel
     * {@code kick_pool}). With no idle worker, asks the manager thread to create one (outside
     * this lock) and starts the starvation clock.
     */
    void kick() {
        landHintedInboxes(); // inbox items are pending work too
        wakeWorker();
    }

    /** kick() without the landing: wakes an idle worker, or asks for one, if the pool needs it. */
    private void wakeWorker() {
        if (!needMoreWorker()) {
            return;
        }
        Worker w = idle.peekFirst();
        if (w != null) {
            if (!w.woken) {
                w.woken = true;
                w.seek(true); // counted from now: producers need not wake another
                w.wake();
                // The worker notes the monitor busy when it starts the item; a worker whose
                // thread has died never will, and the monitor must tick to find it (reapDeadWorkers).
                runtime.monitor().noteBusy();
            }
        } else if (!dying) {
            if (starvedSinceNanos == 0) {
                starvedSinceNanos = System.nanoTime() | 1;
                runtime.monitor().noteBusy(); // the mayday timer runs on the monitor's ticks
            }
            if (nrCreating == 0) {
                runtime.manager().request();
            }
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

    /**
     * Creates and starts a worker, calling the thread factory with no lock held; called and
     * returns without the pool lock. Refused (false) while dying, within the cooldown after a
     * failed creation, or at the worker cap; a refusal or failure sends maydays.
     */
    boolean createWorker() {
        int wid;
        long now = System.nanoTime();
        acquire();
        try {
            if (dying) {
                return false;
            }
            if (createFailedNanos != 0 && now - createFailedNanos < CREATE_COOLDOWN_NANOS) {
                sendMaydays();
                return false;
            }
            if (!runtime.reserveWorker()) {
                WqRuntime.testHook("pool.capRefused", this);
                runtime.workerCapHit(this);
                sendMaydays();
                return false;
            }
            try {
                wid = reserveWorkerId(); // reserved: a concurrent creation takes another id
            } catch (Throwable e) {
                // An allocation failure growing the id bitmap: the slot under the cap goes back
                // (kept, each failure lost a slot for good). Nothing else was claimed yet; the
                // caller (manager or monitor) outlives the Error, and the monitor asks again.
                runtime.releaseWorker();
                throw e;
            }
            nrCreating++;
        } finally {
            lock.unlock();
        }
        Worker w = null;
        Thread t = null;
        Throwable failure = null;
        boolean givenUp = false;
        try {
            WqRuntime.testHook("pool.newWorker", this); // claimed: nrCreating, the id and the cap slot are this call's
            w = new Worker(this, wid); // allocates (its name, its lists): inside the try, as the factory
            t = runtime.newThread(w, w.name);
            if (highPri) {
                t.setPriority(Thread.MAX_PRIORITY);
            }
        } catch (Throwable e) { // OutOfMemoryError "unable to create native thread" included
            failure = e;
        }
        acquire();
        try {
            nrCreating--;
            if (failure == null && !dying && w != null && t != null) {
                try {
                    workers.add(w); // may throw (an allocation): undone below, as a failed start
                    w.thread = t;
                    w.enterIdle();
                    t.start();
                    createFailedNanos = 0;
                    return true;
                } catch (Throwable e) {
                    idle.remove(w);
                    workers.remove(w);
                    failure = e;
                }
            }
            releaseWorkerId(wid);
            if (t != null && t.getState() != Thread.State.NEW) {
                // start() threw after starting the thread: the worker's loop sees it was given
                // up and returns, but until the thread has ended it keeps its slot.
                runtime.workerLeaving(t);
            } else {
                runtime.releaseWorker();
            }
            if (failure != null) {
                createFailedNanos = now == 0 ? 1 : now;
                runtime.reportWorkerCreationFailure(this, failure);
                sendMaydays();
            }
            givenUp = dying;
            return false;
        } finally {
            lock.unlock();
            if (givenUp) {
                Deserted.deliver(this); // the pool began dying meanwhile: this may have been its first worker
            }
        }
    }

    /** Lock held: takes the lowest free worker id. */
    private int reserveWorkerId() {
        WqRuntime.testHook("pool.workerId", this); // an allocation failure growing the bitmap, simulated
        long[] ids = workerIds;
        for (int i = 0; ; i++) {
            if (i == ids.length) {
                ids = java.util.Arrays.copyOf(ids, i * 2);
                workerIds = ids;
            }
            long free = ~ids[i];
            if (free != 0) {
                int bit = Long.numberOfTrailingZeros(free);
                ids[i] |= 1L << bit;
                return i * 64 + bit;
            }
        }
    }

    /** Lock held: gives worker id {@code id} back. */
    private void releaseWorkerId(int id) {
        workerIds[id >>> 6] &= ~(1L << id);
    }

    /** The pool needs a worker, has none free and none being created (the manager's test). */
    boolean lacksWorker() {
        acquire();
        try {
            spliceInboxes();
            boolean spare = wantSpare; // one request, served by this answer (or by the creation in flight)
            wantSpare = false;
            return !dying && (spare || needMoreWorker()) && idle.isEmpty() && nrCreating == 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lock held: a worker that starts working left no idle worker behind it (kernel
     * manage_workers): the manager makes a spare, asynchronously. Not while one is being made.
     */
    void requestSpare() {
        if (!wantSpare && !dying && nrCreating == 0) {
            wantSpare = true;
            runtime.manager().request();
        }
    }

    /** A worker asked the manager for a spare (requestSpare); cleared by the manager's lacksWorker (lock). */
    private boolean wantSpare;

    /**
     * Lock held: moves what is left on {@code w}'s scheduled list (items and barriers handed to
     * it while it ran an earlier instance, non-reentrancy) back to the worklist, in order, for
     * another worker: {@code w} is ending without running them (an Error ended its loop).
     */
    void handBackScheduled(Worker w) {
        for (WorkNode n; (n = w.scheduled.first()) != null; ) {
            w.scheduled.moveLinked(n, worklist);
        }
    }

    void workerExited(Worker w) {
        // A worker that an Error ends in the middle of a batch still counts as running and may
        // hold items handed to it (non-reentrancy): un-count it, and give them back for another.
        w.setFlags(Worker.PREP);
        handBackScheduled(w);
        w.seek(false);
        if (workers.remove(w)) {
            runtime.workerLeaving(w.thread); // its slot is freed once the thread has ended
        }
        idle.remove(w);
        releaseWorkerId(w.id);
    }

    /**
     * Monitor, lock held: a worker whose thread has ended while it is still one of the pool's
     * workers never ran its loop (every exit from the loop leaves through workerExited, which
     * removes it under this lock): the ThreadFactory's thread did not run the Runnable it was
     * given, or died before the loop. The pool would count it idle forever, and a wake-up sent
     * to it would be lost. Removes each such worker as if it had exited (its slot is freed at the
     * next reservation at the cap, its thread being gone), reports
     * it as a creation failure (which also starts the creation cooldown, so a factory that always
     * does this costs one thread a second), and kicks for the work it was counted on to run.
     */
    void reapDeadWorkers(long now) {
        boolean reaped = false;
        for (int i = workers.size() - 1; i >= 0; i--) {
            Worker w = workers.get(i);
            if (w.thread.isAlive()) {
                continue;
            }
            workerExited(w); // off both lists, not seeking; its slot is freed at the next reservation (the thread is gone)
            createFailedNanos = now == 0 ? 1 : now;
            runtime.reportWorkerCreationFailure(this, new IllegalStateException("worker thread '" + w.thread.getName()
                    + "' ended without running the worker loop (does the ThreadFactory run the Runnable it is given?)"));
            reaped = true;
        }
        if (reaped) {
            kick();
        }
    }

    /**
     * The worker cap holds work back elsewhere: retire the longest-idle worker of this pool
     * if it has nothing pending, freeing its slot. Lock held.
     */
    void retireIdleWorker() {
        spliceInboxes();
        if (worklist.isEmpty() && !idle.isEmpty()) {
            Worker w = idle.pollLast();
            w.retired = true;
            w.wake();
        }
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
            WqRuntime.testHook("pool.collision", n); // lock held: handed to the worker running it
            return false;
        }
        worklist.moveLinked(n, w.scheduled);
        return true;
    }

    /**
     * Worker {@code w} has left the running set (blocked in a library wait; Worker.sleeping has
     * decremented nrRunning): wakes another if work is pending (kernel wq_worker_sleeping).
     */
    void wakeForSleeper(Worker w) {
        landHintedInboxes(); // the kick below wakes a worker for them
        if (needMoreWorker()) {
            WqRuntime.testHook("pool.wakeForSleeper", w); // where the count (an allocation) may throw
            if (w.currentPwq != null) {
                w.currentPwq.wq.stats().cmWakeup.increment();
            }
            kick();
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Stops every worker: each exits once nothing it could run is left (Worker.run: the items
     * still queued run first), idle ones at once.
     */
    void stop() {
        lock.lock();
        try {
            dying = true;
            wakeAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The threads running an item in this pool now: its workers, and any of {@code rescuers}
     * ({@link WqRuntime#rescuerWorkers}) attached here and running an item (a rescuer is none
     * of the pool's workers, but while it rescues it runs the pool's items as one, and the
     * kernel's busy hash holds it then). For the dumps and reports; caller holds the lock,
     * under which a worker's {@code currentWork} is written (a rescuer's item may have ended
     * by the time the caller reads it: read it once, allow for null).
     */
    List<Worker> busyWorkers(Iterable<Worker> rescuers) {
        List<Worker> busy = new ArrayList<>();
        for (Worker w : workers) {
            if (w.currentWork != null) {
                busy.add(w);
            }
        }
        for (Worker r : rescuers) {
            // Attached here, and its item one of this pool's: both written under this lock while
            // it rescues here (a rescuer that moved on to another pool is written under that one's,
            // so callers read its currentWork once and allow for null).
            PoolWorkqueue cp = r.currentPwq;
            if (r.pool == this && cp != null && cp.pool == this && r.currentWork != null) {
                busy.add(r);
            }
        }
        return busy;
    }

    /** Wakes every worker; pool lock held. */
    void wakeAll() {
        for (Worker w : workers) {
            w.wake();
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

    /**
     * Kernel-style pool description: {@code cpus=0 flags=0x0 nice=0}. A JVM cannot renice a
     * thread, so a high-priority pool says what it does instead: its workers run at
     * {@code Thread.MAX_PRIORITY} ({@code prio=10}; the OS honours Java priorities only with
     * {@code -XX:ThreadPriorityPolicy=1} and the right to raise them).
     */
    String describe() {
        String cpus = cpu >= 0 ? Integer.toString(cpu) : "0-" + (runtime.cpus() - 1);
        return "cpus=" + cpus + " flags=0x" + (cpu >= 0 ? "0" : "4") + (highPri ? " prio=10" : " nice=0");
    }

    @Override
    public String toString() {
        return "pool " + id + " (" + describe() + ")";
    }
}
