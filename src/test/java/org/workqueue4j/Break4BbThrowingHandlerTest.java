package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * UncaughtWorkHandler: "If the handler throws, its failure is logged with the report it was given
 * [...] Nothing the handler does stops the engine's work."
 */
@Timeout(60)
class Break4BbThrowingHandlerTest {
    private static WorkQueues rt(List<String> seen, Throwable toThrow) {
        return WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(5))
                .uncaughtWorkHandler((q, w, e) -> {
                    seen.add(w == null ? "null" : w.name());
                    if (toThrow instanceof RuntimeException re) {
                        throw re;
                    }
                    throw (Error) toThrow;
                }).build());
    }

    private void destroyReportsAll(Throwable toThrow) throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        WorkQueues rt = rt(seen, toThrow);
        try {
            WorkQueue q = rt.queueBuilder("dq").build();
            for (int i = 0; i < 5; i++) {
                assertTrue(q.queueDelayed(new DelayedWork("armed" + i, () -> { }), Duration.ofHours(1)));
            }
            q.destroy();
            assertEquals(5, seen.size(), "handler throwing " + toThrow + ": every armed item is still reported: " + seen);
            // a function that throws: the worker lives on, the next item runs
            WorkQueue q2 = rt.queueBuilder("fq").ordered().build();
            AtomicInteger ok = new AtomicInteger();
            for (int i = 0; i < 5; i++) {
                assertTrue(q2.queue(new Work("boom" + i, () -> {
                    throw new IllegalStateException("boom");
                })));
                assertTrue(q2.queue(new Work("ok" + i, ok::incrementAndGet)));
            }
            assertTrue(q2.flush(Duration.ofSeconds(10)), "flush completes although the handler throws");
            assertEquals(5, ok.get());
            assertEquals(10, seen.size(), "" + seen);
            // close() with armed items on two queues
            WorkQueue q3 = rt.queueBuilder("cq1").build();
            WorkQueue q4 = rt.queueBuilder("cq2").unbound().build();
            for (int i = 0; i < 3; i++) {
                assertTrue(q3.queueDelayed(new DelayedWork("c3-" + i, () -> { }), Duration.ofHours(1)));
                assertTrue(q4.queueDelayed(new DelayedWork("c4-" + i, () -> { }), Duration.ofHours(1)));
            }
        } finally {
            rt.close();
        }
        assertEquals(16, seen.size(), "close() reports every armed item although the handler throws: " + seen);
    }

    @Test
    void handlerThrowingRuntimeException() throws Exception {
        destroyReportsAll(new IllegalArgumentException("handler fails"));
    }

    @Test
    void handlerThrowingError() throws Exception {
        destroyReportsAll(new OutOfMemoryError("handler fails (made)"));
    }

    @Test
    void handlerThrowingStackOverflowError() throws Exception {
        destroyReportsAll(new StackOverflowError("handler fails (made)"));
    }

    /** The scheduled view: a destroyed queue's armed tasks' futures fail even if the handler throws. */
    @Test
    void armedTasksFuturesFailAtDestroyEvenIfTheHandlerThrows() throws Exception {
        armedTasks(new OutOfMemoryError("made"));
    }

    @Test
    void armedTasksFuturesFailAtDestroyWithAQuietHandler() throws Exception {
        armedTasks(null);
    }

    private void armedTasks(Throwable toThrow) throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        WorkQueues rt = toThrow == null
                ? WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(5))
                        .uncaughtWorkHandler((q, w, e) -> seen.add(w == null ? "null" : w.name())).build())
                : rt(seen, toThrow);
        try {
            WorkQueue q = rt.queueBuilder("sv").build();
            ScheduledExecutorService ses = q.asScheduledExecutorService();
            List<ScheduledFuture<?>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(ses.schedule(() -> { }, 1, TimeUnit.HOURS));
            }
            fs.add(ses.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.HOURS));
            q.destroy();
            ses.shutdown();
            for (Future<?> f : fs) {
                assertTrue(f.isDone(), "a stranded task's future must be done after destroy (+shutdown): " + f);
                assertThrows(ExecutionException.class, () -> f.get(1, SECONDS));
            }
            assertTrue(ses.awaitTermination(10, SECONDS),
                    "the view's shutdown() after its queue was destroyed with its tasks armed: every future is done, "
                            + "yet awaitTermination(10 s) is false (isTerminated=" + ses.isTerminated() + ", handler throws: " + toThrow + ")");
        } finally {
            rt.close();
        }
    }
}
