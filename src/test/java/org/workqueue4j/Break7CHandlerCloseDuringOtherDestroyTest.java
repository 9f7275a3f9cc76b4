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
 * {@code close()} waiting (change 7d91e45) for another thread's {@code destroy()} of a queue,
 * while that destroy's thread is in the uncaught-work handler, told of the queue's armed delayed
 * item ("for delayed items still armed when their queue is destroyed, on the thread calling
 * {@code destroy()}"), and the handler calls {@code close()} of the runtime.
 *
 * <p>Steps: queue q has one armed delayed item and nothing else; thread "destroyer" calls
 * {@code q.destroy()}; its handler report is held until thread "closer" has called
 * {@code rt.close()} and parked; then the handler calls {@code rt.close()}. No work item runs at
 * any point.
 *
 * <p>Expected (README faults row "close() called again on the thread running close()": a
 * nested close that "would wait for itself" is refused with {@code IllegalStateException} and
 * the outer {@code close()} "goes on and returns within its timeout"; row "close() while
 * another thread's destroy() of a queue runs": close "waits for that destroy as for its own";
 * {@code WorkQueues.close()} javadoc: "so that a shutdown hook cannot hang"): the handler's
 * close() is refused (or returns), the destroy ends, and the outer close() returns at once:
 * nothing is running, nothing needs the timeout.
 *
 * <p>Actual: a wait cycle. The outer close() waits in {@code awaitOtherDestroyUntil} for the
 * destroyer's destroy; the destroyer waits in {@code awaitClosed()} (the handler's close()) for
 * the outer close(). With the default 10 s closeTimeout the outer close() takes the whole 10 s
 * and reports "timed out after PT10S (closeTimeout); interrupting 0 worker(s) still running
 * items"; with a "forever" closeTimeout (100 years or more, allowed by the builder) both threads
 * hang for good. Before 7d91e45 close() passed over q and returned at once. The refusal added
 * in 1b54e7e covers only the closing thread itself, not a thread close() now waits for.
 *
 * <p>Regression of 7d91e45: with {@code WorkqueueStruct.java} and {@code WorkQueues.java} of
 * 7d91e45^ both methods pass (verified); at 1b54e7e both fail, 5 runs of 5.
 */
@Timeout(60)
class Break7CHandlerCloseDuringOtherDestroyTest {

    private static final class Run {
        final Thread closer;
        final Thread destroyer;
        final List<String> reports;
        final List<Throwable> nested;

        Run(Thread closer, Thread destroyer, List<String> reports, List<Throwable> nested) {
            this.closer = closer;
            this.destroyer = destroyer;
            this.reports = reports;
            this.nested = nested;
        }
    }

    private static Run start(Duration closeTimeout) throws Exception {
        AtomicReference<WorkQueues> ref = new AtomicReference<>();
        AtomicReference<Thread> closerRef = new AtomicReference<>();
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch closerParked = new CountDownLatch(1);
        List<Throwable> nested = new CopyOnWriteArrayList<>();
        List<String> reports = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(closeTimeout)
                .reportListener(reports::add)
                .uncaughtWorkHandler((q, w, e) -> {
                    if (!Thread.currentThread().getName().equals("destroyer")) {
                        return;
                    }
                    inHandler.countDown();
                    try {
                        closerParked.await();
                        ref.get().close();
                    } catch (Throwable x) {
                        nested.add(x); // a refusal is fine
                    }
                }).build());
        ref.set(rt);
        WorkQueue q = rt.queueBuilder("q").build();
        assertTrue(q.queueDelayed(new DelayedWork("armed", () -> { }), Duration.ofHours(1)));
        Thread destroyer = new Thread(q::destroy, "destroyer");
        destroyer.setDaemon(true); // hangs for good when the defect is present
        destroyer.start();
        assertTrue(inHandler.await(10, SECONDS), "the armed item is reported to the handler on the destroyer");
        Thread closer = new Thread(rt::close, "closer");
        closer.setDaemon(true);
        closerRef.set(closer);
        closer.start();
        // close() parks in a timed wait only in its wait for the destroyer's destroy (nothing else runs)
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> closer.getState() == Thread.State.TIMED_WAITING || !closer.isAlive());
        closerParked.countDown();
        return new Run(closer, destroyer, reports, nested);
    }

    @Test
    void closeDoesNotSitOutItsWholeTimeoutWaitingForADestroyWhoseHandlerClosesTheRuntime() throws Exception {
        Run r = start(Duration.ofSeconds(10)); // the default
        r.closer.join(15_000);
        r.destroyer.join(5_000);
        assertAll(
            // A close that sat out its timeout says so (its timeout report), whatever the clock: it waited
            // for the destroyer's destroy while the destroyer's handler waited in close() for it.
            () -> assertTrue(r.reports.stream().noneMatch(s -> s.contains("timed out")),
                    "close() reported a timeout though no item was running: " + r.reports),
            () -> assertFalse(r.closer.isAlive(), "close() did not return"),
            () -> assertFalse(r.destroyer.isAlive(), "the destroyer's destroy() did not return"));
    }

    @Test
    void withAForeverCloseTimeoutCloseAndTheDestroyHangForGood() throws Exception {
        Run r = start(Duration.ofDays(365L * 200)); // "100 years or more mean forever"
        r.closer.join(10_000);
        r.destroyer.join(5_000); // it ends just after the close it no longer waits for (or never)
        boolean closerAlive = r.closer.isAlive();
        boolean destroyerAlive = r.destroyer.isAlive();
        String where = stack(r.closer) + "\n destroyer:" + stack(r.destroyer);
        assertAll(
            () -> assertFalse(closerAlive, "close() still waits 10 s later with no item running: " + where),
            () -> assertFalse(destroyerAlive, "destroy() still waits 10 s later: " + where));
    }

    private static String stack(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
