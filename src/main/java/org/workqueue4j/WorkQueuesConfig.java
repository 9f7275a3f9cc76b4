package org.workqueue4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * Settings of a {@link WorkQueues} runtime. Build with {@link #builder()}; every setting has the
 * kernel's default.
 */
public final class WorkQueuesConfig {
    final int cpus;
    final ThreadFactory threadFactory;
    final Duration idleTimeout;
    final UncaughtWorkHandler uncaughtWorkHandler;
    final Duration closeTimeout;

    private WorkQueuesConfig(Builder b) {
        this.cpus = b.cpus;
        this.threadFactory = b.threadFactory;
        this.idleTimeout = b.idleTimeout;
        this.uncaughtWorkHandler = b.uncaughtWorkHandler;
        this.closeTimeout = b.closeTimeout;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: one CPU per available processor, and the kernel's timeouts. */
    public static WorkQueuesConfig defaults() {
        return builder().build();
    }

    public int cpus() {
        return cpus;
    }

    /** Builder of {@link WorkQueuesConfig}. */
    public static final class Builder {
        private int cpus = Runtime.getRuntime().availableProcessors();
        private ThreadFactory threadFactory = Executors.defaultThreadFactory();
        private Duration idleTimeout = Duration.ofSeconds(300);
        private UncaughtWorkHandler uncaughtWorkHandler = WorkQueues.LOGGING_HANDLER;
        private Duration closeTimeout = Duration.ofSeconds(10);

        private Builder() {
        }

        /** Number of logical CPUs, each with a normal and a high-priority pool (default: processors). */
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
         */
        public Builder threadFactory(ThreadFactory f) {
            this.threadFactory = Objects.requireNonNull(f, "threadFactory");
            return this;
        }

        /** How long a surplus idle worker lives (kernel IDLE_WORKER_TIMEOUT, 300 s). */
        public Builder idleTimeout(Duration d) {
            Objects.requireNonNull(d, "idleTimeout");
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("idleTimeout must be positive, got " + d);
            }
            this.idleTimeout = d;
            return this;
        }

        /** Receives exceptions thrown by work functions (default: log them). */
        public Builder uncaughtWorkHandler(UncaughtWorkHandler h) {
            this.uncaughtWorkHandler = Objects.requireNonNull(h, "uncaughtWorkHandler");
            return this;
        }

        /** How long {@link WorkQueues#close()} waits for worker threads to end (default 10 s). */
        public Builder closeTimeout(Duration d) {
            this.closeTimeout = Objects.requireNonNull(d, "closeTimeout");
            return this;
        }

        public WorkQueuesConfig build() {
            return new WorkQueuesConfig(this);
        }
    }
}
