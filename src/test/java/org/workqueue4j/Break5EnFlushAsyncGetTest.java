package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A queue's flushAsync() future refuses get()/join() from any item of the queue
 * (WaitRecordingFuture.recordWait -> WorkqueueStruct.annotateAndRefuseSelfWait), whatever the
 * flush covers: an item queued after the flushAsync() call is no part of that flush, so its wait
 * cannot wait for itself; and a get with a zero timeout never waits at all.
 */
@Timeout(60)
class Break5EnFlushAsyncGetTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.cpuIntensiveThreshold(Duration.ofDays(365 * 200)));

    @AfterEach
    void close() {
        t.close();
    }

    private CompletableFuture<Void> pendingFlush(WorkQueue q, CountDownLatch releaseB) {
        CountDownLatch bStarted = new CountDownLatch(1);
        q.queueOn(0, new Work("B", () -> {
            bStarted.countDown();
            WorkQueueCoreTest.await(releaseB);
        }));
        WorkQueueCoreTest.await(bStarted);
        CompletableFuture<Void> f = q.flushAsync(); // covers B only
        assertFalse(f.isDone(), "the flush waits for B");
        return f;
    }

    @Test
    void anItemQueuedAfterFlushAsyncMayWaitOnItsFuture() throws Exception {
        WorkQueue q = t.queue("q").maxActive(4).build();
        CountDownLatch releaseB = new CountDownLatch(1);
        CompletableFuture<Void> f = pendingFlush(q, releaseB);
        AtomicReference<Object> outcome = new AtomicReference<>();
        CountDownLatch aWaiting = new CountDownLatch(1);
        CountDownLatch aDone = new CountDownLatch(1);
        q.queueOn(1, new Work("A", () -> { // queued after the flushAsync() call: not covered by it
            aWaiting.countDown();
            try {
                f.get(20, SECONDS);
                outcome.set("completed");
            } catch (Throwable e) {
                outcome.set(e);
            } finally {
                aDone.countDown();
            }
        }));
        assertTrue(aWaiting.await(10, SECONDS), "A started");
        releaseB.countDown();
        assertTrue(aDone.await(30, SECONDS), "A ended");
        assertEquals("completed", String.valueOf(outcome.get()),
                "expected A (queued after flushAsync(), so not covered by that flush) to wait for the future"
                        + " and see it complete once B ended; actual: " + outcome.get());
    }

    @Test
    void aZeroTimeoutGetFromAnItemDoesNotWaitSoIsNotRefused() throws Exception {
        WorkQueue q = t.queue("q0").maxActive(4).build();
        CountDownLatch releaseB = new CountDownLatch(1);
        CompletableFuture<Void> f = pendingFlush(q, releaseB);
        AtomicReference<Object> outcome = new AtomicReference<>();
        CountDownLatch aDone = new CountDownLatch(1);
        q.queueOn(1, new Work("A0", () -> {
            try {
                f.get(0, SECONDS); // a poll: FutureTask/CompletableFuture contract: TimeoutException if not done
                outcome.set("completed");
            } catch (Throwable e) {
                outcome.set(e);
            } finally {
                aDone.countDown();
            }
        }));
        assertTrue(aDone.await(10, SECONDS), "A0 ended");
        releaseB.countDown();
        f.get(10, SECONDS);
        assertTrue(outcome.get() instanceof TimeoutException,
                "expected get(0, SECONDS) of a not-yet-complete future to throw TimeoutException (it never waits);"
                        + " actual: " + outcome.get());
    }
}
