package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Return values and states that the javadoc and SPEC section 4 promise (kernel-exact). */
@Timeout(60)
class Break4BbKernelSemanticsTest {
    private final List<Throwable> reports = new CopyOnWriteArrayList<>();
    private final List<String> reportedNames = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5)).uncaughtWorkHandler((q, w, e) -> {
                reports.add(e);
                reportedNames.add(w == null ? "null" : w.name());
            }).build());

    @AfterEach
    void close() {
        rt.close();
    }

    private static void await(CountDownLatch l, String what) throws InterruptedException {
        assertTrue(l.await(10, SECONDS), what);
    }

    @Test
    void modDelayedOfAnIdleItemReturnsFalseAndOfAnArmedOneTrue() throws Exception {
        WorkQueue q = rt.queueBuilder("m").build();
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch ran = new CountDownLatch(1);
        DelayedWork d = new DelayedWork("d", () -> {
            runs.incrementAndGet();
            ran.countDown();
        });
        assertFalse(q.modDelayed(d, Duration.ofHours(1)), "idle item: modDelayed returns false (kernel mod_delayed_work)");
        assertTrue(d.isPending() && d.isTimerArmed(), "armed after modDelayed of an idle item");
        assertTrue(q.modDelayed(d, Duration.ofHours(2)), "armed item: modDelayed returns true");
        assertFalse(q.queueDelayed(d, Duration.ZERO), "queueDelayed of a pending item returns false, even with 0 delay");
        assertTrue(d.isTimerArmed(), "a refused queueDelayed(0) leaves the timer armed");
        assertTrue(q.modDelayed(d, Duration.ZERO), "armed item, 0 delay: true, runs now");
        await(ran, "modDelayed(0) runs at once");
        q.flush();
        assertEquals(1, runs.get());
        assertThrows(IllegalArgumentException.class, () -> q.modDelayed(d, Duration.ofNanos(-1)));
        assertFalse(d.isPending(), "negative delay changes nothing");
        assertTrue(q.queueDelayed(d, Duration.ofHours(1)));
        assertThrows(IllegalArgumentException.class, () -> q.modDelayed(d, Duration.ofMillis(-5)));
        assertTrue(d.isTimerArmed(), "a refused negative modDelayed leaves the armed item armed");
        assertTrue(d.cancel(), "cancel of an armed item returns true");
        assertFalse(d.isPending());
        assertFalse(d.cancel(), "cancel of an idle item returns false");
        assertEquals(1, runs.get());
    }

    @Test
    void queueOfAnArmedDelayedWorkThrowsAndChangesNothing() throws Exception {
        WorkQueue q = rt.queueBuilder("qa").build();
        DelayedWork d = new DelayedWork("d", () -> { });
        assertTrue(q.queueDelayed(d, Duration.ofHours(1)));
        assertThrows(IllegalStateException.class, () -> q.queue(d));
        assertTrue(d.isTimerArmed());
        assertTrue(d.cancelSync(), "cancelSync of an armed item returns true");
        assertFalse(d.isPending());
        assertFalse(d.cancelSync(), "second cancelSync returns false");
    }

    @Test
    void flushReturnValues() throws Exception {
        WorkQueue q = rt.queueBuilder("f").build();
        Work w = new Work("w", () -> { });
        assertFalse(w.flush(), "flush of a never-queued item: false");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work gate = new Work("gate", () -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(q.queueOn(0, gate));
        await(started, "gate runs");
        DelayedWork d = new DelayedWork("d", () -> { });
        assertFalse(d.flush(), "flush of an idle delayed item: false");
        assertTrue(q.queueDelayed(d, Duration.ofHours(1)));
        release.countDown();
        assertTrue(d.flush(), "flush of an armed delayed item fires it and returns true");
        assertFalse(d.isPending());
        assertFalse(d.flush(), "nothing to wait for now: false");
        assertTrue(gate.flush(Duration.ofSeconds(10)));
        assertFalse(w.flush(Duration.ZERO) && false);
        assertTrue(w.flush(Duration.ofSeconds(-1)), "idle item: timed flush returns true even with a negative timeout");
    }

    @Test
    void disableCounts() throws Exception {
        WorkQueue q = rt.queueBuilder("dis").build();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        assertFalse(w.disable(), "disable of an idle item: false");
        assertFalse(w.disable());
        assertEquals(2, w.disableDepth());
        assertFalse(q.queue(w), "queue while disabled: false");
        assertFalse(w.isPending());
        assertFalse(w.enable(), "count 2 -> 1: false");
        assertFalse(q.queue(w));
        assertTrue(w.enable(), "count 1 -> 0: true");
        assertThrows(IllegalStateException.class, w::enable);
        assertEquals(0, w.disableDepth());
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        assertTrue(q.queueDelayed(d, Duration.ofHours(1)));
        assertTrue(d.disable(), "disable of an armed item: true");
        assertFalse(d.isPending());
        assertFalse(q.modDelayed(d, Duration.ZERO), "modDelayed of a disabled item: false, not queued");
        assertFalse(d.isPending());
        assertFalse(q.queueDelayed(d, Duration.ofMillis(1)));
        assertFalse(d.isPending());
        assertTrue(d.enable());
        q.flush();
        assertEquals(0, runs.get());
    }

    /** Ordered queue: strict FIFO, also for a delayed item queued with a zero delay and modDelayed(0). */
    @Test
    void orderedQueueKeepsFifoWithDelayedItems() throws Exception {
        WorkQueue q = rt.queueBuilder("ord").ordered().build();
        List<String> order = new CopyOnWriteArrayList<>();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertTrue(q.queue(new Work("gate", () -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            order.add("gate");
        })));
        await(started, "gate");
        DelayedWork d1 = new DelayedWork("d1", () -> order.add("d1"));
        DelayedWork d2 = new DelayedWork("d2", () -> order.add("d2"));
        Work a = new Work("a", () -> order.add("a"));
        Work b = new Work("b", () -> order.add("b"));
        Work c = new Work("c", () -> order.add("c"));
        assertTrue(q.queue(a));
        assertTrue(q.queueDelayed(d1, Duration.ZERO));
        assertTrue(q.queueDelayed(d2, Duration.ofHours(1)));
        assertTrue(q.queue(b));
        assertTrue(q.modDelayed(d2, Duration.ZERO));
        assertTrue(q.queue(c));
        assertTrue(b.cancel());
        assertTrue(q.queue(b));
        release.countDown();
        q.flush();
        assertEquals(List.of("gate", "a", "d1", "d2", "c", "b"), order, "ordered queue runs in queueing order");
    }

    /** Destroy with armed items on several delayed items: each is reported once and none runs. */
    @Test
    void destroyReportsEveryArmedItemOnce() throws Exception {
        WorkQueue q = rt.queueBuilder("dd").build();
        AtomicInteger runs = new AtomicInteger();
        for (int i = 0; i < 5; i++) {
            assertTrue(q.queueDelayed(new DelayedWork("a" + i, runs::incrementAndGet), Duration.ofHours(1)));
        }
        q.destroy();
        assertEquals(0, runs.get());
        assertEquals(5, reportedNames.size(), "each armed item reported once: " + reportedNames);
        assertEquals(5, reportedNames.stream().distinct().count(), "reported: " + reportedNames);
    }

    /** A queue flush returns promptly for a zero timeout and with a pending item returns false. */
    @Test
    void timedWaitEdgeDurations() throws Exception {
        WorkQueue q = rt.queueBuilder("t").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work gate = new Work("gate", () -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(q.queue(gate));
        await(started, "gate");
        assertFalse(q.flush(Duration.ZERO), "busy queue, zero timeout: false");
        assertFalse(q.flush(Duration.ofSeconds(-5)), "busy queue, negative timeout: false");
        assertFalse(gate.flush(Duration.ZERO));
        assertFalse(gate.cancelSync(Duration.ZERO), "running item, zero timeout: false");
        assertFalse(gate.cancelSync(Duration.ofNanos(Long.MIN_VALUE)));
        assertFalse(q.drain(Duration.ZERO));
        // a queue that gave up its drain accepts again
        Work after = new Work("after", () -> { });
        assertTrue(q.queue(after), "a drain that gave up accepts every caller again");
        release.countDown();
        assertTrue(q.flush(Duration.ofSeconds(Long.MAX_VALUE)), "huge timeout: waits and returns true");
        assertTrue(q.drain(Duration.ofSeconds(Long.MAX_VALUE)));
        assertTrue(gate.cancelSync(Duration.ofSeconds(Long.MAX_VALUE)) || true);
        assertTrue(q.queue(new Work("z", () -> { })), "after a drain the queue accepts again");
        q.flush();
        assertTrue(reports.isEmpty(), "" + reports);
    }
}
