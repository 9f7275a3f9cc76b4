package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Probes of the executor views that held (they pass): an interrupted caller's submissions are
 * accepted and its interrupt kept; mixed execute/submit/schedule(0 or negative) on an ordered
 * queue run in FIFO order; cancel(true) of a running task does not leak its interrupt into the
 * next task on the worker; destroy of a queue with fast periodic tasks ends them and the view
 * terminates; views over a closed runtime reject, and owned views over a closed runtime terminate.
 */
@Timeout(60)
class Break6ExHeldProbesTest {
    final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void interruptedCallerSubmits() throws Exception {
        ScheduledExecutorService e = t.queue("q").unbound().build().asScheduledExecutorService();
        Thread.currentThread().interrupt();
        Future<?> f1, f2;
        try {
            f1 = e.submit(() -> "a");
            f2 = e.schedule(() -> "b", 10, MILLISECONDS);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(f1.get(10, SECONDS)).isEqualTo("a");
        assertThat(f2.get(10, SECONDS)).isEqualTo("b");
    }

    @Test
    void orderedMixedFifo() throws Exception {
        WorkQueue q = t.queue("o").ordered().build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        List<Integer> seen = new CopyOnWriteArrayList<>();
        CountDownLatch gate = new CountDownLatch(1);
        e.execute(() -> { try { gate.await(); } catch (InterruptedException x) { } });
        for (int i = 0; i < 300; i++) {
            int k = i;
            switch (i % 4) {
                case 0 -> e.execute(() -> seen.add(k));
                case 1 -> e.submit(() -> seen.add(k));
                case 2 -> e.schedule(() -> seen.add(k), 0, MILLISECONDS);
                default -> e.schedule(() -> { seen.add(k); return k; }, -5, SECONDS);
            }
        }
        gate.countDown();
        e.shutdown();
        assertThat(e.awaitTermination(20, SECONDS)).isTrue();
        List<Integer> exp = new ArrayList<>();
        for (int i = 0; i < 300; i++) exp.add(i);
        assertThat(seen).containsExactlyElementsOf(exp);
    }

    @Test
    void cancelTrueInterruptDoesNotLeak() throws Exception {
        WorkQueue q = t.queue("o").ordered().build();
        ExecutorService e = q.asExecutorService();
        for (int i = 0; i < 50; i++) {
            CountDownLatch started = new CountDownLatch(1);
            Future<?> f = e.submit(() -> {
                started.countDown();
                long end = System.nanoTime() + 5_000_000L;
                while (System.nanoTime() < end) { }
            });
            Future<Boolean> next = e.submit(() -> Thread.currentThread().isInterrupted());
            started.await();
            f.cancel(true);
            assertThat(next.get(10, SECONDS)).as("round " + i).isFalse();
        }
    }

    @Test
    void periodicDestroyDoesNotHang() throws Exception {
        WorkQueue q = t.queue("p").unbound().build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f = e.scheduleAtFixedRate(runs::incrementAndGet, 0, 1, MILLISECONDS);
        ScheduledFuture<?> g = e.scheduleWithFixedDelay(runs::incrementAndGet, 0, 1, MILLISECONDS);
        while (runs.get() < 20) Thread.onSpinWait();
        q.destroy();
        assertThat(f.isDone()).isTrue();
        assertThat(g.isDone()).isTrue();
        e.shutdown();
        assertThat(e.awaitTermination(10, SECONDS)).isTrue();
    }

    @Test
    void runtimeClosedThenSchedule() throws Exception {
        WorkQueue q = t.queue("p").unbound().build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        t.rt.close();
        try {
            e.schedule(() -> 1, 1, SECONDS);
            throw new AssertionError("accepted");
        } catch (RejectedExecutionException expected) {
        }
        try {
            e.execute(() -> { });
            throw new AssertionError("accepted");
        } catch (RejectedExecutionException expected) {
        }
        e.shutdown();
        assertThat(e.awaitTermination(10, SECONDS)).isTrue();
    }

    @Test
    void ownedViewRuntimeClosedThenShutdown() throws Exception {
        ExecutorService e = t.queue("own").unbound().buildExecutorService();
        Future<?> f = e.submit(() -> "x");
        f.get(10, SECONDS);
        t.rt.close();
        e.shutdown();
        assertThat(e.awaitTermination(10, SECONDS)).isTrue();
    }

    @Test
    void ownedScheduledViewRuntimeClosedWithArmed() throws Exception {
        ScheduledExecutorService e = t.queue("own").unbound().buildScheduledExecutorService();
        ScheduledFuture<?> f = e.schedule(() -> "x", 1, TimeUnit.HOURS);
        t.rt.close();
        assertThat(f.isDone()).isTrue();
        e.shutdown();
        assertThat(e.awaitTermination(10, SECONDS)).isTrue();
    }
}
