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
 * arming.
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
