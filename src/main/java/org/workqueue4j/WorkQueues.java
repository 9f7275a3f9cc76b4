package org.workqueue4j;

import org.jspecify.annotations.Nullable;
import java.util.List;
import java.util.Objects;

import org.workqueue4j.internal.WorkqueueStruct;
import org.workqueue4j.internal.WqRuntime;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * A workqueue runtime: the per-CPU and unbound worker pools, the system queues and the timer
 * (kernel: the workqueue subsystem's global state). {@link #global()} is created lazily;
 * {@link #create(WorkQueuesConfig)} makes an isolated one (tests, embedding), which
 * {@link #close()} shuts down: every queue still alive is drained and destroyed, then every
 * worker thread ends.
 *
 * <p>Thread-safe: every method may be called from any thread.
 */
public final class WorkQueues implements AutoCloseable {
    /*
     * Start-up path: plain fields and monitors, not java.util.concurrent.atomic or latches. Each
     * JDK class outside the default CDS archive (AtomicReference, AtomicReferenceArray,
     * AtomicBoolean, CountDownLatch) is loaded from the runtime image on first use, a few tenths
     * of a millisecond each while the JVM is cold; these fields are touched once or rarely.
     */
    /** The process-wide runtime; volatile read on the fast path, set and cleared under GLOBAL_LOCK. */
    private static volatile @Nullable WorkQueues global;
    private static final Object GLOBAL_LOCK = new Object();
    private static final java.util.concurrent.atomic.AtomicInteger RUNTIMES = new java.util.concurrent.atomic.AtomicInteger();

    /*
     * The uncaught-work handler: the user's, or null for the default (the engine logs at ERROR
     * with the queue and work names, WqRuntime.uncaught). No class of our own adapts it to the
     * engine and no default handler object exists: each class loaded from the jar costs about
     * half a millisecond at start-up, and the handler interface itself is then loaded only when
     * a user implements it.
     */

    private final WorkQueuesConfig config;
    private final WqRuntime engine;
    /*
     * System queues are made on first use (a runtime that never touches events_long has none),
     * published copy-on-write: `systemQueues` is a volatile reference to an array never written
     * after it is published (a reader that sees a queue in it sees it fully built); the copy with
     * a new queue is installed under `lock`, unless another was installed first. Two first users
     * may both build one; the loser destroys its own, never-used queue (LazyQueueHolder's
     * CAS_DISCARD) and uses the winner's. No lock while building: the build may call the user's
     * thread factory (the manager starts with the first queue).
     */
    private static final int EVENTS = 0;
    private static final int EVENTS_HIGHPRI = 1;
    private static final int EVENTS_LONG = 2;
    private static final int EVENTS_UNBOUND = 3;
    private static final int EVENTS_FREEZABLE = 4;
    private volatile WorkQueue[] systemQueues = new WorkQueue[5];
    private volatile boolean closing;
    /** Guards the install of a system queue, closeClaimed and closeDone; closeDone is signalled on it. */
    private final Object lock = new Object();
    /** Guarded by lock: claimed by the one close() that does the work; the others wait for {@code closeDone}. */
    private boolean closeClaimed;
    /** Guarded by lock: the close() that claimed has returned (or thrown). */
    private boolean closeDone;
    /** Guarded by lock: the thread of the close() that claimed the work, or null. */
    private @Nullable Thread closingThread;
    private static final java.util.concurrent.atomic.AtomicInteger SEQ = new java.util.concurrent.atomic.AtomicInteger();
    /** This runtime's name in JMX: its name, made unique in the process when needed. */
    private final @Nullable String jmxName;

    private WorkQueues(WorkQueuesConfig config, String defaultName) {
        this.config = config;
        this.engine = new WqRuntime(config.name != null ? config.name : defaultName, config.cpus, config.threadFactory,
                config.threadGroup,
                config.idleTimeoutNanos,
                config.uncaughtWorkHandler,
                config.cpuIntensiveNanos, config.watchdogNanos, config.reportListener,
                config.validator, config.flushAnnotation, config.maxWorkers);
        try {
            if (config.validator != null && config.validator.isEnabled()) {
                Work.initializeHolders(); // an item's lock map, made at its first validated flush
            }
            jmxName = config.jmx ? registerMxBean(engine.name()) : null;
        } catch (Throwable e) {
            engine.abandon(); // a failed create leaves no thread behind
            throw e;
        }
    }

    /**
     * Registers this runtime's MXBean under its name (made unique in the process when another
     * live runtime has it: {@link RuntimeMXBean#register}). {@code java.management} is optional
     * ({@code requires static}): on a runtime image without it the runtime works unregistered.
     *
     * @return the JMX name registered, or null when JMX is absent or refused the bean
     */
    private @Nullable String registerMxBean(String name) {
        try {
            return RuntimeMXBean.register(this, name, RUNTIMES);
        } catch (LinkageError noJmx) {
            return null;
        }
    }

    /**
     * The process-wide runtime, created on first use with {@link WorkQueuesConfig#defaults()}.
     *
     * @return the process-wide runtime
     */
    public static WorkQueues global() {
        WorkQueues g = global; // volatile read: pairs with the write under GLOBAL_LOCK
        if (g != null) {
            return g;
        }
        WorkQueues created = new WorkQueues(WorkQueuesConfig.defaults(), "global");
        WorkQueues winner; // the one set first, or null if ours
        synchronized (GLOBAL_LOCK) {
            winner = global;
            if (winner == null) {
                global = created;
            }
        }
        if (winner != null) {
            created.close();
            return winner;
        }
        return created;
    }

    /**
     * An isolated runtime; close it when done. Creating it starts no thread and calls no thread
     * factory: the runtime's threads start when first needed (the manager with the first queue,
     * a pool's workers with its first item, the monitor once there are workers or waits to
     * watch, the timer with the first delayed item, each system queue on first use), and
     * {@link #close()} joins every one of them. If it cannot be built the exception propagates
     * and nothing of it is left behind.
     *
     * @param config the settings
     * @return the new runtime
     * @throws NullPointerException if {@code config} is null
     */
    public static WorkQueues create(WorkQueuesConfig config) {
        return new WorkQueues(Objects.requireNonNull(config, "config"), Integer.toString(SEQ.incrementAndGet()));
    }

    /**
     * An isolated runtime with the defaults.
     *
     * @return a new runtime with its own pools, timer and system queues (made on first use)
     */
    public static WorkQueues create() {
        return create(WorkQueuesConfig.defaults());
    }

    WqRuntime engine() {
        return engine;
    }

    WorkQueuesConfig config() {
        return config;
    }

    boolean isClosing() {
        return closing;
    }

    /** {@return the validator this runtime's queues report to} */
    public LockDependencyValidator validator() {
        return config.validator();
    }

    /** {@return number of logical CPUs (per-CPU pools come in pairs: normal and high priority)} */
    public int cpus() {
        return config.cpus;
    }

    /**
     * Starts a queue on this runtime.
     *
     * @param name the queue name; not blank
     * @return a builder for a queue on this runtime
     */
    public WorkQueue.Builder queueBuilder(String name) {
        return WorkQueue.builder(name).runtime(this);
    }

    /**
     * The "events" queue: per-CPU, the default queue for short items (kernel system_percpu_wq).
     * Each system queue is created on first use; every caller gets the same queue. Like any
     * first queue of a runtime, the first one made starts the runtime's manager and monitor
     * threads with the thread factory, on the calling thread.
     *
     * @return the queue
     * @throws IllegalStateException if the runtime is closed and the queue was never used
     */
    public WorkQueue system() {
        return systemQueue(EVENTS);
    }

    /**
     * The "events_highpri" queue (kernel system_highpri_wq); created on first use.
     *
     * @return the queue
     * @throws IllegalStateException if the runtime is closed and the queue was never used
     */
    public WorkQueue systemHighPri() {
        return systemQueue(EVENTS_HIGHPRI);
    }

    /**
     * The "events_long" queue, for items that may run long (kernel system_long_wq); created on
     * first use.
     *
     * @return the queue
     * @throws IllegalStateException if the runtime is closed and the queue was never used
     */
    public WorkQueue systemLong() {
        return systemQueue(EVENTS_LONG);
    }

    /**
     * The "events_unbound" queue, max_active 2048 (kernel system_dfl_wq); created on first use.
     *
     * @return the queue
     * @throws IllegalStateException if the runtime is closed and the queue was never used
     */
    public WorkQueue systemUnbound() {
        return systemQueue(EVENTS_UNBOUND);
    }

    /**
     * The "events_freezable" queue (kernel system_freezable_wq); created on first use.
     *
     * @return the queue
     * @throws IllegalStateException if the runtime is closed and the queue was never used
     */
    public WorkQueue systemFreezable() {
        return systemQueue(EVENTS_FREEZABLE);
    }

    private WorkQueue systemQueue(int which) {
        WorkQueue q = systemQueues[which]; // volatile read of the array: pairs with its install under lock
        if (q != null) {
            return q;
        }
        WorkQueue mine = switch (which) { // as WorkQueue.Builder would make them, without one
            case EVENTS -> WorkQueue.createSystem(this, "events", 0, WorkQueue.DEFAULT_MAX_ACTIVE);
            case EVENTS_HIGHPRI -> WorkQueue.createSystem(this, "events_highpri", WorkqueueStruct.WQ_HIGHPRI,
                    WorkQueue.DEFAULT_MAX_ACTIVE);
            case EVENTS_LONG -> WorkQueue.createSystem(this, "events_long", 0, WorkQueue.DEFAULT_MAX_ACTIVE);
            case EVENTS_UNBOUND -> WorkQueue.createSystem(this, "events_unbound", WorkqueueStruct.WQ_UNBOUND,
                    WorkQueue.MAX_ACTIVE);
            default -> WorkQueue.createSystem(this, "events_freezable", WorkqueueStruct.WQ_FREEZABLE,
                    WorkQueue.DEFAULT_MAX_ACTIVE);
        };
        WorkQueue winner;
        synchronized (lock) {
            WorkQueue[] current = systemQueues;
            winner = current[which];
            if (winner == null) {
                WorkQueue[] next = current.clone();
                next[which] = mine;
                systemQueues = next; // volatile write: publishes mine, built before it
            }
        }
        if (winner == null) {
            return mine;
        }
        mine.discardUnused(); // lost the race: ours never had an item
        return winner;
    }

    /**
     * Queues {@code work} on {@link #system()} (kernel schedule_work).
     *
     * @param work the item to queue; not null
     * @return false if the item was already pending (or is disabled), true if it was queued
     */
    public boolean schedule(Work work) {
        return system().queue(work);
    }

    /**
     * Runs {@code fn} once on every CPU's pool of {@link #system()} and waits for all of them
     * (kernel schedule_on_each_cpu). Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return.
     *
     * @param fn the function to run on every CPU; not null
     */
    public void scheduleOnEachCpu(Runnable fn) {
        Objects.requireNonNull(fn, "fn");
        WorkQueue system = system();
        Work[] works = new Work[cpus()];
        for (int cpu = 0; cpu < works.length; cpu++) {
            works[cpu] = new Work("schedule_on_each_cpu/" + cpu, fn);
            system.queueOn(cpu, works[cpu]);
        }
        for (Work w : works) {
            w.flush();
        }
    }

    /**
     * Freezes every {@code freezable()} queue (kernel freeze_workqueues_begin): they keep
     * accepting items but hold them; returns once their running items have finished. Not
     * interruptible: an interrupt does not end the wait; the interrupt status is kept and set
     * again on return. With lock validation on, the wait is recorded on each freezable queue's
     * map first, as a flush of that queue is.
     *
     * <p>Once {@link #close()} has begun (it thaws, then drains every queue) this freezes
     * nothing and returns at once.
     *
     * @throws IllegalStateException if called from an item of a freezable queue of this
     *                               runtime (it would wait for itself); nothing is frozen then
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link
     *                               org.workqueue4j.lockdep.ReportPolicy#THROW}, if the wait could
     *                               deadlock; nothing is frozen then
     */
    public void freeze() {
        engine.freeze();
    }

    /** Releases what frozen queues held (kernel thaw_workqueues). */
    public void thaw() {
        engine.thaw();
    }

    /** {@return true between {@link #freeze()} and {@link #thaw()}} */
    public boolean isFrozen() {
        return engine.isFrozen();
    }

    /**
     * The state of busy queues and pools in the kernel's {@code show_all_workqueues} layout:
     * per pool_workqueue the in-flight, pending and inactive items; per pool its workers.
     *
     * @return the dump text, one line per queue, pool_workqueue and pool
     */
    public String dump() {
        return engine.dump();
    }

    /** {@return per-queue statistics of every live queue, as {@code wq_monitor.py} prints them} */
    public String monitor() {
        return WorkQueueStats.table(queues().stream().map(WorkQueue::stats).toList());
    }

    /**
     * Runs a blocking operation so that, on a worker thread, the pool knows the worker is
     * blocked and starts another worker for pending items (kernel: a sleeping worker leaves
     * nr_running). Off a worker it just blocks. Same contract as
     * {@link java.util.concurrent.ForkJoinPool#managedBlock}.
     *
     * @param blocker the blocking operation; not null
     * @throws InterruptedException if interrupted while blocking (from the blocker)
     */
    public static void managedBlock(java.util.concurrent.ForkJoinPool.ManagedBlocker blocker)
            throws InterruptedException {
        org.workqueue4j.internal.Blocking.managedBlock(blocker);
    }

    /**
     * The state of busy queues and of every pool as data: what {@link #dump()} prints (its
     * {@code toString()} is that text), for programs and monitoring.
     *
     * @return a snapshot, consistent per pool
     */
    public WorkQueuesDump dumpData() {
        return engine.dumpData();
    }

    /**
     * Turns queue-to-start latency statistics on or off (default off). While on, each queue
     * operation reads the clock once more (the start of an item already reads it), and
     * {@link WorkQueueStats} reports the count, total and maximum of the latency of the items
     * queued meanwhile; while off the queue path pays one volatile read.
     *
     * @param on true to measure items queued from now on
     */
    public void setLatencyStats(boolean on) {
        engine.setLatencyStats(on);
    }

    /** {@return whether queue-to-start latency statistics are on} */
    public boolean latencyStats() {
        return engine.latencyStats();
    }

    /**
     * This runtime's name: {@link WorkQueuesConfig.Builder#name(String) the configured one},
     * {@code global} for {@link #global()}, else a number. Its threads are named
     * {@code wq-<name>/kworker/...}; its JMX object name is
     * {@code org.workqueue4j:type=WorkQueues,name="<name>"} (with {@code -<n>} appended when
     * another live runtime's bean already has that name: {@code n} from a process-wide counter
     * that only goes up, the next one whose name is free, so a suffix freed by a closed runtime
     * is not used again).
     *
     * @return the name
     */
    public String name() {
        return engine.name();
    }

    /** {@return the live queues of this runtime, system queues included once used (they are made on first use)} */
    public List<WorkQueue> queues() {
        return engine.queues().stream().map(wq -> (WorkQueue) wq.api()).toList();
    }

    /**
     * Destroys every queue still alive (draining it), stops the timer, the monitor and every
     * worker and rescuer, and joins their threads, all within the configured
     * {@link WorkQueuesConfig.Builder#closeTimeout close timeout}.
     *
     * <p>Whichever thread calls it, it returns only once the runtime is closed: a second,
     * concurrent call waits for the first (as {@code ExecutorService.close()}), for at most
     * twice the close timeout (the first ends within its timeout and the report it then makes,
     * unless user code it calls, the uncaught-work handler or report listener, blocks; then the
     * second returns at that bound, logged, so that two runtimes whose handlers close each other
     * cannot hang); a call after that returns at once.
     *
     * <p>At the timeout it stops waiting: queues not yet destroyed refuse every new item,
     * every worker still running an item is interrupted, and one report (log at ERROR and the
     * report listener) names each of them with its queue, item and stack, and every runtime
     * thread still alive; then it returns normally, so that a shutdown hook cannot hang. Items
     * still queued run on the remaining (daemon) threads after their current items end. An
     * accepted item left in (or reaching, later) a pool with no worker left, which nothing
     * would ever run (its first worker still being made, the worker cap holding it back,
     * chained work from an item still running elsewhere), is released and reported as never
     * run: the uncaught-work handler gets an {@link IllegalStateException} naming it, its
     * queue and this runtime (an executor view's task fails with it), and its flushes return.
     * Interrupting the closing thread cuts the wait short the same way; the interrupt status
     * is set again on return.
     *
     * @throws IllegalStateException if called on one of this runtime's own threads (a work
     *                               item, the uncaught-work handler or report listener running
     *                               there, a {@code flushAsync()} future's dependent action run
     *                               on the runtime's {@code flushAsync/<queue>} thread), or on the thread running this runtime's close()
     *                               or a destroy() of one of its queues (from the handler or
     *                               listener called there): it would wait for itself. Nothing
     *                               has changed then.
     */
    @Override
    public void close() {
        engine.refuseFromOwnThread("close()");
        engine.refuseCloseWhileDestroying();
        // Deep, before anything changes: an overflow near the end of the caller's stack strikes
        // here, with nothing claimed, and a later close() does the whole work.
        org.workqueue4j.internal.WorkerPool.probeStackDeep();
        boolean claimed;
        synchronized (lock) {
            claimed = !closeClaimed;
            closeClaimed = true;
            if (claimed) {
                closingThread = Thread.currentThread();
            } else if (closingThread == Thread.currentThread() && !closeDone) {
                // A handler or listener that this close() runs on its own thread (an armed item
                // reported at the destroy, the timeout report) calls close() again.
                throw new IllegalStateException("close() of workqueue runtime '" + name() + "' called again on the"
                        + " thread running its close() (from the uncaught-work handler or report listener it"
                        + " called): it would wait for itself");
            }
        }
        if (!claimed) {
            awaitClosed();
            return;
        }
        closing = true;
        synchronized (GLOBAL_LOCK) {
            if (global == this) {
                global = null;
            }
        }
        if (jmxName != null) {
            RuntimeMXBean.unregister(jmxName);
        }
        try {
            engine.close(java.time.Duration.ofNanos(config.closeTimeoutNanos));
        } finally {
            synchronized (lock) {
                closeDone = true;
                lock.notifyAll();
            }
        }
    }

    /**
     * Waits for the close() in progress on another thread, for at most twice the close timeout
     * from this call (that close() itself, begun earlier, ends within its timeout and the report
     * it then makes, unless user code it calls blocks: the uncaught-work handler, the report
     * listener, which may be waiting, through another runtime's close(), for this very thread);
     * keeps an interrupt for the return.
     */
    private void awaitClosed() {
        boolean interrupted = false;
        long bound = config.closeTimeoutNanos > Long.MAX_VALUE / 4 ? Long.MAX_VALUE / 4 : 2 * config.closeTimeoutNanos;
        long deadline = System.nanoTime() + bound; // a "forever" timeout (~100 years) saturates to ~73 years
        Thread other;
        synchronized (lock) {
            while (!closeDone) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            other = closeDone ? null : closingThread;
        }
        if (other != null) {
            org.workqueue4j.internal.Log.log(System.Logger.Level.ERROR, "workqueue: close() of runtime '" + name()
                    + "' returns after waiting its close timeout for the close() in progress on thread '"
                    + other.getName() + "', which has not ended", null);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@return true once {@link #close()} was called} */
    public boolean isClosed() {
        return closing;
    }
}
