package org.workqueue4j;

import static java.util.concurrent.TimeUnit.DAYS;
import static java.util.concurrent.TimeUnit.HOURS;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ScheduledExecutorService contracts of the JSR-166 TCK (ScheduledExecutorTest, the
 * executor-generic part of ScheduledExecutorSubclassTest) that {@link ScheduledExecutorContractTest}
 * does not state, against {@link WorkQueue#asScheduledExecutorService()}: extreme delays and
 * periods (JDK-8051859), both kinds of periodic task failing, cancelling a periodic task while it
 * runs, getDelay and compareTo, and testShutdown_cancellation's default policies (a periodic task
 * running at shutdown finishes its run and only then is cancelled; waiting ones are cancelled at
 * once; delayed one-shot tasks still run).
 *
 * <p>Synchronisation is by latches; every wait is bounded by {@link #LONG} seconds. The only
 * timing in an assertion is "not before its delay", which cannot fail on a slow machine.
 */
class ScheduledExecutorTckTest {
    private static final long LONG = 30;
    /** More than 100 years, in days: what a capped Long.MAX_VALUE delay must still exceed. */
    private static final long CENTURY_DAYS = 36_500;

    private final TestRuntime t = new TestRuntime();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() {
        release.countDown();
        t.close();
    }

    private ScheduledExecutorService executor() {
        return t.queue("tck-sched").unbound().build().asScheduledExecutorService();
    }

    private static void await(CountDownLatch l) {
        ExecutorTckTest.await(l);
    }

    private static void assertTerminates(ScheduledExecutorService e) throws InterruptedException {
        ExecutorTckTest.assertTerminates(e);
    }

    // ------------------------------------------------------------------ extreme delays

    @Test
    void theLargestDelaysArmTheTaskFarAwayAndCancelTakesItBack() throws Exception {
        ScheduledExecutorService e = executor();
        AtomicInteger ran = new AtomicInteger();
        Runnable r = ran::incrementAndGet;
        List<ScheduledFuture<?>> fs = List.of(
                e.schedule(r, Long.MAX_VALUE, NANOSECONDS),
                e.schedule(r, Long.MAX_VALUE, DAYS),
                e.schedule(ran::incrementAndGet, Long.MAX_VALUE, MILLISECONDS),
                e.scheduleAtFixedRate(r, Long.MAX_VALUE, Long.MAX_VALUE, NANOSECONDS),
                e.scheduleWithFixedDelay(r, Long.MAX_VALUE, Long.MAX_VALUE, DAYS));
        for (ScheduledFuture<?> f : fs) {
            assertThat(f.isDone()).isFalse();
            assertThat(f.getDelay(DAYS)).as("no overflow to a negative or small delay").isGreaterThan(CENTURY_DAYS);
        }
        e.shutdown();
        assertThat(e.isTerminated()).as("the one-shot ones still wait for their time").isFalse();
        for (ScheduledFuture<?> f : fs) {
            f.cancel(false);
            assertThat(f.isCancelled()).isTrue();
        }
        assertTerminates(e);
        assertThat(ran).hasValue(0);
    }

    @Test
    void theSmallestDelaysRunNow() throws Exception {
        ScheduledExecutorService e = executor();
        assertThat(e.schedule(() -> "min", Long.MIN_VALUE, NANOSECONDS).get(LONG, SECONDS)).isEqualTo("min");
        assertThat(e.schedule(() -> "days", Long.MIN_VALUE, DAYS).get(LONG, SECONDS)).isEqualTo("days");
        CountDownLatch twice = new CountDownLatch(2);
        ScheduledFuture<?> rate = e.scheduleAtFixedRate(twice::countDown, Long.MIN_VALUE, 1, MILLISECONDS);
        await(twice);
        rate.cancel(false);
        CountDownLatch twiceMore = new CountDownLatch(2);
        ScheduledFuture<?> delay = e.scheduleWithFixedDelay(twiceMore::countDown, -1, 1, NANOSECONDS);
        await(twiceMore);
        delay.cancel(false);
        e.shutdown();
        assertTerminates(e);
    }

    /** JDK-8051859: a fixed-delay task with an overflowing delay must not keep a one-shot task from running. */
    @Test
    void aFixedDelayTaskWithAnOverflowingDelayLetsOtherTasksRun() throws Exception {
        ScheduledExecutorService e = executor();
        CountDownLatch periodicRan = new CountDownLatch(1);
        CountDownLatch immediateRan = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = e.scheduleWithFixedDelay(() -> {
            runs.incrementAndGet();
            periodicRan.countDown();
            e.submit(immediateRan::countDown);
        }, 0, Long.MAX_VALUE, SECONDS);
        await(periodicRan);
        await(immediateRan);
        Awaitility.await().atMost(Duration.ofSeconds(LONG)).until(() -> f.getDelay(DAYS) > CENTURY_DAYS);
        assertThat(runs).as("the next run is a century away").hasValue(1);
        assertThat(f.isDone()).isFalse();
    }

    @Test
    void aFixedRateTaskWithAnOverflowingPeriodRunsOnceAndWaitsACentury() throws Exception {
        ScheduledExecutorService e = executor();
        CountDownLatch ran = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = e.scheduleAtFixedRate(() -> {
            runs.incrementAndGet();
            ran.countDown();
        }, 0, Long.MAX_VALUE, NANOSECONDS);
        await(ran);
        Awaitility.await().atMost(Duration.ofSeconds(LONG)).until(() -> f.getDelay(DAYS) > CENTURY_DAYS);
        assertThat(runs).hasValue(1);
        assertThat(e.submit(() -> "next").get(LONG, SECONDS)).isEqualTo("next");
    }

    // ------------------------------------------------------------------ sequences

    /** testFixedDelaySequence: each run starts at least the delay after the previous run ended. */
    @Test
    void fixedDelayRunsStartNoSoonerThanTheDelayAfterThePreviousEnd() throws Exception {
        ScheduledExecutorService e = executor();
        long delayNanos = MILLISECONDS.toNanos(20);
        int cycles = 6;
        AtomicLong previousEnd = new AtomicLong();
        AtomicInteger tooEarly = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(cycles);
        ScheduledFuture<?> f = e.scheduleWithFixedDelay(() -> {
            long start = System.nanoTime();
            long prev = previousEnd.get();
            if (prev != 0 && start - prev < delayNanos) {
                tooEarly.incrementAndGet();
            }
            done.countDown();
            previousEnd.set(System.nanoTime());
        }, 0, delayNanos, NANOSECONDS);
        await(done);
        f.cancel(false);
        assertThat(tooEarly).hasValue(0);
    }

    /** testFixedRateSequence: n runs of a fixed-rate task take at least (n - 1) periods. */
    @Test
    void fixedRateRunsAreNeverAheadOfTheirSchedule() throws Exception {
        ScheduledExecutorService e = executor();
        long periodNanos = MILLISECONDS.toNanos(15);
        int cycles = 8;
        long[] starts = new long[cycles];
        AtomicInteger n = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(cycles);
        long begin = System.nanoTime();
        ScheduledFuture<?> f = e.scheduleAtFixedRate(() -> {
            int i = n.getAndIncrement();
            if (i < cycles) {
                starts[i] = System.nanoTime();
                done.countDown();
            }
        }, 0, periodNanos, NANOSECONDS);
        await(done);
        f.cancel(false);
        for (int i = 0; i < cycles; i++) {
            assertThat(starts[i] - begin).as("run " + i + " not before its time").isGreaterThanOrEqualTo(i * periodNanos);
        }
    }

    // ------------------------------------------------------------------ periodic failures and cancel

    @Test
    void eitherKindOfPeriodicTaskThatThrowsRunsNoMoreAndGetThrowsTheCause() throws Exception {
        ScheduledExecutorService e = executor();
        for (boolean fixedRate : new boolean[] {true, false}) {
            AtomicInteger runs = new AtomicInteger();
            IllegalStateException boom = new IllegalStateException("third run");
            Runnable r = () -> {
                if (runs.incrementAndGet() == 3) {
                    throw boom;
                }
            };
            ScheduledFuture<?> f = fixedRate ? e.scheduleAtFixedRate(r, 0, 1, MILLISECONDS)
                    : e.scheduleWithFixedDelay(r, 0, 1, MILLISECONDS);
            assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class).hasCause(boom);
            assertThat(f.isDone()).isTrue();
            assertThat(f.isCancelled()).isFalse();
            assertThat(f.cancel(true)).as("cancel of a failed task").isFalse();
            assertThat(runs).hasValue(3);
        }
        e.shutdown();
        assertTerminates(e); // nothing re-armed
        assertThat(t.errors).as("a periodic task's exception belongs to its future").isEmpty();
    }

    @Test
    void getOfAPeriodicTaskWaitsUntilItIsCancelled() throws Exception {
        ScheduledExecutorService e = executor();
        CountDownLatch ran = new CountDownLatch(2);
        ScheduledFuture<?> f = e.scheduleAtFixedRate(ran::countDown, 0, 1, MILLISECONDS);
        await(ran);
        assertThatThrownBy(() -> f.get(1, MILLISECONDS)).isInstanceOf(TimeoutException.class);
        assertThat(f.cancel(false)).isTrue();
        assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(CancellationException.class);
        assertThatThrownBy(f::get).isInstanceOf(CancellationException.class);
        e.shutdown();
        assertTerminates(e);
    }

    @Test
    void cancellingARunningPeriodicTaskLetsTheRunEndAndStopsTheNextOnes() throws Exception {
        ScheduledExecutorService e = executor();
        for (boolean mayInterrupt : new boolean[] {false, true}) {
            CountDownLatch proceed = new CountDownLatch(1);
            ExecutorTckTest.Blocker task = new ExecutorTckTest.Blocker(proceed);
            ScheduledFuture<?> f = e.scheduleWithFixedDelay(task, 0, 1, MILLISECONDS);
            await(task.started);
            assertThat(f.cancel(mayInterrupt)).isTrue();
            assertThat(f.isCancelled()).isTrue();
            assertThat(f.isDone()).isTrue();
            proceed.countDown();
            await(task.ended);
            assertThat(task.interrupted.get()).isEqualTo(mayInterrupt);
            assertThatThrownBy(f::get).isInstanceOf(CancellationException.class);
            assertThat(task.runs).hasValue(1);
        }
        e.shutdown();
        assertTerminates(e); // neither was re-armed
    }

    // ------------------------------------------------------------------ getDelay, compareTo

    @Test
    void getDelayCountsDownAndIsNotPositiveOnceRun() throws Exception {
        ScheduledExecutorService e = executor();
        ScheduledFuture<?> hour = e.schedule(() -> { }, 1, HOURS);
        long first = hour.getDelay(NANOSECONDS);
        assertThat(first).isBetween(HOURS.toNanos(1) - SECONDS.toNanos(LONG), HOURS.toNanos(1));
        assertThat(hour.getDelay(SECONDS)).isLessThanOrEqualTo(3600);
        assertThat(hour.getDelay(NANOSECONDS)).as("counts down").isLessThanOrEqualTo(first);
        ScheduledFuture<String> soon = e.schedule(() -> "x", 1, MILLISECONDS);
        assertThat(soon.get(LONG, SECONDS)).isEqualTo("x");
        assertThat(soon.getDelay(NANOSECONDS)).isLessThanOrEqualTo(0);
        hour.cancel(false);
    }

    @Test
    void compareToOrdersScheduledFuturesByTimeAndIsAConsistentOrder() {
        ScheduledExecutorService e = executor();
        ScheduledExecutorService other = t.queue("tck-sched-other").build().asScheduledExecutorService();
        ScheduledFuture<?> h1 = e.schedule(() -> { }, 1, HOURS);
        ScheduledFuture<?> h2 = e.schedule(() -> { }, 2, HOURS);
        ScheduledFuture<?> h1b = e.schedule(() -> { }, 1, HOURS);
        ScheduledFuture<?> o3 = other.schedule(() -> { }, 3, HOURS);
        ScheduledFuture<?> p = e.scheduleAtFixedRate(() -> { }, 90, 60, TimeUnit.MINUTES);
        Delayed foreign = new Delayed() {
            @Override
            public long getDelay(TimeUnit unit) {
                return unit.convert(150, TimeUnit.MINUTES);
            }

            @Override
            public int compareTo(Delayed o) {
                return Long.compare(getDelay(NANOSECONDS), o.getDelay(NANOSECONDS));
            }
        };
        assertThat(h1.compareTo(h1)).isZero();
        assertThat(h1.compareTo(h2)).isNegative();
        assertThat(h2.compareTo(h1)).isPositive();
        assertThat(Integer.signum(h1.compareTo(h1b))).isEqualTo(-Integer.signum(h1b.compareTo(h1)));
        assertThat(h2.compareTo(o3)).as("across views").isNegative();
        assertThat(o3.compareTo(h2)).isPositive();
        assertThat(h2.compareTo(foreign)).isNegative();
        assertThat(o3.compareTo(foreign)).isPositive();
        List<Delayed> sorted = new ArrayList<>(List.of(o3, foreign, h2, p, h1));
        sorted.sort(null);
        assertThat(sorted).containsExactly(h1, p, h2, foreign, o3);
        for (Future<?> f : List.of(h1, h2, h1b, o3, p)) {
            f.cancel(false);
        }
    }

    // ------------------------------------------------------------------ shutdown policies

    /**
     * testShutdown_cancellation with ScheduledThreadPoolExecutor's default policies: after
     * {@code shutdown} the tasks already running go on, a periodic task that is running finishes
     * this run and is cancelled after it (not before: its future is not done while it runs), a
     * waiting periodic task is cancelled at once, and delayed one-shot tasks still run.
     */
    @Test
    void shutdownLetsRunningPeriodicTasksFinishTheirRunAndThenCancelsThem() throws Exception {
        ScheduledExecutorService e = executor();
        CountDownLatch unblock = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(4);
        AtomicInteger ran = new AtomicInteger();
        Runnable task = () -> {
            ran.incrementAndGet();
            blocked.countDown();
            await(unblock);
        };
        Future<?> immediate = e.submit(task);
        ScheduledFuture<?> delayed = e.schedule(task, 0, MILLISECONDS);
        ScheduledFuture<?> rate = e.scheduleAtFixedRate(task, 0, 1, MILLISECONDS);
        ScheduledFuture<?> delay = e.scheduleWithFixedDelay(task, 0, 1, MILLISECONDS);
        await(blocked); // all four run now
        AtomicInteger waitingRuns = new AtomicInteger();
        ScheduledFuture<?> waitingRate = e.scheduleAtFixedRate(waitingRuns::incrementAndGet, 1, 1, HOURS);
        ScheduledFuture<?> waitingDelay = e.scheduleWithFixedDelay(waitingRuns::incrementAndGet, 1, 1, HOURS);
        CountDownLatch laterRan = new CountDownLatch(1);
        ScheduledFuture<?> later = e.schedule(laterRan::countDown, 50, MILLISECONDS);

        e.shutdown();
        assertThat(e.isShutdown()).isTrue();
        assertThat(e.isTerminated()).isFalse();
        assertThat(immediate.isDone()).isFalse();
        assertThat(delayed.isDone()).isFalse();
        assertThat(rate.isDone()).as("a running fixed-rate task is not done before its run ends").isFalse();
        assertThat(delay.isDone()).as("a running fixed-delay task is not done before its run ends").isFalse();
        assertThat(waitingRate.isCancelled()).as("a waiting periodic task is cancelled at once").isTrue();
        assertThat(waitingDelay.isCancelled()).isTrue();
        assertThat(later.isCancelled()).as("a delayed one-shot task is kept").isFalse();

        unblock.countDown();
        await(laterRan);
        assertTerminates(e);
        assertThat(immediate.get(0, SECONDS)).isNull();
        assertThat(delayed.get(0, SECONDS)).isNull();
        assertThat(later.get(0, SECONDS)).isNull();
        assertThat(rate.isCancelled()).as("cancelled once its run ended").isTrue();
        assertThat(delay.isCancelled()).isTrue();
        assertThat(ran).as("each of the four ran once, no periodic one again").hasValue(4);
        assertThat(waitingRuns).hasValue(0);
    }

    /**
     * A queue destroyed under a view with tasks still armed (the caller's fault: destroy reports
     * each armed item): those tasks can never run, so the view's shutdown fails their futures
     * instead of waiting for them for good, and the view terminates.
     */
    @Test
    void tasksStrandedByTheDestroyOfTheirQueueFailAtShutdownAndTheViewTerminates() throws Exception {
        WorkQueue q = t.queue("tck-doomed").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        AtomicInteger ran = new AtomicInteger();
        ScheduledFuture<?> delayed = e.schedule(ran::incrementAndGet, 1, HOURS);
        ScheduledFuture<?> periodic = e.scheduleWithFixedDelay(ran::incrementAndGet, 1, 1, HOURS);
        q.destroy();
        assertThat(t.errors).as("destroy reported both armed items").hasSize(2);
        e.shutdown();
        assertTerminates(e);
        for (ScheduledFuture<?> f : List.of(delayed, periodic)) {
            assertThatThrownBy(() -> f.get(0, SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("tck-doomed");
        }
        assertThat(ran).hasValue(0);
    }

    /**
     * The same stranding after the view's shutdown, which waits for the far delayed task: the
     * destroy of the queue then takes the task's armed item off the timer (and reports it), so
     * the task can never run. Its future fails at that moment and the view terminates. Before,
     * only shutdown looked for stranded tasks: the future never completed and the view never
     * terminated (awaitTermination false after 30 s).
     */
    @Test
    void aTaskStrandedAfterShutdownFailsThenAndTheViewTerminates() throws Exception {
        WorkQueue q = t.queue("tck-doomed-later").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        AtomicInteger ran = new AtomicInteger();
        ScheduledFuture<?> delayed = e.schedule(ran::incrementAndGet, 1, HOURS);
        e.shutdown();
        q.destroy();
        assertThat(t.errors).as("destroy reported the armed item").hasSize(1);
        assertTerminates(e);
        assertThatThrownBy(() -> delayed.get(0, SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("tck-doomed-later");
        assertThat(ran).hasValue(0);
    }

    /**
     * Without a shutdown: the future of a task whose queue is destroyed while it is armed fails
     * then, naming the queue. Before, {@code get()} waited for ever (here: 30 s, then timed out).
     */
    @Test
    void theFutureOfATaskStrandedByADestroyFailsAtOnce() throws Exception {
        WorkQueue q = t.queue("tck-doomed-now").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        ScheduledFuture<?> delayed = e.schedule(() -> { }, 1, HOURS);
        ScheduledFuture<?> periodic = e.scheduleAtFixedRate(() -> { }, 1, 1, HOURS);
        q.destroy();
        for (ScheduledFuture<?> f : List.of(delayed, periodic)) {
            assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("tck-doomed-now");
        }
    }

    /**
     * A task whose timer expires while its queue drains: the expiry is refused, as any delayed
     * item's is (not chained work; the kernel's __queue_work), and reported, so the task never
     * runs; its future fails with the refusal. Before, it never completed (30 s, then timed out).
     */
    @Test
    void theFutureOfATaskWhoseExpiryADrainRefusedFails() throws Exception {
        WorkQueue q = t.queue("tck-draining").unbound().build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        q.queue(new Work("gate", () -> {
            started.countDown();
            await(release);
        }));
        await(started);
        // draining, the gate still runs: its flush covered by a flip (WAITING alone may be a pool lock on the way in)
        Thread drainer = TestRuntime.startAndAwaitAt("drainer", q::drain, "flush.waiting");
        AtomicInteger ran = new AtomicInteger();
        ScheduledFuture<?> refused = e.schedule(ran::incrementAndGet, 1, MILLISECONDS);
        try {
            assertThatThrownBy(() -> refused.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("tck-draining");
        } finally {
            release.countDown();
            drainer.join(LONG * 1000);
        }
        assertThat(drainer.isAlive()).isFalse();
        assertThat(ran).hasValue(0);
        e.shutdown();
        assertTerminates(e);
    }

    @Test
    void aViewShutDownWithAFarDelayedTaskTerminatesOnlyWhenThatTaskIsGone() throws Exception {
        ScheduledExecutorService e = executor();
        AtomicInteger ran = new AtomicInteger();
        ScheduledFuture<?> far = e.schedule(ran::incrementAndGet, 1, HOURS);
        e.shutdown();
        assertThat(e.awaitTermination(10, MILLISECONDS)).as("the delayed task keeps it alive").isFalse();
        assertThat(far.isDone()).isFalse();
        List<Runnable> never = e.shutdownNow();
        assertThat(never).containsExactly((Runnable) far);
        assertThat(far.isCancelled()).as("shutdownNow returns it uncancelled").isFalse();
        assertTerminates(e);
        assertThat(ran).hasValue(0);
    }
}
