package org.workqueue4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
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
public final class WorkQueuesConfig {
    final int cpus;
    final ThreadFactory threadFactory;
    final Duration idleTimeout;
    final UncaughtWorkHandler uncaughtWorkHandler;
    final Duration closeTimeout;
    final Duration cpuIntensiveThreshold;
    final Duration watchdogThreshold;
    final @Nullable Consumer<String> reportListener;
    final LockDependencyValidator validator;
    final FlushAnnotation flushAnnotation;

    private WorkQueuesConfig(Builder b) {
        this.validator = b.validator != null ? b.validator : defaultValidator();
        this.flushAnnotation = b.flushAnnotation;
        this.cpuIntensiveThreshold = b.cpuIntensiveThreshold;
        this.watchdogThreshold = b.watchdogThreshold;
        this.reportListener = b.reportListener;
        this.cpus = b.cpus;
        this.threadFactory = b.threadFactory;
        this.idleTimeout = b.idleTimeout;
        this.uncaughtWorkHandler = b.uncaughtWorkHandler;
        this.closeTimeout = b.closeTimeout;
    }

    /** Lockdep when {@code -Dworkqueue4j.lockdep=true}, else the disabled validator. */
    private static LockDependencyValidator defaultValidator() {
        return Boolean.getBoolean("workqueue4j.lockdep") ? Lockdep.builder().build() : LockDependencyValidator.disabled();
    }

    /** {@return the validator the runtime's queues and items report to} */
    public LockDependencyValidator validator() {
        return validator;
    }

    /** {@return a builder with the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the defaults: one CPU per available processor, and the kernel's timeouts} */
    public static WorkQueuesConfig defaults() {
        return builder().build();
    }

    /** {@return the number of logical CPUs the runtime makes pools for} */
    public int cpus() {
        return cpus;
    }

    /**
     * Builder of {@link WorkQueuesConfig}.
     *
     * <p>Not thread-safe: a builder is meant for one thread; the object it builds is thread-safe.
     */
    public static final class Builder {
        private int cpus = Runtime.getRuntime().availableProcessors();
        private ThreadFactory threadFactory = Executors.defaultThreadFactory();
        private Duration idleTimeout = Duration.ofSeconds(300);
        private UncaughtWorkHandler uncaughtWorkHandler = WorkQueues.LOGGING_HANDLER;
        private Duration closeTimeout = Duration.ofSeconds(10);
        private Duration cpuIntensiveThreshold = Duration.ofMillis(10);
        private Duration watchdogThreshold = Duration.ofSeconds(30);
        private @Nullable Consumer<String> reportListener;
        private @Nullable LockDependencyValidator validator;
        private FlushAnnotation flushAnnotation = FlushAnnotation.SKIP_NEVER_USED;

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
         * Whether flush, drain and destroy of a queue that never had an item still annotate
         * (default {@link FlushAnnotation#SKIP_NEVER_USED}).
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
         * threshold plus one monitor tick (half the threshold): 15 ms by default.
         *
         * @param d the threshold; positive
         * @return this builder
         */
        public Builder cpuIntensiveThreshold(Duration d) {
            Objects.requireNonNull(d, "cpuIntensiveThreshold");
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("cpuIntensiveThreshold must be positive, got " + d);
            }
            this.cpuIntensiveThreshold = d;
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
            Objects.requireNonNull(d, "watchdogThreshold");
            if (d.isNegative()) {
                throw new IllegalArgumentException("watchdogThreshold must not be negative, got " + d);
            }
            this.watchdogThreshold = d;
            return this;
        }

        /**
         * Also receives every runtime report (lockups, worker-creation failures) besides the
         * log. Called on the reporting thread; keep it short.
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
         * Makes worker threads (default {@link Executors#defaultThreadFactory()}). The runtime
         * names each thread like the kernel ({@code kworker/0:1}) and makes it a daemon. A
         * factory that throws (including {@code OutOfMemoryError: unable to create native
         * thread}) is survived: the failure is reported and retried later.
         *
         * @param f the factory; not null
         * @return this builder
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
            Objects.requireNonNull(d, "idleTimeout");
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("idleTimeout must be positive, got " + d);
            }
            this.idleTimeout = d;
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
         * How long {@link WorkQueues#close()} waits for worker threads to end (default 10 s).
         *
         * @param d the timeout; positive
         * @return this builder
         */
        public Builder closeTimeout(Duration d) {
            this.closeTimeout = Objects.requireNonNull(d, "closeTimeout");
            return this;
        }

        /** {@return the configuration with the options set so far} */
        public WorkQueuesConfig build() {
            return new WorkQueuesConfig(this);
        }
    }
}
