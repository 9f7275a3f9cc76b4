package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The executor views against the README's interop section and the JDK's ExecutorService javadoc. */
class BlackBoxExecutorViewTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    private static void awaitTrue(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(1);
        }
    }

    /** invokeAll(timeout): "Upon return, tasks that have not completed are cancelled"; a cancelled task never runs. */
    @Test
    void invokeAllTimingOutCancelsAndNeverRunsTheRest() throws Exception {
        WorkQueue q = t.queue("ord").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        ExecutorService es = q.asExecutorService();
        AtomicInteger ran = new AtomicInteger();
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            tasks.add(ran::incrementAndGet);
        }
        List<Future<Integer>> fs = es.invokeAll(tasks, 20, TimeUnit.MILLISECONDS);
        assertThat(fs).hasSize(10).allMatch(Future::isDone).allMatch(Future::isCancelled);
        release.countDown();
        q.flush();
        assertThat(ran.get()).isZero();
        es.shutdown();
        assertThat(es.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    }

    /** A view's shutdown concerns only its own tasks: it terminates while the queue's other item still runs. */
    @Test
    void aViewTerminatesWhileTheQueuesOtherItemsRun() throws Exception {
        WorkQueue q = t.queue("shared").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("other", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
        ExecutorService es = q.asExecutorService();
        assertThat(es.submit(() -> 7).get(20, TimeUnit.SECONDS)).isEqualTo(7);
        es.shutdown();
        assertThat(es.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
        assertThat(es.isTerminated()).isTrue();
        assertThatThrownBy(() -> es.submit(() -> 1)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> es.execute(null)).isInstanceOf(NullPointerException.class);
        // the queue itself still works and is not destroyed
        assertThat(q.isDestroyed()).isFalse();
        AtomicInteger r = new AtomicInteger();
        assertThat(q.queue(new Work("after", r::incrementAndGet))).isTrue();
        release.countDown();
        q.flush();
        assertThat(r.get()).isEqualTo(1);
    }

    /** shutdownNow returns exactly the tasks that never started; none of them starts afterwards. */
    @Test
    void shutdownNowReturnsTheWaitingTasksWhichNeverRun() throws Exception {
        WorkQueue q = t.queue("ord2").ordered().build();
        ExecutorService es = q.asExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        es.execute(() -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        });
        WorkQueueCoreTest.await(started);
        AtomicInteger ran = new AtomicInteger();
        List<Runnable> given = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Runnable r = ran::incrementAndGet;
            given.add(r);
            es.execute(r);
        }
        List<Future<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            futures.add(es.submit(ran::incrementAndGet));
        }
        List<Runnable> back = es.shutdownNow();
        assertThat(back).hasSize(10);
        assertThat(back).containsAll(given);
        assertThat(interrupted.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(es.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
        q.flush();
        assertThat(ran.get()).isZero();
        assertThat(futures).noneMatch(Future::isCancelled);
        assertThat(futures).noneMatch(Future::isDone);
    }

    /** An executor built by the builder owns its queue: destroyed once the executor has terminated. */
    @Test
    void anOwnedExecutorsQueueIsDestroyedAfterTermination() throws Exception {
        ExecutorService es = t.queue("owned").buildExecutorService();
        WorkQueue owned = t.rt.queues().stream().filter(x -> x.name().equals("owned")).findFirst().orElseThrow();
        CountDownLatch release = new CountDownLatch(1);
        Future<?> f = es.submit(() -> WorkQueueCoreTest.await(release));
        es.shutdown();
        assertThat(es.isTerminated()).isFalse();
        release.countDown();
        f.get(20, TimeUnit.SECONDS);
        assertThat(es.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
        awaitTrue(owned::isDestroyed, "owned queue destroyed after termination");
        assertThat(t.errors).isEmpty();
    }

    /** Scheduled view: after shutdown periodic tasks are cancelled, delayed one-shot tasks still run. */
    @Test
    void scheduledViewShutdownPolicies() throws Exception {
        WorkQueue q = t.queue("sched").build();
        ScheduledExecutorService ses = q.asScheduledExecutorService();
        AtomicInteger periodic = new AtomicInteger();
        CountDownLatch firstPeriod = new CountDownLatch(1);
        ScheduledFuture<?> p = ses.scheduleAtFixedRate(() -> {
            periodic.incrementAndGet();
            firstPeriod.countDown();
        }, 0, 1, TimeUnit.MILLISECONDS);
        assertThat(firstPeriod.await(20, TimeUnit.SECONDS)).isTrue();
        CountDownLatch oneShot = new CountDownLatch(1);
        ScheduledFuture<?> d = ses.schedule(oneShot::countDown, 30, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> neg = ses.schedule(() -> 5, -1, TimeUnit.DAYS);
        ses.shutdown();
        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.isCancelled()).isTrue();
        assertThat(d.isDone()).isTrue();
        assertThat(oneShot.getCount()).isZero();
        assertThat(neg.get()).isEqualTo(5);
        int after = periodic.get();
        q.flush();
        assertThat(periodic.get()).isEqualTo(after);
        assertThatThrownBy(() -> ses.schedule(() -> { }, 1, TimeUnit.SECONDS)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> q.asScheduledExecutorService().scheduleAtFixedRate(() -> { }, 1, 0, TimeUnit.SECONDS))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> q.asScheduledExecutorService().scheduleWithFixedDelay(() -> { }, 1, -1, TimeUnit.SECONDS))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** A periodic task that throws runs no more and its future holds the exception. */
    @Test
    void aThrowingPeriodicTaskStops() throws Exception {
        WorkQueue q = t.queue("sched2").build();
        ScheduledExecutorService ses = q.asScheduledExecutorService();
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> p = ses.scheduleWithFixedDelay(() -> {
            if (runs.incrementAndGet() == 3) {
                throw new IllegalStateException("third");
            }
        }, 0, 1, TimeUnit.MILLISECONDS);
        assertThatThrownBy(() -> p.get(20, TimeUnit.SECONDS))
                .isInstanceOf(java.util.concurrent.ExecutionException.class).hasRootCauseMessage("third");
        q.flush();
        assertThat(runs.get()).isEqualTo(3);
        ses.shutdown();
        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    }

    /** Queue destroyed under a view: the view's shutdown fails the futures of its stranded armed tasks. */
    @Test
    void aQueueDestroyedUnderAViewFailsItsArmedTasks() throws Exception {
        WorkQueue q = t.queue("doomed").build();
        ScheduledExecutorService ses = q.asScheduledExecutorService();
        ScheduledFuture<?> f = ses.schedule(() -> 1, 1, TimeUnit.HOURS);
        q.destroy();
        ses.shutdown();
        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
        assertThat(f.isDone()).isTrue();
        assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).isInstanceOf(java.util.concurrent.ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ses.submit(() -> 1)).isInstanceOf(RejectedExecutionException.class);
        Duration.ofSeconds(1);
    }
}
