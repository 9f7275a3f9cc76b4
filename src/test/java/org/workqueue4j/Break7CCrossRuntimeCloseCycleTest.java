package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two runtimes A and B closed at once on two threads; each one's uncaught-work handler, told on
 * its closing thread of an armed delayed item at the destroy ("on the thread calling ...
 * {@code close()}"), closes the other runtime (an application's "fatal: shut everything down").
 *
 * <p>Expected ({@code WorkQueues.close()} javadoc: close works "all within the configured close
 * timeout" and "returns normally, so that a shutdown hook cannot hang"; README faults row
 * "close() called again on the thread running close()": a nested close that would wait for
 * itself is refused with {@code IllegalStateException} and "the outer close() goes on and
 * returns within its timeout"): both {@code close()} calls return within their 2 s timeout (plus
 * slack), the nested ones refused or returning.
 *
 * <p>Actual: both closing threads hang for good. Thread closeA is in A's handler, in
 * {@code B.close()} → {@code awaitClosed()} (unbounded) waiting for B's close, whose thread
 * closeB is in B's handler, in {@code A.close()} → {@code awaitClosed()} waiting for A's close.
 * 1b54e7e refuses only a nested close of the same runtime on its closing thread
 * ({@code closingThread == currentThread}); the second close()'s wait for the first is
 * unbounded and not interruptible by close's own deadline, so the cycle through another
 * runtime is never broken. Not introduced by the two changes; the case their refusal does not
 * cover. Fails at 1b54e7e (5 runs of 5) and at 7d91e45^.
 */
@Timeout(60)
class Break7CCrossRuntimeCloseCycleTest {
    @Test
    void twoRuntimesWhoseHandlersCloseEachOtherBothReturnWithinTheirTimeout() throws Exception {
        AtomicReference<WorkQueues> a = new AtomicReference<>();
        AtomicReference<WorkQueues> b = new AtomicReference<>();
        CountDownLatch bothReported = new CountDownLatch(2);
        List<Throwable> nested = new CopyOnWriteArrayList<>();
        WorkQueues ra = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2)).name("A")
                .uncaughtWorkHandler((q, w, e) -> closeOther(bothReported, b, nested)).build());
        WorkQueues rb = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2)).name("B")
                .uncaughtWorkHandler((q, w, e) -> closeOther(bothReported, a, nested)).build());
        a.set(ra);
        b.set(rb);
        assertTrue(ra.queueBuilder("qa").build().queueDelayed(new DelayedWork("armedA", () -> { }), Duration.ofHours(1)));
        assertTrue(rb.queueBuilder("qb").build().queueDelayed(new DelayedWork("armedB", () -> { }), Duration.ofHours(1)));
        Thread ta = new Thread(ra::close, "closeA");
        Thread tb = new Thread(rb::close, "closeB");
        ta.setDaemon(true); // they hang for good when the defect is present
        tb.setDaemon(true);
        ta.start();
        tb.start();
        ta.join(10_000);
        tb.join(2_000);
        String where = "\ncloseA:" + stack(ta) + "\ncloseB:" + stack(tb);
        assertAll(
            () -> assertFalse(ta.isAlive(), "A.close() (timeout 2 s) still running 10 s later" + where),
            () -> assertFalse(tb.isAlive(), "B.close() (timeout 2 s) still running 10 s later" + where));
    }

    /** The handler, on one runtime's closing thread: once both are closing, closes the other. */
    private static void closeOther(CountDownLatch bothReported, AtomicReference<WorkQueues> other, List<Throwable> nested) {
        bothReported.countDown();
        try {
            bothReported.await();
            other.get().close();
        } catch (Throwable x) {
            nested.add(x); // a refusal is fine
        }
    }

    private static String stack(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
