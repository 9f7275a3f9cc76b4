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
 */
public final class WorkQueues implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.workqueue4j");
    private static final AtomicReference<WorkQueues> GLOBAL = new AtomicReference<>();

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

    private WorkQueues(WorkQueuesConfig config) {
        this.config = config;
        UncaughtWorkHandler h = config.uncaughtWorkHandler;
        this.engine = new WqRuntime(config.cpus, config.threadFactory, config.idleTimeout,
                (wq, n, e) -> h.uncaught((WorkQueue) wq.api(), n instanceof Work ? (Work) n : null, e),
                config.cpuIntensiveThreshold, config.watchdogThreshold, config.reportListener,
                config.validator, config.flushAnnotation);
        system = WorkQueue.createSystem(WorkQueue.builder("events").runtime(this), this);
        systemHighPri = WorkQueue.createSystem(WorkQueue.builder("events_highpri").highPriority().runtime(this), this);
        systemLong = WorkQueue.createSystem(WorkQueue.builder("events_long").runtime(this), this);
        systemUnbound = WorkQueue.createSystem(WorkQueue.builder("events_unbound").unbound()
                .maxActive(WorkQueue.MAX_ACTIVE).runtime(this), this);
        systemFreezable = WorkQueue.createSystem(WorkQueue.builder("events_freezable").freezable().runtime(this), this);
    }

    /** The process-wide runtime, created on first use with {@link WorkQueuesConfig#defaults()}. */
    public static WorkQueues global() {
        WorkQueues g = GLOBAL.get();
        if (g == null) {
            WorkQueues created = new WorkQueues(WorkQueuesConfig.defaults());
            if (GLOBAL.compareAndSet(null, created)) {
                g = created;
            } else {
                created.close();
                g = GLOBAL.get();
            }
        }
        return g;
    }

    /** An isolated runtime; close it when done. */
    public static WorkQueues create(WorkQueuesConfig config) {
        return new WorkQueues(Objects.requireNonNull(config, "config"));
    }

    /** An isolated runtime with the defaults. */
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

    /** The validator this runtime's queues report to. */
    public LockDependencyValidator validator() {
        return config.validator;
    }

    /** Number of logical CPUs (per-CPU pools come in pairs: normal and high priority). */
    public int cpus() {
        return config.cpus;
    }

    /** Starts a queue on this runtime. */
    public WorkQueue.Builder queueBuilder(String name) {
        return WorkQueue.builder(name).runtime(this);
    }

    /** "events": per-CPU, the default queue for short items (kernel system_percpu_wq). */
    public WorkQueue system() {
        return system;
    }

    /** "events_highpri" (kernel system_highpri_wq). */
    public WorkQueue systemHighPri() {
        return systemHighPri;
    }

    /** "events_long": for items that may run long (kernel system_long_wq). */
    public WorkQueue systemLong() {
        return systemLong;
    }

    /** "events_unbound", max_active 2048 (kernel system_dfl_wq). */
    public WorkQueue systemUnbound() {
        return systemUnbound;
    }

    /** "events_freezable" (kernel system_freezable_wq). */
    public WorkQueue systemFreezable() {
        return systemFreezable;
    }

    /** Queues {@code work} on {@link #system()} (kernel schedule_work). */
    public boolean schedule(Work work) {
        return system.queue(work);
    }

    /**
     * Runs {@code fn} once on every CPU's pool of {@link #system()} and waits for all of them
     * (kernel schedule_on_each_cpu).
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
     */
    public void freeze() {
        engine.freeze();
    }

    /** Releases what frozen queues held (kernel thaw_workqueues). */
    public void thaw() {
        engine.thaw();
    }

    /** True between {@link #freeze()} and {@link #thaw()}. */
    public boolean isFrozen() {
        return engine.isFrozen();
    }

    /**
     * The state of busy queues and pools in the kernel's {@code show_all_workqueues} layout:
     * per pool_workqueue the in-flight, pending and inactive items; per pool its workers.
     */
    public String dump() {
        return engine.dump();
    }

    /** Per-queue statistics of every live queue, as {@code wq_monitor.py} prints them. */
    public String monitor() {
        return WorkQueueStats.table(queues().stream().map(WorkQueue::stats).toList());
    }

    /**
     * Runs a blocking operation so that, on a worker thread, the pool knows the worker is
     * blocked and starts another worker for pending items (kernel: a sleeping worker leaves
     * nr_running). Off a worker it just blocks. Same contract as
     * {@link java.util.concurrent.ForkJoinPool#managedBlock}.
     */
    public static void managedBlock(java.util.concurrent.ForkJoinPool.ManagedBlocker blocker)
            throws InterruptedException {
        org.workqueue4j.internal.Blocking.managedBlock(blocker);
    }

    /** The live queues of this runtime, system queues included. */
    public List<WorkQueue> queues() {
        return engine.queues().stream().map(wq -> (WorkQueue) wq.api()).toList();
    }

    /**
     * Destroys every queue still alive (draining it), stops the timer and every worker, and
     * waits (up to the configured close timeout) for their threads to end. Idempotent.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        GLOBAL.compareAndSet(this, null);
        try {
            engine.close(config.closeTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** True once {@link #close()} was called. */
    public boolean isClosed() {
        return closing;
    }
}
