package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Executor views over freezable queues, and tasks that throw Errors. */
@Timeout(60)
class Break4BbExecutorFreezeTest {
    private final List<Throwable> reports = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5)).uncaughtWorkHandler((q, w, e) -> reports.add(e)).build());

    @AfterEach
    void close() {
        rt.thaw();
        rt.close();
    }

    @Test
    void shutdownNowWhileFrozenReturnsEveryHeldTaskAndNoneRunsAfterThaw() throws Exception {
        WorkQueue q = rt.queueBuilder("fz").freezable().build();
        ExecutorService es = q.asExecutorService();
        AtomicInteger runs = new AtomicInteger();
        rt.freeze();
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            fs.add(es.submit(runs::incrementAndGet));
        }
        for (int i = 0; i < 5; i++) {
            es.execute(runs::incrementAndGet);
        }
        List<Runnable> never = es.shutdownNow();
        assertEquals(15, never.size(), "shutdownNow returns exactly the tasks that never started");
        rt.thaw();
        q.flush();
        assertTrue(es.awaitTermination(10, SECONDS));
        assertEquals(0, runs.get(), "none of the returned tasks starts afterwards");
        for (Future<?> f : fs) {
            assertFalse(f.isDone() && !f.isCancelled() && succeeded(f), "a returned task's future must not have completed normally");
        }
    }

    private static boolean succeeded(Future<?> f) {
        try {
            f.get(0, SECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void invokeAllTimingOutOnAFrozenQueueCancelsTasksThatThenNeverRun() throws Exception {
        WorkQueue q = rt.queueBuilder("fz2").freezable().build();
        ExecutorService es = q.asExecutorService();
        AtomicInteger runs = new AtomicInteger();
        rt.freeze();
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tasks.add(runs::incrementAndGet);
        }
        List<Future<Integer>> fs = es.invokeAll(tasks, 50, MILLISECONDS);
        for (Future<Integer> f : fs) {
            assertTrue(f.isCancelled(), "timed-out invokeAll cancels unfinished tasks");
        }
        rt.thaw();
        q.flush();
        assertEquals(0, runs.get(), "a cancelled task must not run after thaw");
        assertEquals(0, q.stats().pending() + q.stats().inactive(), "nothing left pending: " + q.stats());
        es.shutdown();
        assertTrue(es.awaitTermination(10, SECONDS));
    }

    @Test
    void scheduledPeriodicTaskOnAFrozenQueueIsReturnedByShutdownNow() throws Exception {
        WorkQueue q = rt.queueBuilder("fz3").freezable().build();
        ScheduledExecutorService ses = q.asScheduledExecutorService();
        AtomicInteger runs = new AtomicInteger();
        rt.freeze();
        ScheduledFuture<?> p = ses.scheduleAtFixedRate(runs::incrementAndGet, 0, 1, MILLISECONDS);
        ScheduledFuture<?> o = ses.schedule(runs::incrementAndGet, 1, MILLISECONDS);
        // wait until both have left their timers (held by the freeze)
        long end = System.nanoTime() + SECONDS.toNanos(10);
        while (q.stats().inactive() + q.stats().pending() < 2 && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        List<Runnable> never = ses.shutdownNow();
        assertEquals(2, never.size(), "both held tasks returned");
        rt.thaw();
        q.flush();
        assertTrue(ses.awaitTermination(10, SECONDS));
        assertEquals(0, runs.get(), "no returned task starts after thaw");
        assertFalse(p.isDone() && succeeded(p));
        assertFalse(o.isDone() && succeeded(o));
    }

    @Test
    void tasksThrowingErrorsFailTheirFuturesAndTheWorkerLivesOn() throws Exception {
        WorkQueue q = rt.queueBuilder("err").ordered().build();
        ExecutorService es = q.asExecutorService();
        Future<?> f1 = es.submit(() -> {
            throw new StackOverflowError("made");
        });
        Future<?> f2 = es.submit(() -> {
            throw new OutOfMemoryError("made");
        });
        Future<Integer> f3 = es.submit(() -> 42);
        ExecutionException e1 = assertThrows(ExecutionException.class, () -> f1.get(10, SECONDS));
        assertInstanceOf(StackOverflowError.class, e1.getCause());
        ExecutionException e2 = assertThrows(ExecutionException.class, () -> f2.get(10, SECONDS));
        assertInstanceOf(OutOfMemoryError.class, e2.getCause());
        assertEquals(42, f3.get(10, SECONDS));
        // execute(): an Error goes to the handler
        es.execute(() -> {
            throw new StackOverflowError("exec");
        });
        q.flush();
        assertTrue(reports.stream().anyMatch(e -> e instanceof StackOverflowError && "exec".equals(e.getMessage())),
                "an execute()d task's Error goes to the handler: " + reports);
        Work w = new Work("plain-oome", () -> {
            throw new OutOfMemoryError("plain");
        });
        assertTrue(q.queue(w));
        assertTrue(w.flush() || true);
        q.flush();
        assertTrue(reports.stream().anyMatch(e -> "plain".equals(e.getMessage())), "" + reports);
        assertTrue(q.queue(w), "the item can be queued again");
        q.flush();
        es.shutdown();
        assertTrue(es.awaitTermination(10, SECONDS));
        // A task cancelled before it started: an item ahead of it on the ordered queue holds it
        // back until the cancel is made (without it, the task may run first and the cancel fail).
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        assertTrue(q.queue(new Work("gate", () -> {
            try {
                gate.await(10, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })));
        Future<?> f = q.asExecutorService().submit(() -> { });
        try {
            assertTrue(f.cancel(false), "cancelled before it started");
            assertThrows(CancellationException.class, f::get);
        } finally {
            gate.countDown();
        }
    }
}
