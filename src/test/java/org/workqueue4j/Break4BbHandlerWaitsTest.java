package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The uncaught-work handler told that an item's function threw runs on the item's worker as the
 * last part of the item's run (a flush of the item returns only after it). From there a wait for
 * that item or its queue would wait for itself: it is refused at once with an
 * IllegalStateException that says so (Work's and UncaughtWorkHandler's javadoc), never a hang;
 * cancel(), which does not wait, works.
 */
@Timeout(60)
class Break4BbHandlerWaitsTest {

    private static String refusal(Object r) {
        return r instanceof IllegalStateException e ? e.getMessage() : "not refused: " + r;
    }

    private Object probe(String what, Function<Work, Object> inHandler) throws Exception {
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
            assertTrue(handled.await(5, SECONDS), what + " called from the uncaught-work handler did not return within 5 s");
            return result.get();
        } finally {
            rt.close();
        }
    }

    @Test
    void flushFromTheHandlerIsRefused() throws Exception {
        assertTrue(refusal(probe("flush", Work::flush)).contains("handler of its failure"));
    }

    @Test
    void cancelSyncFromTheHandlerIsRefused() throws Exception {
        assertTrue(refusal(probe("cancelSync", Work::cancelSync)).contains("handler of its failure"));
    }

    @Test
    void disableSyncFromTheHandlerIsRefused() throws Exception {
        assertTrue(refusal(probe("disableSync", Work::disableSync)).contains("handler of its failure"));
    }

    @Test
    void cancelFromTheHandlerWorks() throws Exception {
        assertEquals(Boolean.FALSE, probe("cancel", Work::cancel), "cancel() from the handler: not pending");
    }

    @Test
    void queueFlushFromTheHandlerIsRefused() throws Exception {
        AtomicReference<Object> result = new AtomicReference<>();
        CountDownLatch handled = new CountDownLatch(1);
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2))
                .reportListener(s -> { })
                .uncaughtWorkHandler((q, w, e) -> {
                    try {
                        q.flush();
                        result.set("flushed");
                    } catch (Throwable t) {
                        result.set(t);
                    }
                    handled.countDown();
                }).build());
        try {
            WorkQueue q = rt.queueBuilder("hq").build();
            assertTrue(q.queue(new Work("thrower", () -> {
                throw new IllegalStateException("boom");
            })));
            assertTrue(handled.await(5, SECONDS), "WorkQueue.flush() from the handler did not return within 5 s");
            assertTrue(refusal(result.get()).contains("handler of its failure"), refusal(result.get()));
        } finally {
            rt.close();
        }
    }
}
