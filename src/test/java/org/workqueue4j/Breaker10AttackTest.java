package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.internal.WorkNode;

/**
 * Attacks on the scheduled view's "never runs" path (WorkNode.neverRuns: a destroy, a refused
 * expiry or an Error while firing tells the task that it will never run, and its future fails)
 * and on the worker creation's give-back of a claimed creation (WorkerPool.createWorker).
 * Every wait is bounded by {@link #LONG} seconds.
 */
class Breaker10AttackTest {
    private static final long LONG = 30;

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    /** An Error whose message cannot be had: getMessage() throws (as {@code ReportPathAttackTest.Indescribable}). */
    static final class IndescribableError extends Error {
        private static final long serialVersionUID = 1L;

        IndescribableError() {
            super((String) null, null, false, false);
        }

        @Override
        public String getMessage() {
            throw new IllegalStateException("no message");
        }
    }

    /*
     * An Error while the timer fires a task's item (test point timer.fire) whose message cannot
     * be had: the timer tells the task it never runs. TaskWork.neverRuns took the task
     * (WAITING -> TAKEN) and then built its future's failure from reason.getMessage(), which
     * threw: the future was never completed (get() timed out after 30 s), and nothing else ever
     * completes the future of a TAKEN task (failStranded only takes WAITING ones).
     */
    @Test
    void aTaskWhoseFiringFailsWithAnIndescribableErrorStillHasItsFutureFail() throws Exception {
        WorkQueue q = t.queue("b10-indescribable").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        AtomicInteger ran = new AtomicInteger();
        AtomicBoolean thrown = new AtomicBoolean();
        TestHooks.install((point, subject) -> {
            if (point.equals("timer.fire") && subject instanceof WorkNode n && n.name().equals("b10-doomed")
                    && thrown.compareAndSet(false, true)) {
                throw new IndescribableError();
            }
        });
        ScheduledFuture<?> f = e.schedule(ExecutorShutdownNowTest.named("b10-doomed", ran::incrementAndGet), 1, MILLISECONDS);
        assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class)
                .hasRootCauseInstanceOf(IndescribableError.class);
        assertThat(ran).hasValue(0);
        // The handler hears of the expiry after the future failed (on the timer thread).
        Awaitility.await().atMost(Duration.ofSeconds(LONG)).until(() -> !t.errors.isEmpty());
        assertThat(t.errors.get(0) instanceof IndescribableError).as("the handler heard of the refused expiry").isTrue();
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
    }
}
