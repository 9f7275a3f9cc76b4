package org.workqueue4j;

import static java.util.concurrent.TimeUnit.HOURS;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WorkQueue#asScheduledExecutorService()} against the ScheduledExecutorService contract as
 * the JSR-166 TCK's ScheduledExecutorTest states it (schedule, fixed rate, fixed delay, getDelay,
 * compareTo, cancel, exceptions of periodic tasks, shutdown policies, bad arguments, rejection).
 * No test depends on timing: long delays are one hour, short ones are waited for.
 */
class ScheduledExecutorContractTest {
    private static final long LONG = 30;

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    private ScheduledExecutorService executor() {
        return t.queue("sched").build().asScheduledExecutorService();
    }

    private static final Runnable NOOP = () -> { };

    @Test
    void scheduleRunnableRunsOnceAfterTheDelay() throws Exception {
        ScheduledExecutorService e = executor();
        long start = System.nanoTime();
        CountDownLatch ran = new CountDownLatch(1);
        long[] ranAt = new long[1];
        ScheduledFuture<?> f = e.schedule(() -> {
            ranAt[0] = System.nanoTime();
            ran.countDown();
        }, 20, MILLISECONDS);
        assertThat(f.get(LONG, SECONDS)).isNull();
        assertThat(ran.getCount()).isZero();
        assertThat(ranAt[0] - start).as("not before its delay").isGreaterThanOrEqualTo(MILLISECONDS.toNanos(20));
        assertThat(f.isDone()).isTrue();
        assertThat(f.isCancelled()).isFalse();
    }

    @Test
    void scheduleCallableCompletesWithItsResult() throws Exception {
        ScheduledExecutorService e = executor();
        ScheduledFuture<String> f = e.schedule(() -> "answer", 1, MILLISECONDS);
        assertThat(f.get(LONG, SECONDS)).isEqualTo("answer");
    }

    @Test
    void zeroAndNegativeDelaysRunNow() throws Exception {
        ScheduledExecutorService e = executor();
        assertThat(e.schedule(() -> 0, 0, SECONDS).get(LONG, SECONDS)).isEqualTo(0);
        assertThat(e.schedule(() -> -1, -5, SECONDS).get(LONG, SECONDS)).isEqualTo(-1);
        assertThat(e.scheduleAtFixedRate(NOOP, -1, 1, HOURS).getDelay(NANOSECONDS)).isLessThanOrEqualTo(HOURS.toNanos(1));
    }

    @Test
    void getDelayIsPositiveBeforeTheRunAndCompareToOrdersByTime() {
        ScheduledExecutorService e = executor();
        ScheduledFuture<?> soon = e.schedule(NOOP, 1, HOURS);
        ScheduledFuture<?> later = e.schedule(NOOP, 2, HOURS);
        long d = soon.getDelay(MILLISECONDS);
        assertThat(d).isPositive().isLessThanOrEqualTo(HOURS.toMillis(1));
        assertThat(soon.compareTo(later)).isNegative();
        assertThat(later.compareTo(soon)).isPositive();
        assertThat(soon.compareTo(soon)).isZero();
        e.shutdownNow();
    }

    @Test
    void fixedRateRunsRepeatedlyUntilCancelled() throws Exception {
        ScheduledExecutorService e = executor();
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch three = new CountDownLatch(3);
        ScheduledFuture<?>[] self = new ScheduledFuture<?>[1];
        CountDownLatch assigned = new CountDownLatch(1);
        self[0] = e.scheduleAtFixedRate(() -> {
            WorkQueueCoreTest.await(assigned);
            if (runs.incrementAndGet() == 3) {
                self[0].cancel(false); // from inside its third run: no fourth
            }
            three.countDown();
        }, 0, 1, MILLISECONDS);
        assigned.countDown();
        WorkQueueCoreTest.await(three);
        assertThat(self[0].isCancelled()).isTrue();
        assertThat(self[0].isDone()).isTrue();
        assertThatThrownBy(() -> self[0].get()).isInstanceOf(CancellationException.class);
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        assertThat(runs).hasValue(3);
    }

    @Test
    void fixedDelayRunsRepeatedlyUntilCancelled() throws Exception {
        ScheduledExecutorService e = executor();
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch five = new CountDownLatch(5);
        ScheduledFuture<?> f = e.scheduleWithFixedDelay(() -> {
            runs.incrementAndGet();
            five.countDown();
        }, 0, 1, MILLISECONDS);
        WorkQueueCoreTest.await(five);
        assertThat(((java.util.concurrent.RunnableScheduledFuture<?>) f).isPeriodic()).isTrue();
        assertThat(f.cancel(true)).isTrue();
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        int after = runs.get();
        assertThat(after).isGreaterThanOrEqualTo(5);
        ((WorkQueueExecutorService) e).queue.flush(); // terminated: its item is armed nowhere, runs no more
        assertThat(runs).hasValue(after);
    }

    @Test
    void aPeriodicTaskThatThrowsRunsNoMoreAndItsFutureHoldsTheException() throws Exception {
        ScheduledExecutorService e = executor();
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = e.scheduleAtFixedRate(() -> {
            if (runs.incrementAndGet() == 2) {
                throw new IllegalStateException("second run fails");
            }
        }, 0, 1, MILLISECONDS);
        assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
        assertThat(f.isDone()).isTrue();
        assertThat(f.isCancelled()).isFalse();
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        assertThat(runs).hasValue(2);
    }

    @Test
    void cancellingADelayedTaskTakesItsItemOffTheTimer() throws Exception {
        WorkQueue q = t.queue("timer").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = e.schedule(runs::incrementAndGet, 1, HOURS);
        assertThat(f.cancel(false)).isTrue();
        assertThat(f.isCancelled()).isTrue();
        assertThat(f.isDone()).isTrue();
        assertThat(f.cancel(false)).isFalse();
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).as("nothing left to run").isTrue();
        q.destroy(); // an item still armed would be reported to the handler
        assertThat(t.errors).isEmpty();
        assertThat(runs).hasValue(0);
    }

    @Test
    void nullArgumentsThrowNullPointerException() {
        ScheduledExecutorService e = executor();
        assertThatThrownBy(() -> e.schedule((Runnable) null, 1, SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.schedule((Callable<?>) null, 1, SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.schedule(NOOP, 1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.scheduleAtFixedRate(null, 1, 1, SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.scheduleAtFixedRate(NOOP, 1, 1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.scheduleWithFixedDelay(null, 1, 1, SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.scheduleWithFixedDelay(NOOP, 1, 1, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void nonPositivePeriodsAreIllegalArguments() {
        ScheduledExecutorService e = executor();
        assertThatThrownBy(() -> e.scheduleAtFixedRate(NOOP, 1, 0, SECONDS)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> e.scheduleAtFixedRate(NOOP, 1, -1, SECONDS)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> e.scheduleWithFixedDelay(NOOP, 1, 0, SECONDS)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> e.scheduleWithFixedDelay(NOOP, 1, -1, SECONDS)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyScheduleIsRejectedAfterShutdown() {
        ScheduledExecutorService e = executor();
        e.shutdown();
        assertThatThrownBy(() -> e.schedule(NOOP, 1, SECONDS)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.schedule(() -> 1, 1, SECONDS)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.scheduleAtFixedRate(NOOP, 1, 1, SECONDS)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.scheduleWithFixedDelay(NOOP, 1, 1, SECONDS)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.execute(NOOP)).isInstanceOf(RejectedExecutionException.class);
    }

    /** ScheduledThreadPoolExecutor's default: delayed one-shot tasks still run after shutdown. */
    @Test
    void afterShutdownDelayedTasksStillRunAndPeriodicOnesAreCancelled() throws Exception {
        ScheduledExecutorService e = executor();
        CountDownLatch ranLater = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        ScheduledFuture<?> delayed = e.schedule(() -> {
            WorkQueueCoreTest.await(go); // not done before the checks below, however slow the machine
            ranLater.countDown();
        }, 50, MILLISECONDS);
        ScheduledFuture<?> rate = e.scheduleAtFixedRate(NOOP, 1, 1, HOURS);
        ScheduledFuture<?> delay = e.scheduleWithFixedDelay(NOOP, 1, 1, HOURS);
        e.shutdown();
        assertThat(rate.isCancelled()).isTrue();
        assertThat(delay.isCancelled()).isTrue();
        assertThat(delayed.isDone()).isFalse();
        assertThat(e.isTerminated()).isFalse();
        go.countDown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        assertThat(ranLater.getCount()).isZero();
        assertThat(delayed.isDone()).isTrue();
    }

    /** The TCK's testShutdownNow_delayedTasks: every waiting task is returned, none cancelled. */
    @Test
    void shutdownNowReturnsEveryWaitingTaskUncancelled() throws Exception {
        WorkQueue q = t.queue("now").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        List<ScheduledFuture<?>> tasks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            tasks.add(e.schedule(NOOP, 9, SECONDS));
            tasks.add(e.scheduleAtFixedRate(NOOP, 9, 9, SECONDS));
            tasks.add(e.scheduleWithFixedDelay(NOOP, 9, 9, SECONDS));
        }
        List<Runnable> returned = e.shutdownNow();
        assertThat(e.isShutdown()).isTrue();
        assertThat(new HashSet<Object>(returned)).isEqualTo(new HashSet<Object>(tasks));
        for (ScheduledFuture<?> f : tasks) {
            assertThat(f.isDone()).isFalse();
            assertThat(f.isCancelled()).isFalse();
        }
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        assertThat(e.isTerminated()).isTrue();
        q.destroy(); // nothing may be left armed
        assertThat(t.errors).isEmpty();
    }

    @Test
    void shutdownNowInterruptsARunningPeriodicTaskWhichRunsNoMore() throws Exception {
        ScheduledExecutorService e = executor();
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch interrupted = new CountDownLatch(1);
        e.scheduleAtFixedRate(() -> {
            runs.incrementAndGet();
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException ie) {
                interrupted.countDown();
            }
        }, 0, 1, MILLISECONDS);
        WorkQueueCoreTest.await(started);
        assertThat(e.shutdownNow()).isEmpty();
        assertThat(interrupted.await(LONG, SECONDS)).isTrue();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        assertThat(runs).hasValue(1);
    }

    @Test
    void submittedTasksAndInvokeAllWorkOnTheScheduledView() throws Exception {
        ScheduledExecutorService e = executor();
        assertThat(e.submit(() -> 5).get(LONG, SECONDS)).isEqualTo(5);
        assertThat(e.invokeAll(List.<Callable<Integer>>of(() -> 1, () -> 2))).hasSize(2);
        assertThat(e.invokeAny(List.<Callable<Integer>>of(() -> 3))).isEqualTo(3);
    }

    @Test
    void anOwningScheduledExecutorDestroysItsQueueWhenTerminated() throws Exception {
        ScheduledExecutorService e = t.queue("owned").buildScheduledExecutorService();
        assertThat(e.schedule(() -> "x", 1, MILLISECONDS).get(LONG, SECONDS)).isEqualTo("x");
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        t.rt.systemUnbound().flush(); // the destroy follows the termination, from a system_unbound item
        assertThat(((WorkQueueExecutorService) e).queue.isDestroyed()).isTrue();
    }

    /**
     * A periodic task re-arms its own item: after warm-up, the worker allocates nothing from the
     * end of one run to the start of the next in (nearly) every period (HotSpot's per-thread
     * allocation counter).
     */
    @Test
    void aPeriodicTaskAllocatesNothingPerPeriodOnItsWorker() throws Exception {
        // Reflection: the test module does not read java.management (the library needs no such module).
        Object mx = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        Class<?> hsType = Class.forName("com.sun.management.ThreadMXBean");
        org.junit.jupiter.api.Assumptions.assumeTrue(hsType.isInstance(mx));
        java.lang.reflect.Method allocated = hsType.getMethod("getCurrentThreadAllocatedBytes");
        java.util.function.LongSupplier hs = () -> {
            try {
                return (long) allocated.invoke(mx);
            } catch (ReflectiveOperationException ex) {
                throw new AssertionError(ex);
            }
        };
        try (TestRuntime one = new TestRuntime(1)) {
            ScheduledExecutorService e = one.queue("alloc").build().asScheduledExecutorService();
            int warmup = 20_000;
            int total = warmup + 5_000;
            long[] lastBytes = new long[1];
            Thread[] lastThread = new Thread[1];
            long[] sum = new long[1];
            int[] pairs = new int[1];
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(1);
            // Runs never overlap and each happens-after the previous one: plain arrays suffice.
            ScheduledFuture<?> f = e.scheduleWithFixedDelay(() -> {
                long start = hs.getAsLong();
                long overhead = hs.getAsLong() - start; // what one read of the counter allocates
                int n = runs.incrementAndGet();
                if (n > warmup && Thread.currentThread() == lastThread[0]) {
                    if (start - lastBytes[0] - overhead <= 0) {
                        sum[0]++; // a period that allocated nothing
                    }
                    pairs[0]++;
                }
                if (n == total) {
                    done.countDown();
                    throw new IllegalStateException("stop"); // ends the periodic task
                }
                lastThread[0] = Thread.currentThread();
                lastBytes[0] = hs.getAsLong();
            }, 0, 1, java.util.concurrent.TimeUnit.MICROSECONDS);
            assertThat(done.await(4 * LONG, SECONDS)).isTrue();
            assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class);
            assertThat(pairs[0]).as("consecutive runs on one worker").isGreaterThan(1_000);
            // The re-arm allocates nothing, so most periods allocate nothing (about 85% here); the
            // others are periods in which the worker went idle while the timer ran, and its idle
            // bookkeeping allocated. A re-arm that allocated (a Duration per period, say) makes
            // none of them zero (measured: 0 of 5000).
            assertThat(sum[0]).as("periods of %d that allocated nothing between two runs", pairs[0])
                    .isGreaterThanOrEqualTo(pairs[0] / 2L);
        }
    }
}
