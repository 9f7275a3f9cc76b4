package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cancelling an ExecutorCompletionService-wrapped future before it started runs the wrapper on
 * the cancelling thread (WorkQueueExecutorService.ViewFuture.cancel), but only after takeBack's
 * finished(w) has let a shut-down view terminate: a ThreadPoolExecutor's worker runs the
 * cancelled task's wrapper before the pool terminates, so awaitTermination() returning true means
 * the completion queue holds every future.
 */
@Timeout(60)
class Break5EnCompletionServiceTest {
    private final TestRuntime t = new TestRuntime(2);

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void aCancelledWrappedFutureIsDeliveredBeforeTheViewTerminates() throws Exception {
        WorkQueue q = t.queue("ord").ordered().build();
        ExecutorService view = q.asExecutorService();
        AtomicReference<Boolean> terminatedAtDelivery = new AtomicReference<>();
        LinkedBlockingQueue<Future<String>> done = new LinkedBlockingQueue<>() {
            @Override
            public boolean add(Future<String> f) {
                terminatedAtDelivery.compareAndSet(null, view.isTerminated());
                return super.add(f);
            }
        };
        ExecutorCompletionService<String> ecs = new ExecutorCompletionService<>(view, done);
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release); // an item of the queue, not a task of the view
        Future<String> second;
        boolean cancelled;
        try {
            second = ecs.submit(() -> "second"); // waits behind the gate (ordered)
            view.shutdown();
            cancelled = second.cancel(false);
        } finally {
            release.countDown();
        }
        assertTrue(cancelled, "cancelled before it started");
        assertTrue(view.awaitTermination(10, SECONDS), "view terminated");
        assertEquals(Boolean.FALSE, terminatedAtDelivery.get(),
                "expected the cancelled future to reach the completion queue before the view terminated"
                        + " (as with a ThreadPoolExecutor); actual: terminated at delivery = " + terminatedAtDelivery.get());
        assertTrue(done.poll() == second, "second delivered once");
        assertTrue(done.isEmpty(), "delivered twice");
    }

    /**
     * The wrapper now runs inside cancel(): a completion queue that refuses the future (a full
     * bounded queue: AbstractQueue.add throws) makes cancel() itself throw, after it cancelled.
     * With a ThreadPoolExecutor that throw happens on the pool's worker, never in the caller's
     * cancel(), whose contract has no exception.
     */
    @Test
    void cancelDoesNotThrowWhenTheCompletionQueueRefuses() throws Exception {
        WorkQueue q = t.queue("ord2").ordered().build();
        ExecutorService view = q.asExecutorService();
        java.util.concurrent.ArrayBlockingQueue<Future<String>> full = new java.util.concurrent.ArrayBlockingQueue<>(1);
        full.add(new java.util.concurrent.CompletableFuture<>());
        ExecutorCompletionService<String> ecs = new ExecutorCompletionService<>(view, full);
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        Object outcome;
        Future<String> f;
        try {
            f = ecs.submit(() -> "x");
            try {
                outcome = f.cancel(false);
            } catch (Throwable e) {
                outcome = e;
            }
        } finally {
            release.countDown();
        }
        q.flush();
        assertEquals(Boolean.TRUE, outcome, "expected cancel(false) of a task that had not started to return true;"
                + " actual: " + outcome);
        assertTrue(f.isCancelled(), "cancelled");
        view.shutdown();
        assertTrue(view.awaitTermination(10, SECONDS), "terminated");
    }
}
