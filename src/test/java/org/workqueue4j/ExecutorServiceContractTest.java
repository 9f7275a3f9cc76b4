package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ExecutorService contract cases of the JSR-166 TCK (AbstractExecutorServiceTest,
 * ThreadPoolExecutorTest) that {@link ExecutorServiceTest} does not already cover, in their
 * spirit, against {@link WorkQueue#asExecutorService()}: the timed invokeAll/invokeAny variants,
 * testShutdownNow's accounting, rejection after shutdownNow, exceptions of executed tasks.
 */
class ExecutorServiceContractTest {
    private static final long LONG = 30;

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    /** Blocks until interrupted; announces its start. */
    private static Callable<String> untilInterrupted(CountDownLatch started) {
        return () -> {
            started.countDown();
            new CountDownLatch(1).await();
            return "never";
        };
    }

    /** testShutdownNow: a pool of tasks; returned + started == submitted; none starts later. */
    @Test
    void shutdownNowAccountsForEveryTask() throws Exception {
        WorkQueue q = t.queue("pool").unbound().maxActive(2).build();
        ExecutorService e = q.asExecutorService();
        int count = 5;
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(2);
        Runnable waiter = () -> {
            started.countDown();
            try {
                Thread.sleep(SECONDS.toMillis(2 * LONG));
            } catch (InterruptedException success) {
                // expected: shutdownNow
            }
            ran.incrementAndGet();
        };
        for (int i = 0; i < count; i++) {
            e.execute(waiter);
        }
        WorkQueueCoreTest.await(started);
        List<Runnable> queued = e.shutdownNow();
        assertThat(e.isShutdown()).isTrue();
        assertThat(queued).hasSize(count - 2);
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        assertThat(e.isTerminated()).isTrue();
        q.flush();
        assertThat(ran).hasValue(2);
    }

    @Test
    void everyTaskIsRejectedAfterShutdownNow() {
        ExecutorService e = t.queue("x").build().asExecutorService();
        e.shutdownNow();
        assertThatThrownBy(() -> e.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.submit(() -> 1)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.invokeAll(List.<Callable<Integer>>of(() -> 1)))
                .isInstanceOf(RejectedExecutionException.class);
    }

    /** testTimedInvokeAll6-like: tasks unfinished at the timeout are cancelled (and interrupted). */
    @Test
    void timedInvokeAllCancelsTheTasksUnfinishedAtTheTimeout() throws Exception {
        ExecutorService e = t.queue("all").unbound().build().asExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        List<Callable<String>> tasks = List.of(() -> "fast", untilInterrupted(started));
        List<Future<String>> fs = e.invokeAll(tasks, 500, MILLISECONDS);
        assertThat(fs).hasSize(2).allMatch(Future::isDone);
        // the first one normally finished in time; on a starved machine it may have been cancelled too
        assertThat(fs.get(0).isCancelled() || "fast".equals(fs.get(0).get())).isTrue();
        assertThat(fs.get(1).isCancelled()).isTrue();
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).as("the cancelled task was interrupted").isTrue();
    }

    @Test
    void timedInvokeAllWithNullsOrNoTasks() throws Exception {
        ExecutorService e = t.queue("all").build().asExecutorService();
        assertThatThrownBy(() -> e.invokeAll(null, 1, SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAll(List.<Callable<Integer>>of(() -> 1), 1, null))
                .isInstanceOf(NullPointerException.class);
        assertThat(e.invokeAll(Collections.<Callable<Integer>>emptyList(), 1, SECONDS)).isEmpty();
    }

    @Test
    void invokeAllKeepsEachTaskExceptionInItsFuture() throws Exception {
        ExecutorService e = t.queue("all").build().asExecutorService();
        List<Future<String>> fs = e.invokeAll(List.of(() -> "ok", () -> {
            throw new IllegalStateException("bad");
        }));
        assertThat(fs.get(0).get()).isEqualTo("ok");
        assertThatThrownBy(() -> fs.get(1).get()).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void timedInvokeAnyTimesOutWhenNoTaskCompletesAndCancelsThem() throws Exception {
        ExecutorService e = t.queue("any").unbound().build().asExecutorService();
        CountDownLatch started = new CountDownLatch(2);
        List<Callable<String>> tasks = new ArrayList<>();
        tasks.add(untilInterrupted(started));
        tasks.add(untilInterrupted(started));
        assertThatThrownBy(() -> e.invokeAny(tasks, 50, MILLISECONDS)).isInstanceOf(TimeoutException.class);
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).as("invokeAny interrupted its tasks").isTrue();
    }

    @Test
    void timedInvokeAnyReturnsACompletedResultAndRejectsBadArguments() throws Exception {
        ExecutorService e = t.queue("any").build().asExecutorService();
        assertThat(e.invokeAny(List.<Callable<String>>of(() -> "x"), LONG, SECONDS)).isEqualTo("x");
        assertThatThrownBy(() -> e.invokeAny(null, 1, SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAny(Collections.<Callable<String>>emptyList(), 1, SECONDS))
                .isInstanceOf(IllegalArgumentException.class);
        List<Callable<String>> withNull = new ArrayList<>();
        withNull.add(null);
        assertThatThrownBy(() -> e.invokeAny(withNull)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void anExceptionOfAnExecutedTaskGoesToTheUncaughtWorkHandler() throws Exception {
        WorkQueue q = t.queue("thrower").build();
        ExecutorService e = q.asExecutorService();
        e.execute(() -> {
            throw new IllegalStateException("from execute");
        });
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        q.flush();
        assertThat(t.errors).singleElement().isInstanceOf(IllegalStateException.class);
        assertThat(t.errorWork).singleElement().asString().startsWith("thrower/thrower/task-");
    }

    @Test
    void awaitTerminationIsInterruptible() throws Exception {
        ExecutorService e = t.queue("x").build().asExecutorService();
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> e.awaitTermination(LONG, SECONDS)).isInstanceOf(InterruptedException.class);
    }
}
