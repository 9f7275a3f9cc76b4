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

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * shutdownNow() that takes a periodic task while its worker is between "run ended" and the
 * re-arm (the worker has set the task WAITING again and read `shutdown` as false): shutdownNow
 * returns the task's future. Before (README faults table), the worker, reading `shutdown` again
 * in afterRun, then cancelled that future: the task handed back to the caller was dead (running
 * it did nothing, and it reported isCancelled()), although shutdownNow's own javadoc and the README say
 * "shutdownNow() returns periodic and delayed tasks uncancelled" (as ScheduledThreadPoolExecutor,
 * whose shutdownNow returns the queued periodic tasks untouched).
 *
 * Correct behaviour: a task returned by shutdownNow() is not cancelled afterwards by the view;
 * the caller can run it (the next period runs).
 */
@Timeout(60)
class Break12ExShutdownNowRearmTest {
    private final TestRuntime t = new TestRuntime();
    private final CountDownLatch atPoint = new CountDownLatch(1);
    private final CountDownLatch go = new CountDownLatch(1);

    @AfterEach
    void close() {
        TestHooks.install(null);
        go.countDown();
        t.close();
    }

    @Test
    void aPeriodicTaskReturnedByShutdownNowIsNotCancelledAfterwards() throws Exception {
        AtomicBoolean once = new AtomicBoolean(true);
        TestHooks.install((p, subject) -> {
            if (p.equals("executor.rearm") && once.compareAndSet(true, false)) {
                atPoint.countDown();
                WorkQueueCoreTest.await(go);
            }
        });
        WorkQueue q = t.queue("rearm-shutdown-now").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = e.scheduleAtFixedRate(runs::incrementAndGet, 0, 1, HOURS);
        WorkQueueCoreTest.await(atPoint); // first run over; worker read shutdown == false, about to re-arm
        List<Runnable> never = e.shutdownNow();
        assertThat(never).as("the periodic task, waiting for its next period, never started it").hasSize(1);
        assertThat((Object) never.get(0)).isSameAs(f);
        assertThat(f.isCancelled()).as("returned uncancelled at first").isFalse();
        go.countDown();
        assertThat(e.awaitTermination(30, SECONDS)).isTrue();
        q.flush(); // the worker is past afterRun
        assertThat(f.isCancelled()).as("a task that shutdownNow() returned to the caller was cancelled afterwards by the view").isFalse();
        never.get(0).run(); // the caller runs the returned task, as the shutdownNow contract allows
        assertThat(runs).as("running the returned periodic task runs its next period").hasValue(2);
    }
}
