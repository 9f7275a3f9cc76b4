package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WorkQueue#asExecutorService()} against what an {@link ExecutorService} user relies on (the
 * behaviours JSR-166's AbstractExecutorServiceTest and ThreadPoolExecutorTest check), one per test.
 */
class ExecutorServiceTest {
    private static final long LONG = 30;

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    private ExecutorService executor() {
        return t.queue("exec").build().asExecutorService();
    }

    private static boolean terminates(ExecutorService e) throws InterruptedException {
        return e.awaitTermination(LONG, TimeUnit.SECONDS);
    }

    /** A task that blocks until {@code release}, announcing its start. */
    private static Runnable blocker(CountDownLatch started, CountDownLatch release) {
        return () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        };
    }

    @Test
    void submitRunnableCompletesItsFutureWithNull() throws Exception {
        ExecutorService e = executor();
        AtomicBoolean ran = new AtomicBoolean();
        Future<?> f = e.submit(() -> ran.set(true));
        assertThat(f.get(LONG, TimeUnit.SECONDS)).isNull();
        assertThat(ran).isTrue();
        assertThat(f.isDone()).isTrue();
    }

    @Test
    void submitCallableCompletesItsFutureWithTheResult() throws Exception {
        ExecutorService e = executor();
        assertThat(e.submit(() -> "done").get(LONG, TimeUnit.SECONDS)).isEqualTo("done");
        assertThat(e.submit(() -> { }, 42).get(LONG, TimeUnit.SECONDS)).isEqualTo(42);
    }

    @Test
    void aThrowingCallableFailsItsFutureAndNotTheHandler() throws Exception {
        ExecutorService e = executor();
        Future<Object> f = e.submit(() -> {
            throw new IllegalStateException("boom");
        });
        assertThatThrownBy(() -> f.get(LONG, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
        e.shutdown();
        assertThat(terminates(e)).isTrue();
        assertThat(t.errors).isEmpty();
    }

    @Test
    void nullTasksAreRejectedWithNullPointerException() {
        ExecutorService e = executor();
        assertThatThrownBy(() -> e.execute(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.submit((Runnable) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.submit((Callable<?>) null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void tasksAreRejectedAfterShutdown() {
        ExecutorService e = executor();
        e.shutdown();
        assertThat(e.isShutdown()).isTrue();
        assertThatThrownBy(() -> e.execute(() -> { })).isInstanceOf(RejectedExecutionException.class)
                .hasMessageContaining("exec");
        assertThatThrownBy(() -> e.submit(() -> 1)).isInstanceOf(RejectedExecutionException.class);
    }

    @Test
    void isTerminatedOnlyAfterTheLastTaskFinished() throws Exception {
        ExecutorService e = executor();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        e.execute(() -> {
            blocker(started, release).run();
            finished.set(true);
        });
        WorkQueueCoreTest.await(started);

        e.shutdown();
        assertThat(e.isShutdown()).isTrue();
        assertThat(e.isTerminated()).isFalse();
        assertThat(e.awaitTermination(0, TimeUnit.NANOSECONDS)).isFalse();
        release.countDown();
        assertThat(terminates(e)).isTrue();
        assertThat(e.isTerminated()).isTrue();
        assertThat(finished).isTrue();
    }

    @Test
    void shutdownOfAnOwningExecutorRunsTheQueuedTasksThenDestroysItsQueue() throws Exception {
        ExecutorService e = t.queue("exec").ordered().buildExecutorService();
        WorkQueue q = ((WorkQueueExecutorService) e).queue;
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        e.execute(blocker(started, release));
        WorkQueueCoreTest.await(started);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 5; i++) {
            e.execute(ran::incrementAndGet);
        }

        e.shutdown();
        release.countDown();
        assertThat(terminates(e)).isTrue();
        assertThat(ran).as("queued before shutdown: all run").hasValue(5);
        t.rt.systemUnbound().flush(); // the destroy follows the termination, from a system_unbound item
        assertThat(q.isDestroyed()).isTrue();
    }

    @Test
    void shutdownOfAnIdleExecutorTerminatesIt() throws Exception {
        ExecutorService e = executor();
        e.shutdown();
        assertThat(terminates(e)).isTrue();
        e.shutdown(); // idempotent
        assertThat(e.shutdownNow()).isEmpty();
        assertThat(e.isTerminated()).isTrue();
    }

    @Test
    void awaitTerminationWithoutShutdownReturnsFalse() throws Exception {
        ExecutorService e = executor();
        assertThat(e.awaitTermination(1, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(e.isTerminated()).isFalse();
    }

    @Test
    void shutdownNowInterruptsRunningTasks() throws Exception {
        ExecutorService e = executor();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        e.execute(() -> {
            started.countDown();
            try {
                never.await();
            } catch (InterruptedException ie) {
                interrupted.set(true);
            }
        });
        WorkQueueCoreTest.await(started);

        assertThat(e.shutdownNow()).isEmpty();
        assertThat(terminates(e)).isTrue();
        assertThat(interrupted).isTrue();
    }

    @Test
    void shutdownNowReturnsTheTasksThatNeverStarted() throws Exception {
        ExecutorService e = t.queue("exec").ordered().build().asExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        e.execute(blocker(started, release));
        WorkQueueCoreTest.await(started);
        AtomicInteger ran = new AtomicInteger();
        List<Runnable> waiting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Runnable r = ran::incrementAndGet;
            waiting.add(r);
            e.execute(r);
        }

        List<Runnable> never = e.shutdownNow();
        release.countDown();
        assertThat(terminates(e)).isTrue();
        assertThat(never).containsExactlyInAnyOrderElementsOf(waiting);
        assertThat(ran).hasValue(0);
    }

    @Test
    void anInterruptFromShutdownNowDoesNotLeakIntoTheNextItem() throws Exception {
        WorkQueue q = t.queue("exec").ordered().build();
        ExecutorService e = q.asExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        e.execute(() -> {
            started.countDown();
            while (!Thread.currentThread().isInterrupted()) {
                Thread.onSpinWait(); // ignores the interrupt's meaning, returns without clearing it
            }
        });
        WorkQueueCoreTest.await(started);
        e.shutdownNow();
        assertThat(terminates(e)).isTrue();

        // Every worker of the unbound pool, the interrupted one included, runs clean items.
        WorkQueue next = t.queue("next").unbound().build();
        AtomicInteger dirty = new AtomicInteger();
        for (int i = 0; i < 100; i++) {
            next.queue(new Work("probe", () -> {
                if (Thread.currentThread().isInterrupted()) {
                    dirty.incrementAndGet();
                }
            }));
        }
        next.flush();
        assertThat(dirty).hasValue(0);
    }

    @Test
    void cancellingAPendingFutureTakesItsItemOffTheQueue() throws Exception {
        ExecutorService e = t.queue("exec").ordered().build().asExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        e.execute(blocker(started, release));
        WorkQueueCoreTest.await(started);
        AtomicBoolean ran = new AtomicBoolean();
        Future<?> f = e.submit(() -> ran.set(true));

        assertThat(f.cancel(false)).isTrue();
        assertThat(f.isCancelled()).isTrue();
        assertThatThrownBy(f::get).isInstanceOf(CancellationException.class);
        e.shutdown();
        release.countDown();
        assertThat(terminates(e)).isTrue();
        assertThat(ran).isFalse();
    }

    @Test
    void cancellingARunningFutureWithInterruptInterruptsIt() throws Exception {
        ExecutorService e = executor();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        Future<?> f = e.submit(() -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException ie) {
                interrupted.countDown();
            }
        });
        WorkQueueCoreTest.await(started);
        assertThat(f.cancel(true)).isTrue();
        assertThat(interrupted.await(LONG, TimeUnit.SECONDS)).isTrue();
        e.shutdown();
        assertThat(terminates(e)).isTrue();
    }

    @Test
    void invokeAllReturnsCompletedFuturesInTaskOrder() throws Exception {
        ExecutorService e = executor();
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int v = i;
            tasks.add(() -> v * v);
        }
        List<Future<Integer>> fs = e.invokeAll(tasks);
        assertThat(fs).hasSize(10).allMatch(Future::isDone);
        for (int i = 0; i < 10; i++) {
            assertThat(fs.get(i).get()).isEqualTo(i * i);
        }
        List<Future<Integer>> timed = e.invokeAll(tasks, LONG, TimeUnit.SECONDS);
        assertThat(timed).allMatch(f -> f.isDone() && !f.isCancelled());
        assertThat(e.invokeAll(Collections.<Callable<Integer>>emptyList())).isEmpty();
    }

    @Test
    void invokeAllWithANullTaskThrowsNullPointerException() {
        ExecutorService e = executor();
        List<Callable<Integer>> tasks = new ArrayList<>();
        tasks.add(() -> 1);
        tasks.add(null);
        assertThatThrownBy(() -> e.invokeAll(tasks)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void invokeAnyReturnsTheResultOfACompletedTask() throws Exception {
        ExecutorService e = executor();
        List<Callable<String>> tasks = List.of(() -> {
            throw new IllegalStateException("first fails");
        }, () -> "second");
        assertThat(e.invokeAny(tasks)).isEqualTo("second");
        assertThat(e.invokeAny(tasks, LONG, TimeUnit.SECONDS)).isEqualTo("second");
    }

    @Test
    void invokeAnyThrowsExecutionExceptionWhenEveryTaskFails() {
        ExecutorService e = executor();
        List<Callable<String>> tasks = List.of(() -> {
            throw new IllegalStateException("a");
        }, () -> {
            throw new IllegalStateException("b");
        });
        assertThatThrownBy(() -> e.invokeAny(tasks)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void invokeAnyOfNoTasksIsAnIllegalArgument() {
        ExecutorService e = executor();
        assertThatThrownBy(() -> e.invokeAny(Collections.<Callable<String>>emptyList()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyAcceptedTaskCompletesWhenShutdownRacesSubmissions() throws Exception {
        for (int round = 0; round < 50; round++) {
            ExecutorService e = t.queue("race" + round).build().asExecutorService();
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            Thread submitter = new Thread(() -> {
                for (int i = 0; i < 1000; i++) {
                    try {
                        e.execute(ran::incrementAndGet);
                        accepted.incrementAndGet();
                    } catch (RejectedExecutionException expected) {
                        // after shutdown
                    }
                }
            });
            submitter.start();
            e.shutdown();
            submitter.join();
            assertThat(terminates(e)).isTrue();
            assertThat(ran.get()).as("round " + round).isEqualTo(accepted.get());
        }
    }

    @Test
    void anExecutorOverASystemQueueTerminatesWithoutDestroyingIt() throws Exception {
        ExecutorService e = t.rt.system().asExecutorService();
        assertThat(e.submit(() -> 7).get(LONG, TimeUnit.SECONDS)).isEqualTo(7);
        e.shutdown();
        assertThat(terminates(e)).isTrue();
        assertThat(t.rt.system().isDestroyed()).isFalse();
        assertThat(t.rt.schedule(new Work("still-works", () -> { }))).isTrue();
    }

    @Test
    void shutdownOfOneViewConcernsOnlyItsOwnTasks() throws Exception {
        WorkQueue q = t.queue("shared").ordered().build();
        ExecutorService a = q.asExecutorService();
        ExecutorService b = q.asExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        b.execute(blocker(started, release)); // b's task holds the queue
        WorkQueueCoreTest.await(started);
        AtomicInteger bRan = new AtomicInteger();
        Runnable bWaiting = bRan::incrementAndGet;
        b.execute(bWaiting);
        Runnable aWaiting = () -> { };
        a.execute(aWaiting);

        assertThat(a.shutdownNow()).containsExactly(aWaiting);
        assertThat(terminates(a)).isTrue();
        assertThat(b.isShutdown()).isFalse();
        assertThat(q.isDestroyed()).isFalse();
        release.countDown();
        assertThat(b.submit(() -> "still accepted").get(LONG, TimeUnit.SECONDS)).isEqualTo("still accepted");
        assertThat(bRan).hasValue(1);
        b.shutdown();
        assertThat(terminates(b)).isTrue();
        assertThat(q.isDestroyed()).as("a view never destroys a queue it does not own").isFalse();
        q.queue(new Work("after-views", () -> { }));
        q.flush();
    }

    @Test
    void tasksAreNamedByTheirToStringOrByQueueAndNumber() throws Exception {
        ExecutorService e = executor();
        Future<String> lambda = e.submit(() -> Work.current().name());
        assertThat(lambda.get(LONG, TimeUnit.SECONDS)).matches("exec/task-\\d+");
        Callable<String> named = new Callable<>() {
            @Override
            public String call() {
                return Work.current().name();
            }

            @Override
            public String toString() {
                return "refresh-cache";
            }
        };
        assertThat(e.submit(named).get(LONG, TimeUnit.SECONDS)).isEqualTo("refresh-cache");
        assertThat(lambda.toString()).matches("exec/task-\\d+");
        String[] viaExecute = new String[1];
        CountDownLatch done = new CountDownLatch(1);
        t.queue("plain").build().execute(() -> {
            viaExecute[0] = Work.current().name();
            done.countDown();
        });
        WorkQueueCoreTest.await(done);
        assertThat(viaExecute[0]).matches("plain/task-\\d+");
    }
}
