package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ExecutorCompletionService over an executor view: a submitted task cancelled before it starts.
 * With the JDK's executors the completion service's wrapper (QueueingFuture) still runs and puts
 * the cancelled future on the completion queue ("placed on the completion queue upon
 * completion"), so a caller that take()s once per submitted task gets every future. The view
 * binds the wrapper to the item and Future.cancel takes that item off the queue, so the
 * cancelled future never reaches the completion queue: take() waits for ever.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break4WbCompletionServiceCancelTest {
    private final TestRuntime t = new TestRuntime(2);

    @AfterEach
    void close() {
        t.close();
    }

    private static void cancelledTaskReachesTheCompletionQueue(ExecutorService ex, CountDownLatch gateRelease,
                                                               String what) throws Exception {
        ExecutorCompletionService<Integer> ecs = new ExecutorCompletionService<>(ex);
        Future<Integer> f = ecs.submit(() -> 1);
        assertTrue(f.cancel(false), what + ": cancelled before it started");
        gateRelease.countDown();
        Future<Integer> got = ecs.poll(10, TimeUnit.SECONDS);
        assertSame(f, got, what + ": expected the cancelled future on the completion queue (as a"
                + " ThreadPoolExecutor puts it there); actual: " + got + " after 10 s");
    }

    /** Control: what the JDK's own executor does. Passes. */
    @Test
    void threadPoolExecutorDeliversTheCancelledFuture() throws Exception {
        ExecutorService tpe = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch gateRelease = new CountDownLatch(1);
            CountDownLatch gateStarted = new CountDownLatch(1);
            tpe.execute(() -> {
                gateStarted.countDown();
                WorkQueueCoreTest.await(gateRelease);
            });
            assertTrue(gateStarted.await(10, TimeUnit.SECONDS));
            cancelledTaskReachesTheCompletionQueue(tpe, gateRelease, "ThreadPoolExecutor");
        } finally {
            tpe.shutdownNow();
        }
    }

    @Test
    void executorViewDeliversTheCancelledFuture() throws Exception {
        WorkQueue q = t.queue("ordered").ordered().build();
        CountDownLatch gateRelease = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, gateRelease); // the task waits behind the gate
        cancelledTaskReachesTheCompletionQueue(q.asExecutorService(), gateRelease, "executor view");
    }
}
