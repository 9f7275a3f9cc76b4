package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The executor views against ExecutorService's javadoc: timed bulk operations and per-view shutdownNow. */
class ExecutorViewAttackProbesTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    /**
     * ExecutorService.invokeAll(tasks, timeout): "Upon return, tasks that have not completed are
     * cancelled." A running task that never ends by itself is cancelled (interrupted:
     * AbstractExecutorService cancels with cancel(true)), a queued one never runs.
     */
    @Test
    void timedInvokeAllCancelsTheUnfinishedTasks() throws Exception {
        ExecutorService e = t.queue("one").ordered().build().asExecutorService();
        CountDownLatch interrupted = new CountDownLatch(1);
        AtomicBoolean secondRan = new AtomicBoolean();
        AtomicBoolean firstStarted = new AtomicBoolean();
        Callable<String> blocks = () -> {
            firstStarted.set(true);
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException ie) {
                interrupted.countDown();
                throw ie;
            }
            return "never";
        };
        Callable<String> queued = () -> {
            secondRan.set(true);
            return "second";
        };
        List<Future<String>> fs = e.invokeAll(List.of(blocks, queued), 200, TimeUnit.MILLISECONDS);
        assertThat(fs).hasSize(2).allSatisfy(f -> {
            assertThat(f.isDone()).isTrue();
            assertThat(f.isCancelled()).isTrue();
        });
        e.shutdown();
        assertThat(e.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        if (firstStarted.get()) { // it may not have started within the timeout on a loaded machine
            assertThat(interrupted.getCount()).as("the running task was interrupted").isZero();
        }
        assertThat(secondRan).as("a cancelled queued task never runs").isFalse();
    }

    /** invokeAny(tasks, timeout): TimeoutException when no task completes in time; the tasks are cancelled. */
    @Test
    void timedInvokeAnyTimesOutAndCancelsTheTasks() throws Exception {
        ExecutorService e = t.queue("any").build().asExecutorService();
        java.util.concurrent.atomic.AtomicInteger startedCount = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger interruptedCount = new java.util.concurrent.atomic.AtomicInteger();
        Callable<String> blocks = () -> {
            startedCount.incrementAndGet();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException ie) {
                interruptedCount.incrementAndGet();
                throw ie;
            }
            return "never";
        };
        assertThatThrownBy(() -> e.invokeAny(List.of(blocks, blocks), 200, TimeUnit.MILLISECONDS))
                .isInstanceOf(TimeoutException.class);
        e.shutdown();
        assertThat(e.awaitTermination(30, TimeUnit.SECONDS)).as("every task ended: cancelled ones were interrupted").isTrue();
        assertThat(e.isTerminated()).isTrue();
        assertThat(interruptedCount.get()).as("every started task was interrupted").isEqualTo(startedCount.get());
    }

    /**
     * Two views of one ordered queue: view A's shutdownNow() returns exactly A's never-started
     * task, interrupts A's running one; view B's task queued between them still runs, and B
     * is neither shut down nor terminated (README: "a view never destroys the queue").
     */
    @Test
    void shutdownNowOfOneViewLeavesTheOtherViewsTasks() throws Exception {
        WorkQueue q = t.queue("shared").ordered().build();
        ExecutorService a = q.asExecutorService();
        ExecutorService b = q.asExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch aInterrupted = new CountDownLatch(1);
        a.execute(() -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException ie) {
                aInterrupted.countDown();
            }
        });
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        CountDownLatch bRan = new CountDownLatch(1);
        Future<?> bf = b.submit(bRan::countDown);
        AtomicBoolean aSecondRan = new AtomicBoolean();
        Runnable aSecond = () -> aSecondRan.set(true);
        a.execute(aSecond);
        List<Runnable> never = a.shutdownNow();
        assertThat(never).containsExactly(aSecond);
        assertThat(aInterrupted.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(bRan.await(30, TimeUnit.SECONDS)).isTrue();
        bf.get(30, TimeUnit.SECONDS);
        assertThat(a.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(b.isShutdown()).isFalse();
        assertThat(b.isTerminated()).isFalse();
        q.flush();
        assertThat(aSecondRan).isFalse();
    }
}
