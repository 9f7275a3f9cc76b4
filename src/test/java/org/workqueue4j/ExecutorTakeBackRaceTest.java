package org.workqueue4j;

import static java.util.concurrent.TimeUnit.HOURS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * A task taken back (by {@code Future.cancel}, {@code shutdown} or {@code shutdownNow}) while
 * another thread is about to arm its item: the taker cancels the item before the arming, so the
 * item must not stay armed afterwards (it would hold the task on the timer for its whole delay,
 * and a destroy of the queue would report it as abandoned delayed work). Each interleaving is
 * replayed with a test hook that holds the arming thread between its decision to arm and the
 * arming. {@link #aFutureExecutedTwiceAtOnceRunsOnceAndLetsTheViewTerminate} is a check-then-act of
 * the same kind: two execute() calls of one future.
 */
class ExecutorTakeBackRaceTest {
    private static final long LONG = 30;

    private final TestRuntime t = new TestRuntime();
    private final CountDownLatch atPoint = new CountDownLatch(1);
    private final CountDownLatch go = new CountDownLatch(1);

    @AfterEach
    void close() {
        TestHooks.install(null);
        go.countDown();
        t.close();
    }

    /** Holds the first thread that passes {@code point} until {@link #go}. */
    private void holdAt(String point) {
        AtomicBoolean once = new AtomicBoolean(true);
        TestHooks.install((p, subject) -> {
            if (p.equals(point) && once.compareAndSet(true, false)) {
                atPoint.countDown();
                WorkQueueCoreTest.await(go);
            }
        });
    }

    private static Work itemOf(Object future) {
        return ((WorkQueueExecutorService.ViewFuture<?>) future).work;
    }

    /** After the view terminated: its item is off the timer, and destroying the queue reports nothing. */
    private void assertNothingLeftArmed(WorkQueue q, ScheduledExecutorService e, Object future) throws Exception {
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
        q.flush(); // the worker (or the scheduling thread) is past the arming
        assertThat(itemOf(future).isPending()).as("the item of a task taken back is still armed").isFalse();
        q.destroy();
        assertThat(t.errors).as("destroy found delayed work left armed").isEmpty();
    }

    @Test
    void aPeriodicTaskCancelledWhileItsWorkerReArmsItIsNotLeftArmed() throws Exception {
        WorkQueue q = t.queue("rearm-cancel").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        holdAt("executor.rearm");
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = e.scheduleWithFixedDelay(runs::incrementAndGet, 0, 1, HOURS);
        WorkQueueCoreTest.await(atPoint); // the first run ended; the worker decided to re-arm
        assertThat(f.cancel(false)).isTrue();
        go.countDown();
        e.shutdown();
        assertNothingLeftArmed(q, e, f);
        assertThat(runs).hasValue(1);
    }

    @Test
    void aPeriodicTaskTakenByShutdownWhileItsWorkerReArmsItIsNotLeftArmed() throws Exception {
        WorkQueue q = t.queue("rearm-shutdown").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        holdAt("executor.rearm");
        ScheduledFuture<?> f = e.scheduleAtFixedRate(() -> { }, 0, 1, HOURS);
        WorkQueueCoreTest.await(atPoint); // read `shutdown` as false, about to arm
        e.shutdown();
        assertThat(f.isCancelled()).isTrue();
        go.countDown();
        assertNothingLeftArmed(q, e, f);
    }

    /**
     * shutdownNow() takes a periodic task while its worker is between the end of a run and the
     * re-arm (the worker read `shutdown` as false): it returns the future uncancelled, and the
     * task stays so; the caller can run it (its next period runs). Before (README faults table):
     * the worker, reading `shutdown` again, then cancelled the future shutdownNow() had handed
     * back, so running it did nothing.
     */
    @Test
    void aPeriodicTaskReturnedByShutdownNowWhileItsWorkerReArmsItIsNotCancelledAfterwards() throws Exception {
        WorkQueue q = t.queue("rearm-shutdown-now").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        holdAt("executor.rearm");
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = e.scheduleAtFixedRate(runs::incrementAndGet, 0, 1, HOURS);
        WorkQueueCoreTest.await(atPoint); // first run over; the worker read `shutdown` as false, about to re-arm
        List<Runnable> never = e.shutdownNow();
        assertThat(never).as("the periodic task, waiting for its next period, never started it").hasSize(1);
        assertThat((Object) never.get(0)).isSameAs(f);
        assertThat(f.isCancelled()).as("returned uncancelled").isFalse();
        go.countDown();
        assertNothingLeftArmed(q, e, f);
        assertThat(f.isCancelled()).as("a task that shutdownNow() returned, cancelled afterwards by the view").isFalse();
        never.get(0).run(); // the caller runs the returned task, as the shutdownNow contract allows
        assertThat(runs).as("running the returned periodic task runs its next period").hasValue(2);
    }

    /**
     * execute() of a future of this view that another thread executes at the same time: the
     * second call's "accepted already, or over?" check ran before the first accepted it, and it
     * accepts the task once the first run has ended. The task must not be counted live again
     * (it would never run, the view would never terminate).
     */
    @Test
    void aFutureExecutedTwiceAtOnceRunsOnceAndLetsTheViewTerminate() throws Exception {
        WorkQueue q = t.queue("execute-twice").build();
        java.util.concurrent.ExecutorService e = q.asExecutorService();
        AtomicInteger runs = new AtomicInteger();
        java.util.concurrent.RunnableFuture<Integer> f = ((WorkQueueExecutorService) e).newTaskFor(runs::incrementAndGet);
        holdAt("executor.enqueue");
        Thread second = new Thread(() -> e.execute(f), "second-execute");
        second.start();
        WorkQueueCoreTest.await(atPoint); // past its check, not yet accepted
        e.execute(f); // the hook is spent: this one goes through
        assertThat(f.get(LONG, SECONDS)).isEqualTo(1);
        go.countDown();
        second.join(SECONDS.toMillis(LONG));
        assertThat(second.isAlive()).isFalse();
        q.flush();
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).as("terminated: the task is not counted live twice").isTrue();
        assertThat(runs).hasValue(1);
    }

    @Test
    void aDelayedTaskReturnedByShutdownNowBeforeItsScheduleArmedItIsNotLeftArmed() throws Exception {
        WorkQueue q = t.queue("accept-shutdown-now").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        holdAt("executor.accepted");
        AtomicReference<ScheduledFuture<?>> scheduled = new AtomicReference<>();
        AtomicInteger runs = new AtomicInteger();
        Thread scheduler = new Thread(() -> scheduled.set(e.schedule(runs::incrementAndGet, 1, HOURS)), "scheduler");
        scheduler.start();
        WorkQueueCoreTest.await(atPoint); // accepted (counted live), not yet armed
        List<Runnable> never = e.shutdownNow();
        assertThat(never).hasSize(1);
        go.countDown();
        scheduler.join(SECONDS.toMillis(LONG));
        assertThat(scheduler.isAlive()).isFalse();
        assertThat((Object) scheduled.get()).as("schedule returned the task shutdownNow returned").isSameAs(never.get(0));
        assertNothingLeftArmed(q, e, never.get(0));
        assertThat(runs).hasValue(0);
    }
}
