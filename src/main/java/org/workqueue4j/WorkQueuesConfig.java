package org.workqueue4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.Lockdep;
import org.jspecify.annotations.Nullable;

/**
 * Settings of a {@link WorkQueues} runtime. Build with {@link #builder()}; every setting has the
 * kernel's default.
 *
 * <p>Immutable; safe to share between threads.
 */
// JSpecify is optional at run time (requires static): its @Nullable in this API is not re-exported on purpose.
@SuppressWarnings("exports")
public final class WorkQueuesConfig {
    /*
     * Start-up path: defaults() builds no Builder, and the durations are kept as nanoseconds
     * (the Builder converts what the user gives it), so that WorkQueues.create() loads neither
     * the Builder class nor initializes java.time.Duration (and BigInteger behind it), and the
     * FlushAnnotation enum is loaded only when a validator asks the engine for it (null here
     * means the default). Each default is named once, below, for the Builder and defaults().
     */
    final int cpus;
    /** The user's factory, or null for the default (see {@link Builder#threadFactory}). */
    final @Nullable ThreadFactory threadFactory;
    /** The default factory's thread group: the one Executors.defaultThreadFactory() would have taken. */
    final ThreadGroup threadGroup;
    final long idleTimeoutNanos;
    /** The user's handler, or null: log at ERROR (the default). */
    final @Nullable UncaughtWorkHandler uncaughtWorkHandler;
    final long closeTimeoutNanos;
    final long cpuIntensiveNanos;
    /** Zero: the watchdog is off. */
    final long watchdogNanos;
    final @Nullable Consumer<String> reportListener;
    /**
     * The user's validator, or lockdep by {@code -Dworkqueue4j.lockdep=true}; null: disabled
     * (validator() answers {@link LockDependencyValidator#disabled()}), so that a runtime
     * without validation loads neither the validator interface nor its disabled instance.
     */
    final @Nullable LockDependencyValidator validator;
    /** The user's policy, or null for the default, {@link FlushAnnotation#DEFER_UNTIL_USED}. */
    final @Nullable FlushAnnotation flushAnnotation;
    final @Nullable String name;
    final int maxWorkers;
    final boolean jmx;

    /** Durations at or above this mean "forever" (about 100 years; keeps deadline arithmetic exact). */
    static final long FOREVER_NANOS = 36_500L * 24 * 3600 * 1_000_000_000L;

    // The defaults (kernel values: IDLE_WORKER_TIMEOUT, wq_cpu_intensive_thresh_us, watchdog_thresh).
    private static final long DEFAULT_IDLE_TIMEOUT_NANOS = 300_000_000_000L;
    private static final long DEFAULT_CLOSE_TIMEOUT_NANOS = 10_000_000_000L;
    private static final long DEFAULT_CPU_INTENSIVE_NANOS = 10_000_000L;
    private static final long DEFAULT_WATCHDOG_NANOS = 30_000_000_000L;

    private static int defaultCpus() {
        return Runtime.getRuntime().availableProcessors();
    }

    private static boolean defaultJmx() {
        return Boolean.getBoolean("workqueue4j.jmx");
    }

    /** The defaults, without a Builder: each setting as a new Builder holds it. */
    private WorkQueuesConfig() {
        this.name = null;
        this.cpus = defaultCpus();
        this.maxWorkers = defaultMaxWorkers(cpus);
        this.jmx = defaultJmx();
        this.validator = defaultValidator();
        this.flushAnnotation = defaultFlushAnnotation();
        this.cpuIntensiveNanos = DEFAULT_CPU_INTENSIVE_NANOS;
        this.watchdogNanos = DEFAULT_WATCHDOG_NANOS;
        this.reportListener = null;
        this.threadFactory = null;
        this.threadGroup = defaultThreadGroup();
        this.idleTimeoutNanos = DEFAULT_IDLE_TIMEOUT_NANOS;
        this.uncaughtWorkHandler = null;
        this.closeTimeoutNanos = DEFAULT_CLOSE_TIMEOUT_NANOS;
    }

    private WorkQueuesConfig(Builder b) {
        this.name = b.name;
        this.maxWorkers = b.maxWorkers > 0 ? b.maxWorkers : defaultMaxWorkers(b.cpus);
        this.jmx = b.jmx;
        this.validator = b.validator != null ? b.validator : defaultValidator();
        this.flushAnnotation = b.flushAnnotation != null ? b.flushAnnotation : defaultFlushAnnotation();
        this.cpuIntensiveNanos = b.cpuIntensiveNanos;
        this.watchdogNanos = b.watchdogNanos;
        this.reportListener = b.reportListener;
        this.cpus = b.cpus;
        this.threadFactory = b.threadFactory;
        this.threadGroup = b.threadGroup;
        this.idleTimeoutNanos = b.idleTimeoutNanos;
        this.uncaughtWorkHandler = b.uncaughtWorkHandler;
        this.closeTimeoutNanos = b.closeTimeoutNanos;
    }

    /*
     * defaultValidator() and defaultFlushAnnotation() are where a config that names no validator
     * or flush policy gets one, whether built by defaults() or by a Builder. The lockdep agent
     * (workqueue4j-agent) replaces both bodies as this class loads, to hand every such runtime
     * its own validator and policy: keep their names, descriptors and static-ness.
     */

    /** Lockdep when {@code -Dworkqueue4j.lockdep=true}, else null: disabled (see the field). */
    private static @Nullable LockDependencyValidator defaultValidator() {
        if (!Boolean.getBoolean("workqueue4j.lockdep")) {
            return null;
        }
        // Through Object and a cast: returning a Lockdep as the interface would make the verifier
        // load the interface (to learn that it is one) whenever this class is loaded.
        Object lockdep = Lockdep.builder().build();
        return (LockDependencyValidator) lockdep;
    }

    /** Null: the default policy, {@link FlushAnnotation#DEFER_UNTIL_USED} (see the field). */
    private static @Nullable FlushAnnotation defaultFlushAnnotation() {
        return null;
    }

    /** {@return the validator the runtime's queues and items report to} */
    public LockDependencyValidator validator() {
        return validator != null ? validator : LockDependencyValidator.disabled();
    }

    /** {@return a builder with the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the defaults: one CPU per available processor, and the kernel's timeouts} */
    public static WorkQueuesConfig defaults() {
        return new WorkQueuesConfig();
    }

    /**
     * The number of logical CPUs.
     *
     * @return the CPU count the runtime is built with
     */
    public int cpus() {
        return cpus;
    }

    /**
     * The cap on pool worker threads.
     *
     * @return the configured cap, or the default {@code max(64, 16 * cpus)}
     */
    public int maxWorkers() {
        return maxWorkers;
    }

    /**
     * The runtime's name, the {@code <name>} in its thread names {@code wq-<name>/kworker/0:1}.
     *
     * @return the name, or null when the runtime numbers itself
     */
    public @Nullable String name() {
        return name;
    }

    /** The thread group Executors.defaultThreadFactory() takes: the security manager's, else the caller's. */
    @SuppressWarnings("removal") // SecurityManager: as the JDK's default factory does on Java 17
    private static ThreadGroup defaultThreadGroup() {
        SecurityManager s = System.getSecurityManager();
        return s != null ? s.getThreadGroup() : Thread.currentThread().getThreadGroup();
    }

    /** The default worker cap: 16 per CPU, at least 64. */
    static int defaultMaxWorkers(int cpus) {
        return Math.max(64, 16 * cpus);
    }

    /**
     * Checks a duration setting: null is refused, negative (or zero when not allowed) is
     * refused with an {@link IllegalArgumentException} naming the setting and its range; at or
     * above {@link #FOREVER_NANOS} it means forever and is saturated to it.
     *
     * @return the setting in nanoseconds
     */
    static long checkDuration(String setting, Duration d, boolean zeroAllowed) {
        Objects.requireNonNull(d, setting);
        if (d.isNegative() || (!zeroAllowed && d.isZero())) {
            throw new IllegalArgumentException(setting + " must be in " + (zeroAllowed ? "[0" : "(0")
                    + ", forever) (values of 100 years or more mean forever), got " + d);
        }
        return d.compareTo(Duration.ofNanos(FOREVER_NANOS)) >= 0 ? FOREVER_NANOS : d.toNanos();
    }

    /**
     * Builder of {@link WorkQueuesConfig}.
     *
     * <p>Not thread-safe: a builder is meant for one thread; the object it builds is thread-safe.
     */
    public static final class Builder {
        private int cpus = defaultCpus();
        /*
         * Null: the default, threads made as Executors.defaultThreadFactory() makes them (its
         * thread group taken here, when the builder is made, as that factory takes it when it
         * is made), without loading Executors and its factory class at start-up.
         */
        private @Nullable ThreadFactory threadFactory;
        private final ThreadGroup threadGroup = defaultThreadGroup();
        private long idleTimeoutNanos = DEFAULT_IDLE_TIMEOUT_NANOS;
        /** Null: the default, log at ERROR (the engine does it: no handler object at start-up). */
        private @Nullable UncaughtWorkHandler uncaughtWorkHandler;
        private long closeTimeoutNanos = DEFAULT_CLOSE_TIMEOUT_NANOS;
        private long cpuIntensiveNanos = DEFAULT_CPU_INTENSIVE_NANOS;
        private long watchdogNanos = DEFAULT_WATCHDOG_NANOS;
        private @Nullable Consumer<String> reportListener;
        private @Nullable LockDependencyValidator validator;
        /** Null: the default, DEFER_UNTIL_USED. */
        private @Nullable FlushAnnotation flushAnnotation;
        private @Nullable String name;
        private int maxWorkers;
        private boolean jmx = defaultJmx();

        private Builder() {
        }

        /**
         * The lock dependency validator that workers, flushes, drains, destroys and cancels
         * report to (default: a {@link Lockdep} when the system property
         * {@code workqueue4j.lockdep} is {@code true}, else {@link LockDependencyValidator#disabled()}).
         *
         * @param v the validator; not null
         * @return this builder
         */
        public Builder validator(LockDependencyValidator v) {
            this.validator = Objects.requireNonNull(v, "validator");
            return this;
        }

        /**
         * How flush, drain and destroy of a queue that never had an item are annotated
         * (default {@link FlushAnnotation#DEFER_UNTIL_USED}).
         *
         * @param policy the policy; not null
         * @return this builder
         */
        public Builder flushAnnotation(FlushAnnotation policy) {
            this.flushAnnotation = Objects.requireNonNull(policy, "flushAnnotation");
            return this;
        }

        /**
         * An item of a per-CPU queue that runs longer than this stops counting toward
         * concurrency management, whether it computes (kernel CPU-intensive detection) or blocks
         * where the library cannot see it (a latch, a socket, {@code Thread.sleep}); the pool
         * then starts the next item on another worker. The bound on such a stall is this
         * threshold plus two monitor ticks (a quarter of the threshold each): 15 ms by default.
         * (The monitor times an item from the first tick that sees it running, so that starting
         * an item reads no clock.)
         *
         * @param d the threshold; positive
         * @return this builder
         */
        public Builder cpuIntensiveThreshold(Duration d) {
            this.cpuIntensiveNanos = checkDuration("cpuIntensiveThreshold", d, false);
            return this;
        }

        /**
         * A pool with pending work and no progress for this long is reported as a
         * "workqueue lockup" with a state dump and the busy workers' stacks (kernel
         * workqueue.watchdog_thresh, default 30 s). Zero turns the watchdog off.
         *
         * @param d the threshold; zero turns the watchdog off
         * @return this builder
         */
        public Builder watchdogThreshold(Duration d) {
            this.watchdogNanos = checkDuration("watchdogThreshold", d, true);
            return this;
        }

        /**
         * Also receives every runtime report (lockups, hung waits, worker-creation failures,
         * the worker cap holding work back) besides the log. Called on the thread that makes the
         * report, most often the runtime's monitor thread, which meanwhile neither watches for
         * lockups and hung waits nor calls the rescuers of {@code memReclaim()} queues: keep it
         * short, and never wait in it for the runtime's own work (a flush, a drain, a lock an
         * item holds), or those checks stop until it returns.
         *
         * @param listener the listener; not null
         * @return this builder
         */
        public Builder reportListener(Consumer<String> listener) {
            this.reportListener = Objects.requireNonNull(listener, "reportListener");
            return this;
        }

        /**
         * Number of logical CPUs, each with a normal and a high-priority pool (default: processors).
         *
         * @param n the number of CPUs; at least 1
         * @return this builder
         */
        public Builder cpus(int n) {
            if (n < 1 || n > 4096) {
                throw new IllegalArgumentException("cpus must be in [1, 4096], got " + n);
            }
            this.cpus = n;
            return this;
        }

        /**
         * Makes every thread of the runtime: workers, rescuers, the timer and the monitor
         * (default: threads as {@link java.util.concurrent.Executors#defaultThreadFactory()} makes
         * them, in the thread group of the thread that made this builder). The runtime then renames each
         * thread {@code wq-<runtime name>/<kernel name>} ({@code wq-global/kworker/0:1},
         * {@code wq-3/kworker/u4:0}, {@code wq-3/kworker/R-<queue>}) and makes it a daemon,
         * overriding the name and daemon flag the factory chose: the runtime's threads never
         * keep the JVM alive, {@link WorkQueues#close()} ends them. Workers of high-priority
         * pools get {@link Thread#MAX_PRIORITY}. Everything else the factory sets (thread
         * group, context class loader, uncaught-exception handler, other priorities) is kept.
         * The factory is called outside every engine lock, so it may queue work itself. A
         * factory that throws (including {@code OutOfMemoryError: unable to create native
         * thread}) is survived for workers: the failure is reported and retried later; for the
         * runtime's own threads it fails {@link WorkQueues#create(WorkQueuesConfig)}, which then
         * leaves no thread behind. One short-lived thread is not the factory's: the plain daemon
         * thread ({@code flushAsync/<queue>}) that completes other callers' {@code flushAsync()}
         * futures for a bounded flush, so that no factory can leave them incomplete.
         *
         * <p>Virtual threads (JDK 21+, {@code Thread.ofVirtual().factory()}): workers may be
         * virtual; the runtime's service threads (timer, monitor, manager, rescuers) never are:
         * for those the factory is still called, and a virtual thread it returns is dropped
         * unstarted for a platform daemon thread of the default kind. Virtual threads are not
         * time-sliced: an item that keeps its carrier busy holds it until it blocks or ends, so
         * with as many CPU-bound items as carriers no other virtual worker runs meanwhile, and
         * the bound on a CPU-intensive item's wait (the threshold plus two monitor ticks) does
         * not hold. Give CPU-bound work platform workers (another runtime).
         *
         * @param f the factory
         * @return this builder
         * @throws NullPointerException if {@code f} is null
         */
        public Builder threadFactory(ThreadFactory f) {
            this.threadFactory = Objects.requireNonNull(f, "threadFactory");
            return this;
        }

        /**
         * How long a surplus idle worker lives (kernel IDLE_WORKER_TIMEOUT, 300 s).
         *
         * @param d the timeout; positive
         * @return this builder
         */
        public Builder idleTimeout(Duration d) {
            this.idleTimeoutNanos = checkDuration("idleTimeout", d, false);
            return this;
        }

        /**
         * Receives exceptions thrown by work functions (default: log them).
         *
         * @param h the handler; not null
         * @return this builder
         */
        public Builder uncaughtWorkHandler(UncaughtWorkHandler h) {
            this.uncaughtWorkHandler = Objects.requireNonNull(h, "uncaughtWorkHandler");
            return this;
        }

        /**
         * Bounds {@link WorkQueues#close()} (default 10 s): how long it waits for the queues to
         * drain and the runtime's threads to end. At the timeout {@code close()} interrupts the
         * workers still running items, reports each of them (queue, item, worker, stack) to the
         * log and the report listener, and returns; see {@link WorkQueues#close()}.
         *
         * @param d the bound; zero means "do not wait"; 100 years or more mean forever
         * @return this builder
         * @throws IllegalArgumentException if {@code d} is negative (the message names the
         *                                  setting and its range)
         * @throws NullPointerException     if {@code d} is null
         */
        public Builder closeTimeout(Duration d) {
            this.closeTimeoutNanos = checkDuration("closeTimeout", d, true);
            return this;
        }

        /**
         * Names the runtime: its threads are named {@code wq-<name>/kworker/0:1},
         * {@code wq-<name>/kworker/timer} and so on, so that two runtimes are told apart in a
         * thread dump (default: {@code global} for {@link WorkQueues#global()}, else a number
         * unique in the JVM).
         *
         * @param name the runtime's name
         * @return this builder
         * @throws NullPointerException     if {@code name} is null
         * @throws IllegalArgumentException if {@code name} is empty
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("name must not be empty");
            }
            this.name = name;
            return this;
        }

        /**
         * Caps the runtime's pool worker threads, over all its pools (default
         * {@code max(64, 16 * cpus)}). A pool that needs a worker while the cap is reached waits
         * for one to become free: its idle peers in other pools are retired at once, and the
         * rescuers of its {@code memReclaim()} queues (not counted in the cap, nor are the timer
         * and monitor threads) keep those queues going. Each episode in which the cap holds work
         * back is reported once (log and report listener).
         *
         * @param n the cap, at least 2
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is below 2 or above 32768
         */
        public Builder maxWorkers(int n) {
            if (n < 2 || n > 32_768) {
                throw new IllegalArgumentException("maxWorkers must be in [2, 32768], got " + n);
            }
            this.maxWorkers = n;
            return this;
        }

        /**
         * Registers the runtime's MXBean ({@code org.workqueue4j:type=WorkQueues,name="<runtime>"})
         * on the platform MBean server at create and unregisters it at close. Off by default
         * ({@code -Dworkqueue4j.jmx=true} turns it on for the defaults): the platform MBean
         * server costs a cold start about as much as everything else the runtime does, and
         * {@code java.management} is optional (without it the runtime stays unregistered).
         *
         * @param on whether to register
         * @return this builder
         */
        public Builder jmx(boolean on) {
            this.jmx = on;
            return this;
        }

        /** {@return the configuration with the options set so far} */
        public WorkQueuesConfig build() {
            return new WorkQueuesConfig(this);
        }
    }
}
