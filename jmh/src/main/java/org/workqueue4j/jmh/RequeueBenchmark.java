package org.workqueue4j.jmh;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;

/**
 * Re-queue paths, in ns per call (Mode.AverageTime).
 *
 * <ul>
 *   <li>{@code queueAlreadyPending}: {@code queue(work)} on an item that is already pending
 *       (it waits behind a blocked item on an ordered queue), so every call is the dedup path
 *       and returns false. Baseline {@code jucCasGuardAlreadySet}: the j.u.c idiom for the same
 *       "run once however often asked" — an {@code AtomicBoolean} that is already set, whose
 *       {@code compareAndSet(false, true)} fails. This path pays for the failed claim's
 *       ordering (a same-value CAS of the state word, so that a {@code false} return still
 *       happens-before the pending run; see {@code Pending.claim}).</li>
 *   <li>{@code queueAlreadyPendingContended}: the same from two threads at once on the same
 *       item (many producers collapsing onto one pending run): the ordering CAS takes the
 *       state word's cache line exclusive, where a plain volatile read left it shared.</li>
 *   <li>{@code modDelayedRearm}: {@code modDelayed(dw, 1 h)} on an armed delayed item: take it
 *       off the timer heap and arm it again (returns true every time). Baseline
 *       {@code stpeCancelSchedule}: {@code future.cancel(false)} then
 *       {@code schedule(task, 1 h)} on a {@code ScheduledThreadPoolExecutor(1)} with
 *       {@code setRemoveOnCancelPolicy(true)} (without it cancelled tasks pile up in the queue
 *       for an hour and the benchmark measures a growing heap).</li>
 * </ul>
 * The timers never fire during the run (one hour); nothing here runs an item.
 *
 * <p>Run:
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar RequeueBenchmark \
 *      -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 * To price the ordered failed claim alone, run
 * {@code 'RequeueBenchmark.(queueAlreadyPending|queueAlreadyPendingContended|jucCasGuardAlreadySet)'}
 * against the library before and after that change (install each, rebuild {@code jmh/}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class RequeueBenchmark {
    private static final Duration HOUR = Duration.ofHours(1);

    private WorkQueues runtime;
    private WorkQueue ordered;
    private WorkQueue queue;
    private final CountDownLatch release = new CountDownLatch(1);
    private Work pending;
    private DelayedWork delayed;

    private final AtomicBoolean scheduled = new AtomicBoolean();
    private ScheduledThreadPoolExecutor stpe;
    private Runnable task;
    private ScheduledFuture<?> future;

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        runtime = Fixtures.runtime();
        ordered = Fixtures.queue(runtime, "wq-ordered");
        CountDownLatch blocking = new CountDownLatch(1);
        Work blocker = new Work("blocker", () -> {
            blocking.countDown();
            Fixtures.awaitUninterruptibly(release);
        });
        pending = new Work("pending", () -> { });
        ordered.queue(blocker);
        blocking.await();
        if (!ordered.queue(pending) || ordered.queue(pending)) {
            throw new IllegalStateException("'pending' should be queued once and then stay pending");
        }

        queue = Fixtures.queue(runtime, "wq-percpu");
        delayed = new DelayedWork("delayed", () -> { });
        queue.queueDelayed(delayed, HOUR);

        scheduled.set(true);
        stpe = new ScheduledThreadPoolExecutor(1);
        stpe.setRemoveOnCancelPolicy(true);
        task = () -> { };
        future = stpe.schedule(task, 1, TimeUnit.HOURS);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        if (!pending.isPending() || !delayed.isTimerArmed()) {
            throw new IllegalStateException("benchmark left its steady state: pending=" + pending.isPending()
                    + " armed=" + delayed.isTimerArmed());
        }
        release.countDown();
        delayed.cancelSync();
        ordered.destroy();
        queue.destroy();
        runtime.close();
        stpe.shutdownNow();
        stpe.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Benchmark
    public boolean queueAlreadyPending() {
        return ordered.queue(pending);
    }

    @Benchmark
    @Threads(2)
    public boolean queueAlreadyPendingContended() {
        return ordered.queue(pending);
    }

    @Benchmark
    public boolean jucCasGuardAlreadySet() {
        return scheduled.compareAndSet(false, true);
    }

    @Benchmark
    public boolean modDelayedRearm() {
        return queue.modDelayed(delayed, HOUR);
    }

    @Benchmark
    public ScheduledFuture<?> stpeCancelSchedule() {
        future.cancel(false);
        return future = stpe.schedule(task, 1, TimeUnit.HOURS);
    }
}
