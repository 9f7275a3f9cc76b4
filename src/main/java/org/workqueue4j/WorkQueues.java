package org.workqueue4j;

import org.jspecify.annotations.Nullable;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

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
    private static final System.Logger LOG = System.getLogger("org.workqueue4j");
    private static final AtomicReference<WorkQueues> GLOBAL = new AtomicReference<>();
    private static final java.util.concurrent.atomic.AtomicInteger RUNTIMES = new java.util.concurrent.atomic.AtomicInteger();

    static final UncaughtWorkHandler LOGGING_HANDLER = (q, w, e) -> LOG.log(Level.ERROR,
            "workqueue: work '" + (w == null ? "?" : w.name()) + "' on queue '" + (q == null ? "?" : q.name())
                    + "' threw " + e, e);

    private final WorkQueuesConfig config;
    private final WqRuntime engine;
    private final WorkQueue system;
    private final WorkQueue systemHighPri;
    private final WorkQueue systemLong;
    private final WorkQueue systemUnbound;
    private final WorkQueue systemFreezable;
    private volatile boolean closing;
    /** Claimed by the one close() that does the work; the others wait for {@link #closedLatch}. */
    private final java.util.concurrent.atomic.AtomicBoolean closeClaimed = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.CountDownLatch closedLatch = new java.util.concurrent.CountDownLatch(1);
    private static final java.util.concurrent.atomic.AtomicInteger SEQ = new java.util.concurrent.atomic.AtomicInteger();
    /** This runtime's name in JMX: its name, made unique in the process when needed. */
    private final @Nullable String jmxName;

    private WorkQueues(WorkQueuesConfig config, String defaultName) {
        this.config = config;
        UncaughtWorkHandler h = config.uncaughtWorkHandler;
        this.engine = new WqRuntime(config.name != null ? config.name : defaultName, config.cpus, config.threadFactory,
                config.idleTimeout,
                (wq, n, e) -> h.uncaught((WorkQueue) wq.api(), ItemNode.workOf(n), e),
                config.cpuIntensiveThreshold, config.watchdogThreshold, config.reportListener,
                config.validator, config.flushAnnotation, config.maxWorkers);
        try {
            system = WorkQueue.createSystem(WorkQueue.builder("events").runtime(this), this);
            systemHighPri = WorkQueue.createSystem(WorkQueue.builder("events_highpri").highPriority().runtime(this), this);
            systemLong = WorkQueue.createSystem(WorkQueue.builder("events_long").runtime(this), this);
            systemUnbound = WorkQueue.createSystem(WorkQueue.builder("events_unbound").unbound()
                    .maxActive(WorkQueue.MAX_ACTIVE).runtime(this), this);
            systemFreezable = WorkQueue.createSystem(WorkQueue.builder("events_freezable").freezable().runtime(this), this);
            jmxName = config.jmx ? registerMxBean(engine.name()) : null;
        } catch (Throwable e) {
            engine.abandon(); // a failed create leaves no thread behind
            throw e;
        }
    }

    /**
     * Registers this runtime's MXBean under its name (made unique in the process when another
     * live runtime has it). {@code java.management} is optional ({@code requires static}): on a
     * runtime image without it the runtime works unregistered.
     *
     * @return the JMX name, or null when JMX is absent
     */
    private @Nullable String registerMxBean(String name) {
        try {
            String n = RuntimeMXBean.isRegistered(name) ? name + "-" + RUNTIMES.incrementAndGet() : name;
            RuntimeMXBean.register(this, n);
            return n;
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
        WorkQueues g = GLOBAL.get();
        if (g != null) {
            return g;
        }
        WorkQueues created = new WorkQueues(WorkQueuesConfig.defaults(), "global");
        WorkQueues winner = GLOBAL.compareAndExchange(null, created); // the one set first, or null if ours
        if (winner != null) {
            created.close();
            return winner;
        }
        return created;
    }

    /**
     * An isolated runtime; close it when done. If it cannot be built (the thread factory
     * throws for the timer or monitor thread) the exception propagates and no thread of it is
     * left running.
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
     * @return a new runtime with its own pools, timer and system queues
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
        return config.validator;
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

    /** {@return the "events" queue: per-CPU, the default queue for short items (kernel system_percpu_wq)} */
    public WorkQueue system() {
        return system;
    }

    /** {@return the "events_highpri" queue (kernel system_highpri_wq)} */
    public WorkQueue systemHighPri() {
        return systemHighPri;
    }

    /** {@return the "events_long" queue, for items that may run long (kernel system_long_wq)} */
    public WorkQueue systemLong() {
        return systemLong;
    }

    /** {@return the "events_unbound" queue, max_active 2048 (kernel system_dfl_wq)} */
    public WorkQueue systemUnbound() {
        return systemUnbound;
    }

    /** {@return the "events_freezable" queue (kernel system_freezable_wq)} */
    public WorkQueue systemFreezable() {
        return systemFreezable;
    }

    /**
     * Queues {@code work} on {@link #system()} (kernel schedule_work).
     *
     * @param work the item to queue; not null
     * @return false if the item was already pending (or is disabled), true if it was queued
     */
    public boolean schedule(Work work) {
        return system.queue(work);
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
     * accepting items but hold them; returns once their running items have finished.
     *
     * @throws IllegalStateException if called from an item of a freezable queue of this
     *                               runtime (it would wait for itself); nothing is frozen then
     * Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return.
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
     * another live runtime already has that name).
     *
     * @return the name
     */
    public String name() {
        return engine.name();
    }

    /** {@return the live queues of this runtime, system queues included} */
    public List<WorkQueue> queues() {
        return engine.queues().stream().map(wq -> (WorkQueue) wq.api()).toList();
    }

    /**
     * Destroys every queue still alive (draining it), stops the timer, the monitor and every
     * worker and rescuer, and joins their threads, all within the configured
     * {@link WorkQueuesConfig.Builder#closeTimeout close timeout}.
     *
     * <p>Whichever thread calls it, it returns only once the runtime is closed: a second,
     * concurrent call waits for the first (as {@code ExecutorService.close()}); a call after
     * that returns at once.
     *
     * <p>At the timeout it stops waiting: queues not yet destroyed refuse every new item,
     * every worker still running an item is interrupted, and one report (log at ERROR and the
     * report listener) names each of them with its queue, item and stack, and every runtime
     * thread still alive; then it returns normally, so that a shutdown hook cannot hang. Items
     * still queued run on the remaining (daemon) threads after their current items end.
     * Interrupting the closing thread cuts the wait short the same way; the interrupt status
     * is set again on return.
     *
     * @throws IllegalStateException if called on one of this runtime's own threads (a work
     *                               item, the uncaught-work handler or report listener running
     *                               there): it would wait for itself. Nothing has changed then.
     */
    @Override
    public void close() {
        engine.refuseFromOwnThread("close()");
        if (!closeClaimed.compareAndSet(false, true)) {
            awaitClosed();
            return;
        }
        closing = true;
        GLOBAL.compareAndSet(this, null);
        if (jmxName != null) {
            RuntimeMXBean.unregister(jmxName);
        }
        try {
            engine.close(config.closeTimeout);
        } finally {
            closedLatch.countDown();
        }
    }

    /** Waits for the close() in progress on another thread; keeps an interrupt for the return. */
    private void awaitClosed() {
        boolean interrupted = false;
        while (true) {
            try {
                closedLatch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
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
