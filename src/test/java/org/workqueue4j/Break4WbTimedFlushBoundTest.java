package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * WorkQueue.flush(Duration) "gives up after timeout" (and is interruptible). FlushColors.flipFor's
 * finally calls runAsyncWork(), which completes other callers' finished flushAsync() futures on
 * the flushing thread: their dependents (arbitrary user code) run inside the timed flush, before
 * it even starts its bounded wait, so neither the timeout nor an interrupt bounds the call. A
 * bounded flusher now hands them to the futures' default executor.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break4WbTimedFlushBoundTest {
    // No CPU-intensive / unmanaged-sleep marking: a blocked item keeps its worker counted running.
    private final TestRuntime t = new TestRuntime(2, b -> b.cpuIntensiveThreshold(Duration.ofDays(365 * 200)));

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void aTimedFlushDoesNotRunAnotherCallersFlushAsyncDependent() throws Exception {
        WorkQueue q = t.queue("q").build();
        WorkQueue other = t.queue("other").build();
        CountDownLatch xStarted = new CountDownLatch(1);
        CountDownLatch xRelease = new CountDownLatch(1);
        CountDownLatch yStarted = new CountDownLatch(1);
        CountDownLatch yRelease = new CountDownLatch(1);
        q.queueOn(0, new Work("X", () -> {
            xStarted.countDown();
            WorkQueueCoreTest.await(xRelease);
        }));
        assertTrue(xStarted.await(10, TimeUnit.SECONDS), "X started");
        // Y waits on CPU 0's worklist; the worker that ends X takes it next and blocks in it, so
        // the step that would complete A's future (queued behind Y) does not run yet.
        other.queueOn(0, new Work("Y", () -> {
            yStarted.countDown();
            WorkQueueCoreTest.await(yRelease);
        }));
        CountDownLatch depEntered = new CountDownLatch(1);
        CountDownLatch depRelease = new CountDownLatch(1);
        AtomicReference<Thread> depThread = new AtomicReference<>();
        CompletableFuture<Void> dep = q.flushAsync().thenRun(() -> { // caller A: this thread
            depThread.set(Thread.currentThread());
            depEntered.countDown();
            try {
                depRelease.await(30, TimeUnit.SECONDS); // user code that takes its time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        xRelease.countDown();
        assertTrue(yStarted.await(10, TimeUnit.SECONDS), "Y started (after X, on the same worker)");

        AtomicReference<Object> result = new AtomicReference<>();
        Thread b = new Thread(() -> {
            try {
                result.set(q.flush(Duration.ofMillis(50)));
            } catch (Throwable e) {
                result.set(e);
            }
        }, "timed-flusher");
        b.start();
        try {
            // B's flush(50 ms) times out (the step queued for A's future waits behind Y, and B's
            // colour covers it) and returns while A's dependent, which B's exit found to complete,
            // is still blocked in user code: it runs elsewhere, not inside B's bound.
            b.join(TimeUnit.SECONDS.toMillis(10));
            Thread ranOn = depThread.get();
            assertTrue(!b.isAlive(), "expected B's flush(50 ms) to return while caller A's flushAsync dependent"
                    + " still runs; actual: B is still in it, in the dependent: "
                    + (ranOn == b) + " (it ran on '" + (ranOn == null ? "" : ranOn.getName()) + "')");
            assertSame(Boolean.FALSE, result.get(), "B's flush timed out");
            assertTrue(depEntered.await(10, TimeUnit.SECONDS), "A's dependent ran (on the default executor)");
            assertNotSame(b, depThread.get(), "A's dependent ran on B's thread");
        } finally {
            depRelease.countDown();
            yRelease.countDown();
            b.join(TimeUnit.SECONDS.toMillis(20));
            dep.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anInterruptibleFlushHandsAnotherCallersFlushAsyncDependentOffToo() throws Exception {
        WorkQueue q = t.queue("q").build();
        CountDownLatch xStarted = new CountDownLatch(1);
        CountDownLatch xRelease = new CountDownLatch(1);
        q.queueOn(0, new Work("X", () -> {
            xStarted.countDown();
            WorkQueueCoreTest.await(xRelease);
        }));
        assertTrue(xStarted.await(10, TimeUnit.SECONDS), "X started");
        AtomicReference<Thread> depThread = new AtomicReference<>();
        CountDownLatch depEntered = new CountDownLatch(1);
        CountDownLatch depRelease = new CountDownLatch(1);
        // Caller A's future, registered while B holds the flip mutex, is flipped and finished by
        // B (nothing in flight after X ends) and found by B's exit.
        CountDownLatch atFlip = new CountDownLatch(1);
        CountDownLatch goFlip = new CountDownLatch(1);
        org.workqueue4j.internal.TestHooks.install((point, subject) -> {
            if (point.equals("flush.flip") && Thread.currentThread().getName().equals("interruptible-flusher")) {
                atFlip.countDown();
                WorkQueueCoreTest.await(goFlip);
            }
        });
        xRelease.countDown();
        q.flush(); // X done: nothing in flight
        AtomicReference<Object> result = new AtomicReference<>();
        Thread b = new Thread(() -> {
            try {
                q.flushInterruptibly();
                result.set("flushed");
            } catch (Throwable e) {
                result.set(e);
            }
        }, "interruptible-flusher");
        CompletableFuture<Void> dep;
        try {
            b.start();
            assertTrue(atFlip.await(10, TimeUnit.SECONDS), "B holds the flip mutex");
            dep = q.flushAsync().thenRun(() -> {
                depThread.set(Thread.currentThread());
                depEntered.countDown();
                WorkQueueCoreTest.await(depRelease);
            });
        } finally {
            org.workqueue4j.internal.TestHooks.install(null);
            goFlip.countDown();
        }
        try {
            b.join(TimeUnit.SECONDS.toMillis(10));
            assertTrue(!b.isAlive(), "expected B's flushInterruptibly() to return while A's dependent still runs;"
                    + " actual: B is still in it (dependent on B's thread: " + (depThread.get() == b) + ")");
            assertEquals("flushed", result.get());
            assertTrue(depEntered.await(10, TimeUnit.SECONDS), "A's dependent ran");
            assertNotSame(b, depThread.get(), "A's dependent ran on B's thread");
        } finally {
            depRelease.countDown();
            b.join(TimeUnit.SECONDS.toMillis(20));
        }
        dep.get(10, TimeUnit.SECONDS);
    }
}
