package org.workqueue4j;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@link ScheduledExecutorService} over a {@link WorkQueue}: each scheduled task is one
 * {@link DelayedWork} armed on the runtime's timer; a periodic task re-arms the same item after
 * each run. Policies as {@link java.util.concurrent.ScheduledThreadPoolExecutor}'s defaults: see
 * {@link WorkQueue#asScheduledExecutorService()}. Thread-safe.
 */
final class WorkQueueScheduledExecutorService extends WorkQueueExecutorService implements ScheduledExecutorService {
    /**
     * Delays are capped so that {@code System.nanoTime() + delay} cannot overflow the timer's
     * arithmetic (about 146 years; ScheduledThreadPoolExecutor caps the same way).
     */
    private static final long MAX_DELAY = Long.MAX_VALUE >> 1;

    WorkQueueScheduledExecutorService(WorkQueue queue, boolean ownsQueue) {
        super(queue, ownsQueue);
    }

    /**
     * A new view, typed as the interface. WorkQueue returns it through this method, not the
     * constructor: returning this class where the interface is declared makes the verifier
     * load {@code ScheduledExecutorService} (not in the JDK's CDS archive) when WorkQueue is
     * verified, on every first queue's path.
     */
    static ScheduledExecutorService of(WorkQueue queue, boolean ownsQueue) {
        return new WorkQueueScheduledExecutorService(queue, ownsQueue);
    }

    private static long delayNanos(long delay, TimeUnit unit) {
        long nanos = unit.toNanos(delay);
        return nanos <= 0 ? 0 : Math.min(nanos, MAX_DELAY);
    }

    private static long periodNanos(String what, long period, TimeUnit unit) {
        Objects.requireNonNull(unit, "unit");
        if (period <= 0) {
            throw new IllegalArgumentException(what + " " + period + " " + unit + " is not positive");
        }
        return Math.max(1, Math.min(unit.toNanos(period), MAX_DELAY));
    }

    private <V> ScheduledFuture<V> arm(ViewFuture<V> f, long delayNanos) {
        enqueue(f.work, delayNanos);
        return f;
    }

    /**
     * Runs {@code command} once after {@code delay} (zero or negative: now).
     *
     * @throws NullPointerException if {@code command} or {@code unit} is null
     * @throws java.util.concurrent.RejectedExecutionException if shut down or the queue is destroyed
     */
    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(unit, "unit");
        long d = delayNanos(delay, unit);
        return arm(new ViewFuture<Void>(command, null, d, 0), d);
    }

    /**
     * Runs {@code callable} once after {@code delay} (zero or negative: now).
     *
     * @throws NullPointerException if {@code callable} or {@code unit} is null
     * @throws java.util.concurrent.RejectedExecutionException if shut down or the queue is destroyed
     */
    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        Objects.requireNonNull(callable, "callable");
        Objects.requireNonNull(unit, "unit");
        long d = delayNanos(delay, unit);
        return arm(new ViewFuture<>(callable, callable, d, 0), d);
    }

    /**
     * Runs {@code command} after {@code initialDelay}, then every {@code period} from the first
     * run's scheduled time (a late run is followed at once by the next one due; runs never
     * overlap).
     *
     * @throws NullPointerException     if {@code command} or {@code unit} is null
     * @throws IllegalArgumentException if {@code period} is not positive
     * @throws java.util.concurrent.RejectedExecutionException if shut down or the queue is destroyed
     */
    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        Objects.requireNonNull(command, "command"); // before the period, as ScheduledThreadPoolExecutor
        return periodic(command, initialDelay, unit, periodNanos("period", period, unit));
    }

    /**
     * Runs {@code command} after {@code initialDelay}, then {@code delay} after the end of each
     * run.
     *
     * @throws NullPointerException     if {@code command} or {@code unit} is null
     * @throws IllegalArgumentException if {@code delay} is not positive
     * @throws java.util.concurrent.RejectedExecutionException if shut down or the queue is destroyed
     */
    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        Objects.requireNonNull(command, "command"); // before the delay, as ScheduledThreadPoolExecutor
        return periodic(command, initialDelay, unit, -periodNanos("delay", delay, unit));
    }

    /** A periodic task: {@code period} positive for a fixed rate, negative for a fixed delay (in nanoseconds). */
    private ScheduledFuture<?> periodic(Runnable command, long initialDelay, TimeUnit unit, long period) {
        Objects.requireNonNull(command, "command");
        long d = delayNanos(initialDelay, unit);
        return arm(new ViewFuture<Void>(command, null, d, period), d);
    }
}
