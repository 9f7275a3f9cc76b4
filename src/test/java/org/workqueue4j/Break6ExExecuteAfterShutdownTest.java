package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code execute(f)} of one of the view's own futures that is done (or still queued) returns
 * normally after {@code shutdown()}, or after the view's queue was destroyed: the "accepted
 * already, or over" shortcut in {@code WorkQueueExecutorService.execute} runs before the
 * shutdown check in {@code enqueue}.
 *
 * <p>Contract: the view's own {@code execute} javadoc "@throws RejectedExecutionException if
 * this view is shut down or its queue destroyed"; {@code ExecutorService.shutdown}: "no new
 * tasks will be accepted". A {@code ThreadPoolExecutor} rejects {@code execute} of any
 * runnable, its own futures included, once shut down.
 *
 * <p>Actual: no exception; the caller is told the runnable was accepted.
 */
@Timeout(60)
class Break6ExExecuteAfterShutdownTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    /** "rejected", or "accepted" if execute returned. */
    private static String executeOwnDoneFutureAfterShutdown(ExecutorService e) throws Exception {
        Future<?> f = e.submit(() -> "done");
        f.get(10, SECONDS);
        e.shutdown();
        try {
            e.execute((Runnable) f);
            return "accepted";
        } catch (RejectedExecutionException expected) {
            return "rejected";
        }
    }

    @Test
    void executeOfItsOwnFinishedFutureIsRejectedAfterShutdown() throws Exception {
        String reference = executeOwnDoneFutureAfterShutdown(Executors.newSingleThreadExecutor());
        assertThat(reference).isEqualTo("rejected");
        assertThat(executeOwnDoneFutureAfterShutdown(t.queue("v").unbound().build().asExecutorService()))
                .as("asExecutorService()").isEqualTo(reference);
    }

    @Test
    void executeOfItsOwnFinishedFutureIsRejectedOnceTheQueueIsDestroyed() throws Exception {
        WorkQueue q = t.queue("v").unbound().build();
        ExecutorService e = q.asExecutorService();
        Future<?> f = e.submit(() -> "done");
        f.get(10, SECONDS);
        q.destroy();
        String outcome;
        try {
            e.execute(() -> { });
            outcome = "accepted";
        } catch (RejectedExecutionException expected) {
            outcome = "rejected";
        }
        assertThat(outcome).as("a new runnable, queue destroyed").isEqualTo("rejected");
        try {
            e.execute((Runnable) f);
            outcome = "accepted";
        } catch (RejectedExecutionException expected) {
            outcome = "rejected";
        }
        assertThat(outcome).as("its own finished future, queue destroyed").isEqualTo("rejected");
    }
}
