package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The uncaught-work handler runs "on the worker that ran the item" after its function threw:
 * "the worker that ran the item lives on, and flushes waiting for the item complete as if it had
 * returned". Work.flush/cancelSync/disableSync document IllegalStateException only "if called from
 * this item's own function"; the handler is not the function, and for a delayed item's report the
 * handler javadoc says "flushing or cancelling it on the handler's own thread does not wait for
 * this report". A handler that waits for the item it is told about, on that worker, once the
 * function has ended: nothing is left to wait for.
 */
@Timeout(60)
class Break4BbHandlerWaitsTest {

    private String probe(String what, Function<Work, Object> inHandler) throws Exception {
        AtomicReference<Object> result = new AtomicReference<>();
        CountDownLatch handled = new CountDownLatch(1);
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2))
                .reportListener(s -> { })
                .uncaughtWorkHandler((q, w, e) -> {
                    try {
                        result.set(inHandler.apply(w));
                    } catch (Throwable t) {
                        result.set(t);
                    }
                    handled.countDown();
                }).build());
        try {
            WorkQueue q = rt.queueBuilder("hw-" + what).build();
            Work w = new Work("thrower", () -> {
                throw new IllegalStateException("boom");
            });
            assertTrue(q.queue(w));
            boolean done = handled.await(5, SECONDS);
            assertTrue(done, what + " called from the uncaught-work handler for the item that threw did not return within 5 s "
                    + "(the function had already ended; the handler waits for itself)");
            return String.valueOf(result.get());
        } finally {
            rt.close();
        }
    }

    @Test
    void flushFromTheHandler() throws Exception {
        String r = probe("flush", Work::flush);
        assertFalse(r.contains("Exception"), "Work.flush() from the handler: " + r);
    }

    @Test
    void cancelSyncFromTheHandler() throws Exception {
        String r = probe("cancelSync", Work::cancelSync);
        assertFalse(r.contains("Exception"), "Work.cancelSync() from the handler: " + r);
    }

    @Test
    void disableSyncFromTheHandler() throws Exception {
        String r = probe("disableSync", Work::disableSync);
        assertFalse(r.contains("Exception"), "Work.disableSync() from the handler: " + r);
    }

    /**
     * WorkQueue.flush(): "IllegalStateException if called from one of this queue's own items".
     * The handler is not an item; on the worker, after the item's function ended, a flush of the
     * item's queue has nothing left of this item to wait for.
     */
    @Test
    void queueFlushFromTheHandler() throws Exception {
        String r = probeQ("queueFlush", q -> {
            q.flush();
            return "flushed";
        });
        assertEquals("flushed", r, "WorkQueue.flush() of the item's queue from the uncaught-work handler: " + r);
    }

    private String probeQ(String what, Function<WorkQueue, Object> inHandler) throws Exception {
        AtomicReference<Object> result = new AtomicReference<>();
        CountDownLatch handled = new CountDownLatch(1);
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2))
                .reportListener(s -> { })
                .uncaughtWorkHandler((q, w, e) -> {
                    try {
                        result.set(inHandler.apply(q));
                    } catch (Throwable t) {
                        result.set(t);
                    }
                    handled.countDown();
                }).build());
        try {
            WorkQueue q = rt.queueBuilder("hq-" + what).build();
            assertTrue(q.queue(new Work("thrower", () -> {
                throw new IllegalStateException("boom");
            })));
            assertTrue(handled.await(5, SECONDS), what + " from the handler did not return within 5 s");
            return String.valueOf(result.get());
        } finally {
            rt.close();
        }
    }
}
