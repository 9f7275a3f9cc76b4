package org.workqueue4j;

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
    /** This runtime's name in JMX ({@code runtime-N}, N counting the runtimes of this process). */
    private final String jmxName = "runtime-" + RUNTIMES.incrementAndGet();

    private WorkQueues(WorkQueuesConfig config) {
        this.config = config;
        UncaughtWorkHandler h = config.uncaughtWorkHandler;
        this.engine = new WqRuntime(config.cpus, config.threadFactory, config.idleTimeout,
                (wq, n, e) -> h.uncaught((WorkQueue) wq.api(), n instanceof Work ? (Work) n : null, e),
                config.cpuIntensiveThreshold, config.watchdogThreshold, config.reportListener,
                config.validator, config.flushAnnotation == FlushAnnotation.ALWAYS);
        if (config.validator.isEnabled()) {
            Work.captureConstructionSites();
        }
        system = WorkQueue.createSystem(WorkQueue.builder("events").runtime(this), this);
        systemHighPri = WorkQueue.createSystem(WorkQueue.builder("events_highpri").highPriority().runtime(this), this);
        systemLong = WorkQueue.createSystem(WorkQueue.builder("events_long").runtime(this), this);
        systemUnbound = WorkQueue.createSystem(WorkQueue.builder("events_unbound").unbound()
                .maxActive(WorkQueue.MAX_ACTIVE).runtime(this), this);
        systemFreezable = WorkQueue.createSystem(WorkQueue.builder("events_freezable").freezable().runtime(this), this);
        RuntimeMXBean.register(this, jmxName);
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
        WorkQueues created = new WorkQueues(WorkQueuesConfig.defaults());
        WorkQueues winner = GLOBAL.compareAndExchange(null, created); // the one set first, or null if ours
        if (winner != null) {
            created.close();
            return winner;
        }
        return created;
    }

    /**
     * An isolated runtime; close it when done.
     *
     * @param config the runtime's options; not null
     * @return a new runtime with its own pools, timer and system queues
     */
    public static WorkQueues create(WorkQueuesConfig config) {
        return new WorkQueues(Objects.requireNonNull(config, "config"));
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

    /** {@return this runtime's name, as in its JMX object name ({@code runtime-N})} */
    public String name() {
        return jmxName;
    }

    /** {@return the live queues of this runtime, system queues included} */
    public List<WorkQueue> queues() {
        return engine.queues().stream().map(wq -> (WorkQueue) wq.api()).toList();
    }

    /**
     * Destroys every queue still alive (draining it), stops the timer and every worker, and
     * waits (up to the configured close timeout) for their threads to end. Idempotent.
     * Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        GLOBAL.compareAndSet(this, null);
        RuntimeMXBean.unregister(jmxName);
        try {
            engine.close(config.closeTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@return true once {@link #close()} was called} */
    public boolean isClosed() {
        return closing;
    }
}
