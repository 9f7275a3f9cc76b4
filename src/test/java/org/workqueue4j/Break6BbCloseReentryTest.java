package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code close()} called again, on the closing thread, from the user code that the first
 * {@code close()} itself runs there: the uncaught-work handler told about a delayed item still
 * armed at close (the handler's javadoc: "for delayed items still armed when their queue is
 * destroyed, on the thread calling {@code destroy()} or {@code close()}"), or the report
 * listener given close's own timeout report.
 *
 * <p>Expected (README "Lifecycle and operations": close works "all within closeTimeout ... and
 * returns normally: a shutdown hook cannot hang"; {@code WorkQueues.close()} javadoc: a call on
 * the runtime's own threads "would wait for itself" and is refused with
 * {@code IllegalStateException}, a second call "after that returns at once"): the nested call
 * is refused or returns, and the outer {@code close()} returns within its timeout.
 *
 * <p>Actual: the nested {@code close()} is neither refused nor returns: it waits in
 * {@code awaitClosed()} for the outer {@code close()}, which waits for the handler (or listener)
 * to return. The closing thread hangs for good, far past the 2 s close timeout.
 */
@Timeout(60)
class Break6BbCloseReentryTest {

    private static Thread closeOnNewThread(WorkQueues rt, List<Throwable> thrown) {
        Thread closer = new Thread(() -> {
            try {
                rt.close();
            } catch (Throwable e) {
                thrown.add(e);
            }
        }, "closer");
        closer.setDaemon(true); // it hangs for good when the defect is present
        closer.start();
        return closer;
    }

    @Test
    void handlerToldOfAnArmedItemAtCloseCallsCloseAgain() throws Exception {
        AtomicReference<WorkQueues> ref = new AtomicReference<>();
        List<Throwable> nested = new CopyOnWriteArrayList<>();
        CountDownLatch handlerCalled = new CountDownLatch(1);
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2))
                .uncaughtWorkHandler((q, w, e) -> {
                    handlerCalled.countDown();
                    try {
                        ref.get().close();
                    } catch (Throwable x) {
                        nested.add(x); // a refusal is fine
                    }
                }).build());
        ref.set(rt);
        WorkQueue q = rt.queueBuilder("q").build();
        assertTrue(q.queueDelayed(new DelayedWork("armed", () -> { }), Duration.ofHours(1)));
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        Thread closer = closeOnNewThread(rt, thrown);
        assertTrue(handlerCalled.await(10, SECONDS), "the armed item is reported at close");
        closer.join(8_000);
        assertFalse(closer.isAlive(), "close() (timeout 2 s) still running after 8 s: its handler's nested close() "
                + "waits for it, and it waits for the handler; closer at " + stack(closer));
    }

    @Test
    void reportListenerGivenTheCloseTimeoutReportCallsCloseAgain() throws Exception {
        AtomicReference<WorkQueues> ref = new AtomicReference<>();
        CountDownLatch listenerOnCloser = new CountDownLatch(1);
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofMillis(300))
                .reportListener(s -> {
                    if (Thread.currentThread().getName().equals("closer")) {
                        listenerOnCloser.countDown();
                        try {
                            ref.get().close();
                        } catch (Throwable x) {
                            // a refusal is fine
                        }
                    }
                }).build());
        ref.set(rt);
        WorkQueue q = rt.queueBuilder("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        assertTrue(q.queue(new Work("stuck", () -> {
            started.countDown();
            try {
                never.await(20, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })));
        assertTrue(started.await(10, SECONDS));
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        Thread closer = closeOnNewThread(rt, thrown);
        assertTrue(listenerOnCloser.await(10, SECONDS), "close's timeout report reaches the listener on the closing thread");
        closer.join(8_000);
        never.countDown();
        assertFalse(closer.isAlive(), "close() (timeout 300 ms) still running after 8 s: its report listener's nested "
                + "close() waits for it; closer at " + stack(closer));
    }

    private static String stack(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
