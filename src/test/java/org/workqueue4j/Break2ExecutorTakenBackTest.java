package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.InjectedThrows.Injected;
import org.workqueue4j.internal.TestHooks;

/**
 * An executor view's task whose pending instance a cancel took back and then threw (an
 * asynchronous Error in the cancel's window, test point cancel.grabbed): README faults table,
 * "The taken instance is reported to the uncaught-work handler with what was thrown (an executor
 * task's future fails) ... the item is idle and usable".
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break2ExecutorTakenBackTest {
    private final TestRuntime t = new TestRuntime(2);

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    /**
     * shutdownNow takes a scheduled task (it would return it in its list) and its item cancel
     * throws in the window after the grab: the call throws, so no list reaches the caller; the
     * instance is reported to the handler, and its future must then fail (README faults table:
     * "The taken instance is reported to the uncaught-work handler with what was thrown (an
     * executor task's future fails)"), or a get() on it waits for ever.
     *
     * <p>Fails: the instance is reported, the future is never completed (TaskWork.neverRuns
     * skips a task already TAKEN by the throwing shutdownNow: "its owner finishes it").
     */
    @Test
    void aScheduledTaskTakenBackByAThrowingShutdownNowEndsAndTheViewTerminates() throws Exception {
        WorkQueue q = t.queue("ses").build();
        ScheduledExecutorService ses = q.asScheduledExecutorService();
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = ses.schedule(runs::incrementAndGet, 1, TimeUnit.HOURS);
        AtomicBoolean armed = InjectedThrows.throwOnceAt("cancel.grabbed");
        Throwable thrown = null;
        try {
            ses.shutdownNow();
        } catch (Injected e) {
            thrown = e;
        }
        TestHooks.install(null);
        assertThat(armed).as("the point was reached").isFalse();
        assertThat(thrown).as("the Error reached the caller").isNotNull();
        assertThat(t.errorWork).as("the taken instance is reported once").hasSize(1);
        ses.shutdownNow();
        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).as("view terminates").isTrue();
        assertThat(runs.get()).isZero();
        assertThat(f.isDone()).as("the future of the reported task (reports %s) is done", t.errorWork).isTrue();
        assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).as("its get() fails")
                .isInstanceOfAny(java.util.concurrent.ExecutionException.class, java.util.concurrent.CancellationException.class);
    }

    /** future.cancel() whose item cancel throws in its window: the future is done, once. */
    @Test
    void aScheduledTaskWhoseCancelThrowsIsDoneAndReportedOnce() throws Exception {
        WorkQueue q = t.queue("ses2").build();
        ScheduledExecutorService ses = q.asScheduledExecutorService();
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = ses.schedule(runs::incrementAndGet, 1, TimeUnit.HOURS);
        AtomicBoolean armed = InjectedThrows.throwOnceAt("cancel.grabbed");
        try {
            f.cancel(false);
        } catch (Injected e) {
            // the asynchronous Error reaches the caller
        }
        TestHooks.install(null);
        assertThat(armed).isFalse();
        assertThat(f.isDone()).isTrue();
        assertThat(t.errorWork).as("reported once at most").hasSizeLessThanOrEqualTo(1);
        ses.shutdown();
        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).as("view terminates").isTrue();
        assertThat(runs.get()).isZero();
    }

    /** A periodic task: its own re-arm after a run is not hurt by the change. */
    @Test
    void aPeriodicTaskCancelledWithAThrowEnds() throws Exception {
        WorkQueue q = t.queue("ses3").build();
        ScheduledExecutorService ses = q.asScheduledExecutorService();
        CountDownLatch ran = new CountDownLatch(2);
        ScheduledFuture<?> f = ses.scheduleWithFixedDelay(ran::countDown, 0, 1, TimeUnit.MILLISECONDS);
        assertThat(ran.await(20, TimeUnit.SECONDS)).isTrue();
        AtomicBoolean armed = InjectedThrows.throwOnceAt("cancel.grabbed");
        try {
            f.cancel(false);
        } catch (Injected e) {
            // ok
        }
        TestHooks.install(null);
        assertThat(f.isDone()).isTrue();
        ses.shutdown();
        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).as("view terminates (armed %s, reports %s)", armed, t.errorWork).isTrue();
    }
}
