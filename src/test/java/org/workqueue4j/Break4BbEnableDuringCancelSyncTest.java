package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Work.cancelSync(): "While it waits the item counts as disabled: a queue attempt meanwhile (from
 * its own function or another thread) returns false and queues nothing." Work.enable(): "throws
 * IllegalStateException if the item is not disabled". What does an enable() from another thread,
 * made while a cancelSync waits, do to either?
 */
@Timeout(60)
class Break4BbEnableDuringCancelSyncTest {
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5))
            .uncaughtWorkHandler((q, w, e) -> reports.add((w == null ? "null" : w.name()) + ": " + e)).build());

    @AfterEach
    void close() {
        rt.close();
    }

    @Test
    void anUnmatchedEnableDuringCancelSyncMakesItThrowAndLoseTheInstanceItTook() throws Exception {
        WorkQueue q = rt.queueBuilder("eq").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                try {
                    release.await(30, SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        assertTrue(q.queue(w));
        assertTrue(started.await(10, SECONDS));
        assertTrue(q.queue(w));
        AtomicReference<Object> result = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread c = new Thread(() -> {
            try {
                result.set(w.cancelSync());
            } catch (Throwable e) {
                result.set(e);
            }
            done.countDown();
        });
        c.start();
        long end = System.nanoTime() + SECONDS.toNanos(10);
        while (w.disableDepth() == 0 || w.isPending()) {
            assertTrue(System.nanoTime() < end);
            Thread.onSpinWait();
        }
        Object enableResult;
        try {
            enableResult = w.enable();
        } catch (Throwable e) {
            enableResult = e;
        }
        Object queueResult;
        try {
            queueResult = q.queue(w);
        } catch (Throwable e) {
            queueResult = e;
        }
        release.countDown();
        assertTrue(done.await(10, SECONDS));
        q.flush();
        String what = "enable() from another thread while cancelSync() waited returned " + enableResult
                + ", a queue() meanwhile returned " + queueResult + ", cancelSync() ended with " + result.get()
                + "; runs " + runs.get() + ", reports " + reports;
        int accepted = 2 + (Boolean.TRUE.equals(queueResult) ? 1 : 0);
        int saidCancelled = Boolean.TRUE.equals(result.get()) ? 1 : 0;
        assertEquals(accepted, runs.get() + saidCancelled + reports.size(),
                "every accepted instance ends in a run, a cancel that says so, or a report (README faults table: a cancel "
                        + "that took a pending instance and then throws reports it): " + what);
        assertFalse(result.get() instanceof Throwable,
                "cancelSync() documents IllegalStateException only for a call from the item's own function: " + what);
    }
}
