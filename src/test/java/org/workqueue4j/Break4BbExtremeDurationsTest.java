package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Timed waits: "zero or negative: do not wait" — including the most negative durations. */
@Timeout(60)
class Break4BbExtremeDurationsTest {
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5)).build());
    private final ExecutorService caller = Executors.newSingleThreadExecutor();

    @AfterEach
    void close() {
        caller.shutdownNow();
        rt.close();
    }

    interface Op {
        boolean run() throws Exception;
    }

    private void mustNotWait(String what, Op op) throws Exception {
        Future<Boolean> f = caller.submit(op::run);
        try {
            assertFalse(f.get(5, SECONDS), what + " with a busy target must return false");
        } catch (TimeoutException e) {
            fail(what + ": a negative timeout must not wait, but it was still waiting after 5 s");
        }
    }

    @Test
    void mostNegativeDurations() throws Exception {
        WorkQueue q = rt.queueBuilder("neg").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work gate = new Work("gate", () -> {
            started.countDown();
            try {
                release.await(30, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(q.queue(gate));
        assertTrue(started.await(10, SECONDS));
        DelayedWork d = new DelayedWork("d", () -> { });
        assertTrue(q.queueDelayed(d, Duration.ofHours(1)));
        Duration[] ds = {Duration.ofSeconds(Long.MIN_VALUE), Duration.ofSeconds(Long.MIN_VALUE / 2),
            Duration.ofNanos(Long.MIN_VALUE), Duration.ofSeconds(-9_300_000_000L), Duration.ofMillis(-1)};
        try {
            for (Duration t : ds) {
                mustNotWait("WorkQueue.flush(" + t + ")", () -> q.flush(t));
                mustNotWait("Work.flush(" + t + ")", () -> gate.flush(t));
                mustNotWait("DelayedWork.flush(" + t + ")", () -> d.flush(t));
                mustNotWait("WorkQueue.drain(" + t + ")", () -> q.drain(t));
            }
            for (Duration t : ds) {
                mustNotWait("Work.cancelSync(" + t + ")", () -> {
                    boolean r = gate.cancelSync(t);
                    return r;
                });
            }
        } finally {
            release.countDown();
        }
        assertTrue(q.flush(Duration.ofSeconds(10)));
    }
}
