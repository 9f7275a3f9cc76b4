package org.workqueue4j.internal;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.UncaughtWorkHandler;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;

/**
 * The engine's global state (kernel: the per-CPU pools, the unbound pools, the workqueue list).
 * One per {@code WorkQueues} runtime; nothing here is static.
 */
public final class WqRuntime {

    /**
     * The test hook ({@link TestHooks#install}), or null outside tests. Volatile: a hook
     * installed by the test thread is seen by the engine threads it races. Kept here, in a
     * class every runtime loads, so that passing a point costs one volatile read and no class load.
     */
    static volatile TestHooks.Hook hook;

    /** CompletableFuture (and ForkJoinPool behind it) initialized; see {@link #newFuture}. */
    private static volatile boolean futuresReady;

    /**
     * A new future for a flushAsync. The first one in the JVM initializes CompletableFuture,
     * which initializes ForkJoinPool (its async pool): behind a deep stack probe, since an
     * overflow there marks both failed for the JVM's life (JVMS 5.5), and every later
     * flushAsync would throw NoClassDefFoundError, as would every Condition.await of the JVM
     * (the JDK's AQS blocks through ForkJoinPool.managedBlock), out of the wait with its lock
     * released (FirstUseOverflowTest's "more" child hung on the timer thread's wait). Not done
     * when a runtime is built: it costs about 5 ms, on the first item's path. After the first,
     * one volatile read.
     *
     * @param <T> the future's type
     * @return a new, incomplete future
     */
    public static <T> CompletableFuture<T> newFuture() {
        if (!futuresReady) {
            WorkerPool.probeStackDeep();
            CompletableFuture<T> first = new CompletableFuture<>(); // initializes it, and ForkJoinPool
            futuresReady = true; // volatile write: a thread that reads it true finds both initialized
            return first;
        }
        return new CompletableFuture<>();
    }

    /** Runs the installed test hook, if any, at {@code point} (see {@link TestHooks}). */
    static void testHook(String point, Object subject) {
        TestHooks.Hook h = hook;
        if (h != null) {
            h.at(point, subject);
        }
    }

    private final String name;
    /** "wq-<name>/": every thread of this runtime is named with it. */
    private final String threadPrefix;
    /** Cap on pool workers over all pools (rescuers, timer and monitor not counted). */
    final int maxWorkers;
    private final int cpus;
    private final WorkerPool[] cpuPools;
    private final WorkerPool[] unboundPools;
    /** cpuPools then unboundPools (the monitor walks it on every tick: no list is made for that). */
    private final WorkerPool[] allPools;
    /** The user's factory; null: threads as Executors.defaultThreadFactory() makes them, in {@link #threadGroup}. */
    private final ThreadFactory threadFactory;
    private final ThreadGroup threadGroup;
    private final long idleTimeoutNanos;
    /** The user's uncaught-work handler, or null: log at ERROR (the default). */
    private final UncaughtWorkHandler handler;
    private final Set<WorkqueueStruct> queues = ConcurrentHashMap.newKeySet();
    /**
     * Made by the first delayed item ({@link #timer()}): a runtime that never arms a timer loads
     * neither TimerQueue nor its Condition. Written once under timerLock, read volatile.
     */
    private volatile TimerQueue timer;
    /** Guards the making of {@link #timer} and {@link #timerStopped}. */
    private final Object timerLock = new Object();
    /** Guarded by timerLock: the runtime threads were stopped; a timer made after this never starts. */
    private boolean timerStopped;
    private final Monitor monitor;
    private final Manager manager;
    private final HungWaits hungWaits;
    private final Consumer<String> reportListener;
    /** The configured validator; null: none (disabled), and no validator class is loaded. */
    private final LockDependencyValidator validator;
    /** How flush, drain and destroy of a never-used queue are annotated; null: the default (see flushAnnotation()). */
    private final FlushAnnotation flushAnnotation;
    /** Written under freezer, read volatile by isFrozen(). */
    private volatile boolean frozen;
    /**
     * Kernel wq_pool_mutex around freeze_workqueues_begin and thaw_workqueues: a freeze, a thaw
     * and a new queue's "frozen?" check each see the runtime in one state, so no queue is left
     * frozen in a thawed runtime (or thawed in a frozen one). Taken before any queue's mutex.
     */
    private final Object freezer = new Object();
    private volatile boolean closed;
    /**
     * Queue-to-start latency sampling: while true, each insertion reads the clock once (its
     * start already does). Volatile, read once per queue: a plain load on x86 and ARM's ldar.
     */
    private volatile boolean latencyStats;

    /**
     * Builds the pools. Starts no thread and calls no thread factory: the manager and the
     * monitor start with the first queue, the timer with the first delayed item (see
     * {@link OnDemandThread}).
     */
    public WqRuntime(String name, int cpus, ThreadFactory threadFactory, ThreadGroup threadGroup, long idleTimeoutNanos, UncaughtWorkHandler handler,
                     long cpuIntensiveNanos, long watchdogNanos, Consumer<String> reportListener,
                     LockDependencyValidator validator, FlushAnnotation flushAnnotation, int maxWorkers) {
        this.name = name;
        this.threadPrefix = "wq-" + name + "/";
        this.cpus = cpus;
        this.validator = validator;
        this.flushAnnotation = flushAnnotation;
        this.reportListener = reportListener;
        this.threadFactory = threadFactory;
        this.threadGroup = threadGroup;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.maxWorkers = maxWorkers;
        this.handler = handler;
        cpuPools = new WorkerPool[cpus * 2];
        for (int cpu = 0; cpu < cpus; cpu++) {
            cpuPools[cpu * 2] = new WorkerPool(this, cpu * 2, cpu, false);
            cpuPools[cpu * 2 + 1] = new WorkerPool(this, cpu * 2 + 1, cpu, true);
        }
        unboundPools = new WorkerPool[] {
            new WorkerPool(this, cpus * 2, -1, false),
            new WorkerPool(this, cpus * 2 + 1, -1, true),
        };
        allPools = new WorkerPool[cpuPools.length + unboundPools.length];
        System.arraycopy(cpuPools, 0, allPools, 0, cpuPools.length);
        System.arraycopy(unboundPools, 0, allPools, cpuPools.length, unboundPools.length);
        monitor = new Monitor(this, cpuIntensiveNanos, watchdogNanos);
        monitor.thread = new OnDemandThread(this, monitor, "kworker/monitor");
        hungWaits = new HungWaits(watchdogNanos != 0);
        manager = new Manager(this);
        manager.thread = new OnDemandThread(this, manager, "kworker/manager");
    }

    Manager manager() {
        return manager;
    }

    HungWaits hungWaits() {
        return hungWaits;
    }

    /** Pool workers alive or being created, over all pools (the cap counts these). */
    private final java.util.concurrent.atomic.AtomicInteger nrWorkers = new java.util.concurrent.atomic.AtomicInteger();
    /**
     * 1 while an episode in which the worker cap holds work back is under way (reported once),
     * else 0. An AtomicInteger, not an AtomicBoolean: AtomicInteger is in the JDK's default CDS
     * archive and needs no VarHandle, AtomicBoolean is loaded from the runtime image at start-up.
     */
    private final java.util.concurrent.atomic.AtomicInteger capHeld = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Threads of workers that have left the worker loop but may still be alive (the factory's
     * code after the loop, thread teardown). Each keeps its slot until it is seen dead, so the cap
     * bounds live threads, not just workers in the loop. At most {@code maxWorkers} entries.
     * Guarded by its own monitor, taken last (a pool lock may be held, nothing is taken under
     * it): touched when a worker leaves and at the cap, rarely; a ConcurrentLinkedQueue here
     * would load three classes from the runtime image at start-up.
     */
    private final ArrayList<Thread> exiting = new ArrayList<>();

    /** Takes a slot under the worker cap; false at the cap (after reaping the threads that ended). */
    boolean reserveWorker() {
        // CAS loop on a volatile count: never exceeds the cap, even transiently.
        while (true) {
            int n = nrWorkers.get();
            if (n >= maxWorkers) {
                if (reapExited()) {
                    continue;
                }
                return false;
            }
            if (nrWorkers.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives back a slot whose worker never started. */
    void releaseWorker() {
        nrWorkers.decrementAndGet();
    }

    /**
     * The worker on {@code thread} has left its loop: its slot is freed once the thread has
     * ended (reaped at the next refusal, or by {@link #workerCount}).
     */
    void workerLeaving(Thread thread) {
        synchronized (exiting) {
            exiting.add(thread);
        }
    }

    /** Frees the slots of leaving workers whose threads have ended; true if any was freed. */
    private boolean reapExited() {
        boolean freed = false;
        synchronized (exiting) { // one reaper at a time: each slot is freed once
            for (java.util.Iterator<Thread> it = exiting.iterator(); it.hasNext(); ) {
                if (!it.next().isAlive()) {
                    it.remove();
                    nrWorkers.decrementAndGet();
                    freed = true;
                }
            }
        }
        return freed;
    }

    /**
     * For the cap and lockup reports: the exited workers whose threads have not ended (each still
     * holds its slot), named; empty if none. A factory whose threads never end after the worker's
     * run() leaves the cap's slots held with no worker in any pool, which nothing else shows.
     */
    String exitedThreadsHoldingSlots() {
        reapExited();
        StringBuilder names = new StringBuilder();
        int n = 0;
        synchronized (exiting) {
            for (Thread t : exiting) {
                if (t.isAlive()) {
                    names.append(n++ == 0 ? "" : ", ").append(t.getName());
                }
            }
        }
        return n == 0 ? "" : "; the worker cap (" + maxWorkers + ") counts " + n + " exited worker(s) whose threads"
                + " have not ended (the thread factory's code after the worker's run()): " + names;
    }

    /** Pool workers alive or being created. */
    public int workerCount() {
        reapExited();
        return nrWorkers.get();
    }

    public int maxWorkers() {
        return maxWorkers;
    }

    /** The cap refused a worker for {@code pool} (its lock held): open an episode, report it once. */
    void workerCapHit(WorkerPool pool) {
        if (capHeld.compareAndSet(0, 1)) {
            // The episode is open before its report exists: an Error building it (an allocation
            // failure) closes it again, or no later refusal of the episode would report it.
            try {
                testHook("runtime.capReport", pool);
                pool.capReport = "workqueue: worker cap reached: " + maxWorkers + " workers in runtime '" + name + "'; "
                        + pool + " has " + pool.worklist.size() + " item(s) waiting for a worker (idle workers of other pools"
                        + " are retired to make room; memReclaim queues go on through their rescuers; raise"
                        + " WorkQueuesConfig.Builder.maxWorkers if this is the steady state)" + exitedThreadsHoldingSlots();
            } catch (Throwable e) {
                capHeld.set(0);
                throw e;
            }
            monitor.noteBusy();
        }
    }

    boolean workerCapHeld() {
        return capHeld.get() != 0;
    }

    /** No pool lacks a worker any more: the next refusal opens a new episode. */
    void workerCapEpisodeOver() {
        capHeld.set(0);
    }

    /** The runtime's name (thread names carry it: {@code wq-<name>/kworker/0:1}). */
    public String name() {
        return name;
    }

    /**
     * Stops and joins the runtime threads of a runtime whose construction failed after this
     * constructor returned (the public runtime's own setup threw); none starts afterwards.
     */
    public void abandon() {
        synchronized (freezer) { // as close(): no queue is registered after this
            closed = true;
        }
        for (Thread t : stopRuntimeThreads()) {
            joinUninterruptibly(t);
        }
    }

    /**
     * Stops the timer, the monitor and the manager: none of them starts after this returns.
     *
     * @return those that had started, to be joined
     */
    private List<Thread> stopRuntimeThreads() {
        synchronized (handOffLock) {
            handOffsStopped = true; // every hand-off thread made so far is started (see startHandOffThread)
        }
        List<Thread> started = new ArrayList<>(3);
        for (Thread t : new Thread[] {stopTimer(), monitor.stop(), manager.stop()}) {
            if (t != null) {
                started.add(t);
            }
        }
        return started;
    }

    /** Joins {@code t} (not the calling thread, not a never-started one); keeps an interrupt for the return. */
    static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (t.getState() != Thread.State.NEW && t.isAlive() && t != Thread.currentThread()) {
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

    /** True if the calling thread is one this runtime started (worker, rescuer, timer, monitor, manager, flushAsync hand-off). */
    boolean isOwnThread() {
        Worker w = Worker.current();
        if (w != null) {
            return w.runtime() == this;
        }
        Thread self = Thread.currentThread();
        TimerQueue t = timer;
        // made: also a flushAsync hand-off thread, running other callers' dependent actions,
        // which close() joins as every thread of the runtime (a close() there waited for itself).
        return (t != null && self == t.thread()) || self == monitor.thread.thread() || self == manager.thread.thread()
                || made.contains(self);
    }

    /**
     * Refuses close() on a thread that runs a destroy() of one of this runtime's queues (from
     * the uncaught-work handler that destroy calls there, told of an armed item): close() would
     * wait for that destroy, which waits for the handler, and a close() that passed the queue
     * over would stop the workers its drain needs.
     */
    public void refuseCloseWhileDestroying() {
        for (WorkqueueStruct wq : queues()) {
            if (wq.destroyRunsOnThisThread()) {
                throw new IllegalStateException("close() of workqueue runtime '" + name + "' refused on thread '"
                        + Thread.currentThread().getName() + "', which runs the destroy() of its queue '" + wq.name()
                        + "' (from the uncaught-work handler it called): it would wait for itself");
            }
        }
    }

    /**
     * Refuses {@code operation} on a thread of this runtime, before anything changes: closing
     * waits for every thread of the runtime, the calling one included.
     */
    public void refuseFromOwnThread(String operation) {
        if (isOwnThread()) {
            WorkNode n = currentWork();
            throw new IllegalStateException(operation + " of workqueue runtime '" + name + "' refused on its own thread '"
                    + Thread.currentThread().getName() + "'" + (n == null ? "" : " (running work '" + n.name() + "')")
                    + ": it would wait for itself; call it from a thread of your own");
        }
    }

    Monitor monitor() {
        return monitor;
    }

    /** Logs a runtime report (worker creation failure, lockup) and hands it to the listener. */
    void report(String text) {
        Log.log(Level.ERROR, text, null);
        if (reportListener != null) {
            try {
                reportListener.accept(text);
            } catch (Throwable t) {
                Log.log(Level.ERROR, "workqueue: report listener failed", t);
            }
        }
    }

    /** Kernel show_all_workqueues. */
    public org.workqueue4j.WorkQueuesDump dumpData() {
        return Dump.snapshot(this);
    }

    public String dump() {
        return Dump.showAllWorkqueues(this);
    }

    /**
     * Kernel freeze_workqueues_begin + freeze_workqueues_busy: freezable queues stop
     * activating items; returns when their active items have finished.
     */
    public void freeze() {
        Worker self = Worker.current();
        if (self != null && self.runtime() == this) {
            WorkqueueStruct own = currentQueue();
            if (own != null && own.freezable) {
                throw new IllegalStateException("freeze() refused from work '" + self.currentWork.name()
                        + "' of freezable queue '" + own.name() + "': freezing waits for that queue's running items,"
                        + " this one included (the kernel's freezer never runs on a workqueue)");
            }
        }
        // The wait below is for the freezable queues' running items, as a flush's: recorded on
        // each queue's map first, so that under THROW a predicted deadlock throws with nothing frozen.
        for (WorkqueueStruct wq : queues) {
            if (wq.freezable) {
                wq.annotateFreezeWait();
            }
        }
        synchronized (freezer) {
            if (closed) {
                // close() thaws under this lock after it set `closed`, then destroys every queue:
                // a freeze now would hold the items close() drains (it would wait for its
                // timeout). Nothing is frozen, as a flush after close() has nothing to wait for.
                return;
            }
            frozen = true;
            for (WorkqueueStruct wq : queues) {
                if (wq.freezable) {
                    wq.freeze();
                }
            }
        }
        HungWaits.Waiter waiting = hungWaits.begin("freeze", null, null); // reported like a hung flush
        boolean interrupted = false;
        try {
            for (WorkqueueStruct wq : queues) {
                // Like the kernel's freezer, poll: the wait is rare and bounded by running items.
                // A thaw meanwhile ends it: the thawed queues run on, and would keep it waiting.
                while (frozen && wq.freezable && wq.freezeBusy()) {
                    // Not interruptible: never park with an interrupt pending (parkNanos would return
                    // at once, and the poll spin for as long as the items run); set again on return.
                    if (Thread.interrupted()) {
                        interrupted = true;
                    }
                    testHook("freeze.poll", wq);
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
            }
        } finally {
            hungWaits.end(waiting);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Kernel thaw_workqueues. */
    public void thaw() {
        synchronized (freezer) {
            frozen = false;
            for (WorkqueueStruct wq : queues) {
                if (wq.freezable) {
                    wq.thaw();
                }
            }
        }
    }

    public boolean isFrozen() {
        return frozen;
    }

    public int cpus() {
        return cpus;
    }

    WorkerPool cpuPool(int cpu, boolean highPri) {
        return cpuPools[cpu * 2 + (highPri ? 1 : 0)];
    }

    WorkerPool unboundPool(boolean highPri) {
        return unboundPools[highPri ? 1 : 0];
    }

    long idleTimeoutNanos() {
        return idleTimeoutNanos;
    }

    /**
     * The CPU a queueing thread counts as "local": a per-CPU worker's own CPU, otherwise a
     * stable function of the thread, so that one producer keeps feeding one pool.
     */
    @SuppressWarnings("deprecation") // Thread.getId: threadId() is Java 19+
    int localCpu() {
        Worker w = Worker.current();
        if (w != null && w.pool.cpu >= 0 && w.pool.runtime == this) {
            return w.pool.cpu;
        }
        return (int) (Thread.currentThread().getId() % cpus);
    }

    /**
     * Creates the engine side of a queue and registers it (kernel alloc_workqueue).
     *
     * @param flags     {@code WorkqueueStruct.WQ_*} flags
     * @param lockClass the lock class of the queue's flush pseudo-lock, or null for one of its own
     */
    public WorkqueueStruct newQueue(Object api, String name, int flags, int maxActive, LockClassKey lockClass) {
        if (closed) {
            throw closedFor(name);
        }
        // A queue's items need workers, which the manager makes, and a queue is something to
        // watch (concurrency management, mayday timer, watchdog, hung waits, creation retries
        // and failure reports must not depend on making a thread later, when the factory may
        // fail): start both now, with no lock held, so that a factory failure refuses the queue
        // before anything of it exists. Their check-in waits (OnDemandThread) come after the
        // queue is built, so that both threads start while it is: a thread that ended without
        // running its body refuses the queue then, which is destroyed unregistered.
        Thread managerStarted = manager.thread.launch();
        Thread monitorStarted = null;
        WorkqueueStruct wq;
        try {
            monitorStarted = monitor.thread.launch();
            wq = new WorkqueueStruct(this, api, name, flags, maxActive, lockClass);
        } catch (RuntimeException | Error e) {
            try {
                awaitCheckIns(managerStarted, monitorStarted, null);
            } catch (IllegalStateException dropped) {
                e.addSuppressed(dropped);
            }
            throw e;
        }
        awaitCheckIns(managerStarted, monitorStarted, wq);
        boolean refused;
        // A freeze or thaw either sees the new queue or is seen by it; and close() sets `closed`
        // under the same lock before it takes its snapshot of the queues: a queue registered here
        // is in that snapshot, or this sees `closed` and the queue is never registered.
        synchronized (freezer) {
            refused = closed;
            if (!refused) {
                queues.add(wq);
                if (wq.freezable && frozen) {
                    wq.freeze();
                }
            }
        }
        if (refused) {
            wq.destroy(); // never used, never registered: stops its rescuer, frees its lock class
            throw closedFor(name);
        }
        return wq;
    }

    /**
     * The second half of the first queue's thread starts: waits for the manager's and the
     * monitor's check-in (each null when this call started neither); if one ended without
     * running its body, destroys {@code wq} (built meanwhile, never registered) and throws the
     * refusal naming that thread.
     */
    private void awaitCheckIns(Thread managerStarted, Thread monitorStarted, WorkqueueStruct wq) {
        IllegalStateException dropped = manager.thread.awaitLaunched(managerStarted);
        IllegalStateException monitorDropped = monitor.thread.awaitLaunched(monitorStarted);
        if (dropped == null) {
            dropped = monitorDropped;
        } else if (monitorDropped != null) {
            dropped.addSuppressed(monitorDropped);
        }
        if (dropped != null) {
            if (wq != null) {
                wq.destroy(); // never used, never registered, as for a closed runtime below
            }
            throw dropped;
        }
    }

    private static IllegalStateException closedFor(String queue) {
        return new IllegalStateException("workqueue runtime is closed; cannot create queue '" + queue + "'");
    }

    void unregister(WorkqueueStruct wq) {
        queues.remove(wq);
    }

    public List<WorkqueueStruct> queues() {
        return new ArrayList<>(queues);
    }

    /**
     * The rescuer workers of this runtime's queues, in no order (a weakly consistent look: a
     * queue made or destroyed meanwhile may be missed or seen). For the dumps and reports,
     * which show a rescuer running an item where a pool's own workers are shown
     * ({@link WorkerPool#busyWorkers}).
     */
    Iterable<Worker> rescuerWorkers() {
        List<Worker> rs = new ArrayList<>();
        for (WorkqueueStruct wq : queues) {
            Worker r = wq.rescuerWorker();
            if (r != null) {
                rs.add(r);
            }
        }
        return rs;
    }

    /**
     * Makes (does not start) a thread of this runtime with the user's factory, outside every
     * engine lock; names it {@code wq-<runtime>/<name>} and makes it a daemon (documented on
     * {@code WorkQueuesConfig.Builder.threadFactory}).
     */
    Thread newThread(Runnable r, String name) {
        Thread t = threadFactory != null ? threadFactory.newThread(r) : defaultThread(r, name);
        if (t == null) {
            throw new IllegalStateException("thread factory returned null for " + threadPrefix + name);
        }
        // The default thread is new by construction. Only a factory's is asked: Thread.getState
        // loads Thread.State from the runtime image (outside the default CDS archive), a class
        // load on the first queue's path.
        if (threadFactory != null && t.getState() != Thread.State.NEW) {
            // ThreadFactory.newThread returns an unstarted thread: this one already runs (or ran)
            // the runtime's code on its own, unattached (a pool worker's loop then returns at once).
            throw new IllegalStateException("thread factory returned a thread already started (" + t.getState()
                    + ") for " + threadPrefix + name + ": it must return a new, unstarted thread");
        }
        t.setName(threadPrefix + name);
        t.setDaemon(true);
        // Creation is rare: keep it small (a loop, not removeIf with a lambda: no class to spin at
        // start-up). Ended threads are dropped once there are PRUNE_MADE_AT of them or more, so the
        // first few creations (the manager, the monitor, a pool's first worker and its spare) ask
        // no thread its state (see above); the set stays within PRUNE_MADE_AT of the live threads.
        remember(t);
        return t;
    }

    /** Adds {@code t} to the threads close() joins, first dropping ended ones when there are many. */
    private void remember(Thread t) {
        if (made.size() >= PRUNE_MADE_AT) {
            for (java.util.Iterator<Thread> it = made.iterator(); it.hasNext(); ) {
                if (it.next().getState() == Thread.State.TERMINATED) {
                    it.remove();
                }
            }
        }
        made.add(t);
    }

    /**
     * Makes and starts a short-lived daemon thread of this runtime that runs other callers'
     * code handed off by the engine (FlushColors.completeElsewhere), named {@code
     * wq-<runtime>/<name>} and joined by close() as every runtime thread. Not from the user's
     * factory: a factory's thread that never runs its Runnable would leave that code (futures to
     * complete) to nobody, and the check-in the runtime's own threads make would put a wait on
     * the caller; a plain thread, as CompletableFuture's thread-per-task executor makes, runs it.
     *
     * <p>Made, remembered and started under {@link #handOffLock}, against close()'s
     * {@link #stopRuntimeThreads}: once close() has stopped the runtime's threads, this starts
     * nothing and returns false (the caller runs {@code r} itself), and every hand-off thread
     * made before is started, so close()'s look at {@link #made} (which skips threads not
     * started) joins it. Before, a thread made before that look and started after it, or made
     * after it, ran the callers' code after close() had returned.
     *
     * @return false, with nothing started, if close() stopped the runtime's threads
     */
    boolean startHandOffThread(Runnable r, String name) {
        synchronized (handOffLock) {
            if (handOffsStopped) {
                return false;
            }
            Thread t = defaultThread(r, name);
            t.setDaemon(true);
            remember(t);
            t.start();
            return true;
        }
    }

    /** Guards {@link #handOffsStopped} and the making and start of a hand-off thread. */
    private final Object handOffLock = new Object();
    /** Guarded by handOffLock: close() stopped the runtime's threads; no hand-off thread starts after. */
    private boolean handOffsStopped;

    /**
     * {@link #newThread} for a service thread (timer, monitor, manager, a rescuer): the factory's,
     * unless it made a virtual thread; then a platform daemon thread of the runtime's own kind
     * instead (the factory's is dropped unstarted). Virtual threads are not time-sliced: items
     * that keep their carriers busy would hold back the timer, the watchdog, the hung-wait and
     * cap reports, worker creation and the rescuers' forward progress, for as long as they run
     * (a delayed item due in 10 ms ran after 986 ms behind 20 CPU-bound items of 100 ms).
     */
    Thread newServiceThread(Runnable r, String name) {
        Thread t = newThread(r, name);
        if (isVirtual(t)) {
            made.remove(t);
            t = defaultThread(r, name);
            t.setDaemon(true);
            remember(t);
        }
        return t;
    }

    /** Whether {@code t} is a virtual thread (JDK 21's Thread.isVirtual, read from its class: this library runs on 17). */
    private static boolean isVirtual(Thread t) {
        for (Class<?> c = t.getClass(); c != Thread.class && c != null; c = c.getSuperclass()) {
            if (c.getName().equals("java.lang.BaseVirtualThread")) {
                return true;
            }
        }
        return false;
    }

    /**
     * A thread as {@code Executors.defaultThreadFactory()} makes it (its group, stack size 0,
     * normal priority), with no factory object: that factory's two classes are not in the JDK's
     * default CDS archive, each a class load on the first queue's path. The caller names it and
     * makes it a daemon as for any factory's thread.
     */
    private Thread defaultThread(Runnable r, String name) {
        Thread t = new Thread(threadGroup, r, threadPrefix + name, 0);
        if (t.getPriority() != Thread.NORM_PRIORITY) {
            t.setPriority(Thread.NORM_PRIORITY);
        }
        return t;
    }

    /**
     * Every thread this runtime made and that has not been seen ended: close() joins them all,
     * also a worker that already left its pool's list but has not yet returned from run().
     */
    private final java.util.Set<Thread> made = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** {@link #made} is pruned of ended threads once it holds this many. */
    private static final int PRUNE_MADE_AT = 16;

    /**
     * Called under the pool lock: composes the report there (the pool's state is stable), and
     * leaves it for the monitor to log and hand to the listener outside any pool lock.
     */
    void reportWorkerCreationFailure(WorkerPool pool, Throwable e) {
        StringBuilder pending = new StringBuilder();
        for (PoolWorkqueue pwq : pool.pwqs) {
            if (pwq.nrActive > 0) {
                pending.append(pending.length() == 0 ? "" : ", ").append(pwq.wq.name()).append(" (")
                        .append(pwq.nrActive).append(pwq.wq.hasRescuer() ? " active, rescuer called)" : " active, no rescuer)");
            }
        }
        pool.creationFailureReport = "workqueue: failed to create a worker for " + pool + ": " + Log.describe(e)
                + (pending.length() == 0 ? "" : "; waiting: " + pending) + "; retrying every second";
        monitor.noteBusy();
    }

    /** {@return the validator; the disabled one when none is configured, never null} */
    public LockDependencyValidator validator() {
        LockDependencyValidator v = validator;
        return v != null ? v : LockDependencyValidator.disabled();
    }

    /** True if a validator is configured and enabled (the engine's test before it touches a lock map). */
    boolean validating() {
        LockDependencyValidator v = validator;
        return v != null && v.isEnabled();
    }

    /** The configured policy; null there means the default, resolved here (the enum is loaded only when asked). */
    FlushAnnotation flushAnnotation() {
        return flushAnnotation != null ? flushAnnotation : FlushAnnotation.DEFER_UNTIL_USED;
    }

    /**
     * Runs one node's body, routing an exception to the handler. With validation on, the worker
     * holds the queue's map, then the work's map, around the function (kernel process_one_work),
     * so every lock the function takes depends on both.
     */
    void execute(WorkqueueStruct wq, WorkNode n) {
        LockDependencyValidator v = validator;
        if (v == null || !v.isEnabled()) {
            try {
                n.execute();
            } catch (Throwable t) {
                uncaught(wq, n, t);
            }
            return;
        }
        // The engine's own nodes (flush barriers, a queue flush's async steps) have no map of
        // their own and run under the queue's step map (WorkqueueStruct.stepMap), as the
        // kernel's barrier works run under wq->lockdep_map: what they run (a flushAsync()
        // future's dependent actions) is then seen waited for by the queue's flush, drain and
        // destroy, and not by a sibling flush (a barrier holds no active slot).
        LockMap workMap = n.lockMap();
        LockMap wqMap = workMap != null ? wq.lockMap() : wq.stepMap();
        boolean wqHeld = false;
        boolean workHeld = false;
        try {
            v.acquire(wqMap);
            wqHeld = true;
            if (workMap != null) {
                v.acquire(workMap);
                workHeld = true;
            }
        } catch (Throwable e) { // THROW policy (PotentialDeadlockException), or a validator's own Error: report, still run
            uncaught(wq, n, e);
        }
        try {
            n.execute();
        } catch (Throwable t) {
            uncaught(wq, n, t);
        } finally {
            try {
                if (workHeld) {
                    v.checkLeaks(workMap, n.name(), wq.name()); // kernel: "BUG: workqueue leaked lock or atomic"
                    v.release(workMap);
                }
            } catch (Throwable t) { // a validator's Error must not kill the worker or skip the accounting
                uncaught(wq, n, t);
            }
            try {
                if (wqHeld) {
                    if (!workHeld) {
                        // The item's map was refused (THROW) but the item ran: what it left held
                        // sits above the queue's map, reported and released the same way.
                        v.checkLeaks(wqMap, n.name(), wq.name());
                    }
                    v.release(wqMap);
                }
            } catch (Throwable t) {
                uncaught(wq, n, t);
            }
        }
    }

    /**
     * Reports an expiry of a delayed item that will never run, from the thread that took it off
     * the timer (a refused expiry, an item armed at its queue's destroy): tells the item first
     * (an executor task's future fails), then {@link #uncaught}; with validation on, the item's
     * timer map is held around that report, as the kernel's timer
     * callback runs under timer->lockdep_map, so a cancelSync or flush that waits for this
     * report (WorkNode.awaitNotFiredElsewhere touches that map) is validated against the locks
     * the handler takes. Throws nothing: a THROW-policy report at the acquisition is reported
     * too, and the report still goes out.
     */
    void reportExpiryNeverRuns(WorkqueueStruct wq, WorkNode n, Throwable t) {
        n.tellNeverRuns(t);
        LockDependencyValidator v = validator;
        LockMap m;
        try {
            m = v != null && v.isEnabled() ? n.timerLockMap() : null;
        } catch (Throwable e) { // an allocation failure making the map: the report goes out unannotated
            m = null;
        }
        if (m == null) {
            uncaught(wq, n, t);
            return;
        }
        boolean held = false;
        try {
            // A recursive reader: reports of the item's class run side by side and wait for no
            // one (a reporter holding a lock L while another's handler takes L is no cycle),
            // while a wait for a report touches the map exclusively, as a writer would wait.
            v.acquire(m, org.workqueue4j.lockdep.AcquireMode.RECURSIVE_READ, false);
            held = true;
        } catch (Throwable e) {
            uncaught(wq, n, e);
        }
        try {
            uncaught(wq, n, t);
        } finally {
            if (held) {
                try {
                    v.release(m);
                } catch (Throwable e) {
                    uncaught(wq, n, e);
                }
            }
        }
    }

    /**
     * Hands a work item's failure (or a refused timer expiry) to the user's handler, as
     * (WorkQueue, Work or null for an engine node, error); without one, logs it at ERROR.
     */
    void uncaught(WorkqueueStruct wq, WorkNode n, Throwable t) {
        // Never throws: its callers (a worker after an item, the timer, a destroy) carry on after
        // it. The user's exceptions are described through Log.describe, as their toString() is
        // user code too (a throwing one killed the worker, the failure reported nowhere).
        UncaughtWorkHandler h = handler;
        boolean handed = false; // the handler was called (its own failure is logged below)
        try {
            testHook("runtime.uncaught", n);
            Object w = n == null ? null : n.item();
            if (h != null) {
                try {
                    handed = true;
                    h.uncaught((WorkQueue) wq.api(), (Work) w, t);
                    return;
                } catch (Throwable t2) {
                    Log.log(Level.ERROR, "workqueue: uncaught-work handler failed (" + Log.describe(t2) + ") reporting work '"
                            + (w == null ? "?" : ((Work) w).name()) + "' on queue '" + wq.name() + "' which threw " + Log.describe(t), t);
                    return;
                }
            }
            Log.log(Level.ERROR, "workqueue: work '" + (w == null ? "?" : ((Work) w).name())
                    + "' on queue '" + wq.name() + "' threw " + Log.describe(t), t);
        } catch (Throwable reportFailed) {
            // An Error while building the report (an allocation failure making its message, an
            // overflow of a deep stack): the handler, if it was not called yet, is called once
            // more with nothing to build (it may be how the item's end is counted: an armed item
            // a destroy reports never ran); then messages that need building no more, one with
            // the item's own failure, one with the report's (never attached to the item's
            // throwable, which may be shared and kept: it would grow by one per report). Log.log
            // never throws.
            if (h != null && !handed) {
                try {
                    h.uncaught((WorkQueue) wq.api(), n == null ? null : (Work) n.item(), t);
                } catch (Throwable again) {
                    // the log lines below stand for it
                }
            }
            Log.log(Level.ERROR, REPORT_FAILED, t);
            Log.log(Level.ERROR, REPORT_FAILED_BY, reportFailed);
        }
    }

    /** The second line of {@link #REPORT_FAILED}: what building the report failed with. */
    private static final String REPORT_FAILED_BY = "workqueue: building that report failed with:";

    /** The report of an item's failure when building its full report failed (see {@link #uncaught}). */
    private static final String REPORT_FAILED =
            "workqueue: a work item's failure could not be reported in full (building the report failed); the failure:";

    /**
     * The runtime's timer, made on first use. Under timerLock against {@link #stopTimer()}: a
     * timer made after the runtime threads were stopped is stopped at once, so its thread never
     * starts (as a started-once thread after close(), see {@link OnDemandThread}).
     */
    public TimerQueue timer() {
        TimerQueue t = timer; // volatile read: a timer seen is fully built (written under timerLock)
        if (t != null) {
            return t;
        }
        synchronized (timerLock) {
            t = timer;
            if (t == null) {
                t = new TimerQueue(this);
                if (timerStopped) {
                    t.stop(); // never started: returns null
                }
                timer = t;
            }
            return t;
        }
    }

    /**
     * The timer if one was made, else null: then nothing was ever armed. A destroy that set its
     * queue's DESTROYING (a volatile write) and then finds null here cannot miss an arm for that
     * queue: the arm makes the timer (a volatile write) before it checks DESTROYING under the
     * timer's lock, and of two volatile accesses one sees the other.
     */
    TimerQueue timerIfMade() {
        return timer;
    }

    /** Stops the timer (none made later ever starts); {@return its thread if it had started, else null} */
    private Thread stopTimer() {
        synchronized (timerLock) {
            timerStopped = true;
            TimerQueue t = timer;
            return t == null ? null : t.stop();
        }
    }

    /** The worker running on the calling thread's current item, or null. */
    public static WorkNode currentWork() {
        Worker w = Worker.current();
        return w == null ? null : w.currentWork;
    }

    /** Name of the queue the calling worker runs an item of, or null. */
    public static WorkqueueStruct currentQueue() {
        Worker w = Worker.current();
        return w == null || w.currentPwq == null ? null : w.currentPwq.wq;
    }

    /**
     * Destroys every queue still alive (draining it), then stops the timer, the monitor, every
     * worker and rescuer, and joins their threads, all within {@code timeout}. At the timeout
     * (or when the calling thread is interrupted) it stops waiting: every queue not yet
     * destroyed refuses new items, every worker still running an item is interrupted and
     * reported (queue, item, worker, stack), the threads still alive are named in the same
     * report, and it returns. Items queued but not started by then still run on those threads
     * once their current item ends; those left in a pool with no worker left are reported as
     * never run (Deserted), now or when they reach it. An interrupt is re-asserted on return.
     *
     * @return true if everything drained and every thread ended in time
     */
    public boolean close(Duration timeout) {
        long timeoutNanos = timeout.toNanos(); // the builder saturates "forever" to ~100 years
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (freezer) { // pairs with newQueue: no queue is registered after the snapshot below
            closed = true;
        }
        HungWaits.Waiter waiting = hungWaits.begin("close", null, null);
        try {
            return closeUntil(timeout, deadline);
        } finally {
            hungWaits.end(waiting);
        }
    }

    private boolean closeUntil(Duration timeout, long deadline) {
        boolean interrupted = false;
        boolean timedOut = false;
        List<Thread> threads = new ArrayList<>();
        boolean runtimeStopped = false;
        try {
            try {
                // Closing ends a freeze: items accepted by frozen queues run (or are reported at
                // the timeout) instead of waiting, unseen, for a thaw that can no longer come.
                thaw();
                for (WorkqueueStruct wq : queues()) {
                    if (!timedOut) {
                        try {
                            if (wq.destroyUntil(deadline)) {
                                continue;
                            }
                        } catch (InterruptedException e) {
                            interrupted = true;
                        }
                        timedOut = true;
                    }
                    wq.refuseAll(); // not drained: refuse new items, report armed timers
                }
            } catch (Throwable e) {
                // An Error while destroying the queues (close() throws it): as at the timeout,
                // every queue refuses new items and reports its armed ones; below, every runtime
                // thread is told to stop (items already queued still run before the workers end).
                try {
                    for (WorkqueueStruct wq : queues()) {
                        wq.refuseAll();
                    }
                } catch (Throwable again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
            threads.addAll(stopRuntimeThreads()); // those never started never will
            runtimeStopped = true;
            WqRuntime.testHook("close.stopped", this);
        } finally {
            // Also when the above threw (an Error): every thread of the runtime is told to stop,
            // or they would run for good, since a later close() returns at once. The first
            // failure is the one close() throws.
            if (!runtimeStopped) {
                try {
                    threads.addAll(stopRuntimeThreads());
                } catch (Throwable again) {
                    // best effort: the failure already on its way out is the one reported
                }
            }
            for (WorkerPool p : allPools()) {
                p.stop();
            }
            for (WorkqueueStruct wq : queues()) {
                Thread r = wq.requestRescuerStop();
                if (r != null) {
                    threads.add(r);
                }
            }
        }
        for (WorkerPool p : allPools()) {
            threads.addAll(p.threads()); // after stop(): a creation in flight now starts nothing
        }
        if (timedOut) {
            interruptAndReport(timeout, interrupted);
            deadline = System.nanoTime(); // the bound is spent: no further waiting
        }
        List<Thread> alive = new ArrayList<>();
        for (int i = 0; i < threads.size(); i++) { // grows while it runs (see below)
            Thread t = threads.get(i);
            long left = deadline - System.nanoTime();
            try {
                if (left > 0 && t != Thread.currentThread()) {
                    TimeUnit.NANOSECONDS.timedJoin(t, left);
                }
            } catch (InterruptedException e) {
                interrupted = true;
                deadline = System.nanoTime();
            }
            if (t.isAlive() && t != Thread.currentThread()) {
                alive.add(t);
            }
            if (i == threads.size() - 1) {
                // A worker created while the first list was taken (a spare made by a worker, with
                // no pool lock held) is in no list yet, and one that left its pool's list may still
                // be running: join every thread the runtime made, until no thread is new.
                for (Thread u : made) {
                    if (!threads.contains(u) && u.getState() != Thread.State.NEW) {
                        threads.add(u);
                    }
                }
            }
        }
        // A pool left with no worker (none made in time, held back by the worker cap, or its
        // last one gone) may still hold accepted items: reported now, never stranded (Deserted).
        for (WorkerPool p : allPools()) {
            Deserted.deliver(p);
        }
        if (!alive.isEmpty()) {
            StringBuilder sb = new StringBuilder("workqueue: close() of runtime '").append(name)
                    .append("' returns with ").append(alive.size()).append(" of its threads still alive (daemon; they end"
                            + " once their current items and those still queued have run):");
            for (Thread t : alive) {
                sb.append("\n  ").append(t.getName()).append(" (").append(t.getState()).append(')');
            }
            report(sb.toString());
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return !timedOut && alive.isEmpty();
    }

    /** close() ran out of time: interrupt every worker still running an item and report it with its stack. */
    private void interruptAndReport(Duration timeout, boolean interrupted) {
        List<Worker> busy = new ArrayList<>();
        List<String> what = new ArrayList<>();
        Iterable<Worker> rescuers = rescuerWorkers();
        for (WorkerPool p : allPools()) {
            p.acquireFromCaller(); // close() runs on a caller's thread, perhaps at the end of its stack
            try {
                for (Worker w : p.busyWorkers(rescuers)) {
                    WorkNode cur = w.currentWork;
                    PoolWorkqueue cp = w.currentPwq;
                    busy.add(w);
                    what.add("'" + (cur == null ? "?" : cur.name()) + "' of queue '" + (cp == null ? "?" : cp.wq.name()) + "'");
                }
            } finally {
                p.lock.unlock();
            }
        }
        StringBuilder sb = new StringBuilder("workqueue: close() of runtime '").append(name).append("' ")
                .append(interrupted ? "was interrupted" : "timed out after " + timeout + " (closeTimeout)")
                .append("; interrupting ").append(busy.size()).append(" worker(s) still running items:");
        for (int i = 0; i < busy.size(); i++) {
            Thread t = busy.get(i).thread;
            StackTraceElement[] stack = t.getStackTrace(); // where it was stuck, before the interrupt moves it
            t.interrupt();
            sb.append("\n  ").append(t.getName()).append(" running ").append(what.get(i));
            for (StackTraceElement e : stack) {
                sb.append("\n      at ").append(e);
            }
        }
        report(sb.toString());
    }

    public boolean latencyStats() {
        return latencyStats;
    }

    public void setLatencyStats(boolean on) {
        latencyStats = on;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Every pool, per-CPU first: a shared array, never written after construction (callers only read it). */
    WorkerPool[] allPools() {
        return allPools;
    }
}
