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

/**
 * drain(): "Flushes until the queue is empty [...] Meanwhile only this queue's own items may
 * queue to it (chained work)". SPEC: "queueDelayed/modDelayed [...] delay 0 = queue now".
 */
@Timeout(60)
class Break4BbDrainChainTest {
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5))
            .uncaughtWorkHandler((q, w, e) -> reports.add((w == null ? "null" : w.name()) + ": " + e)).build());

    @AfterEach
    void close() {
        rt.close();
    }

    private interface Requeue {
        boolean requeue(WorkQueue q, DelayedWork self);
    }

    private void chain(String what, Requeue how) throws Exception {
        WorkQueue q = rt.queueBuilder("drain-" + what).build();
        int n = 200;
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger accepted = new AtomicInteger();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DelayedWork[] self = new DelayedWork[1];
        self[0] = new DelayedWork("chain-" + what, () -> {
            int r = runs.incrementAndGet();
            if (r == 1) {
                firstStarted.countDown();
                try {
                    release.await(30, SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (r < n && how.requeue(q, self[0])) {
                accepted.incrementAndGet();
            }
        });
        assertTrue(q.queueDelayed(self[0], Duration.ZERO));
        accepted.incrementAndGet();
        assertTrue(firstStarted.await(10, SECONDS));
        Thread drainer = new Thread(q::drain, "drainer");
        drainer.start();
        // make sure the drain refuses outsiders before the chain goes on
        long end = System.nanoTime() + SECONDS.toNanos(10);
        while (true) {
            try {
                Work probe = new Work("probe", () -> { });
                if (q.queue(probe)) {
                    probe.cancelSync();
                }
            } catch (IllegalStateException refused) {
                break;
            }
            assertTrue(System.nanoTime() < end, "drain never began");
            Thread.onSpinWait();
        }
        release.countDown();
        drainer.join(20000);
        assertFalse(drainer.isAlive(), "drain did not return");
        assertEquals(n, runs.get(), what + ": chained requeues from the item itself during drain() must be accepted and run; reports=" + reports);
        assertEquals(accepted.get(), runs.get());
        assertFalse(self[0].isPending(), "drain returned with the chained item still pending");
        assertTrue(reports.isEmpty(), what + ": " + reports);
    }

    @Test
    void chainedQueue() throws Exception {
        chain("queue", WorkQueue::queue);
    }

    @Test
    void chainedQueueOnTheOtherCpu() throws Exception {
        chain("queueOn", (q, d) -> q.queueOn(1 - (runsParity++ & 1), d));
    }

    private int runsParity;

    @Test
    void chainedQueueDelayedZero() throws Exception {
        chain("queueDelayed0", (q, d) -> q.queueDelayed(d, Duration.ZERO));
    }

    @Test
    void chainedModDelayedZero() throws Exception {
        chain("modDelayed0", (q, d) -> {
            boolean wasPending = q.modDelayed(d, Duration.ZERO);
            return !wasPending; // false: it was idle and is now queued
        });
    }

    /** Two items of the queue queueing each other while another thread drains it. */
    @Test
    void pingPongChainDuringDrain() throws Exception {
        WorkQueue q = rt.queueBuilder("pingpong").build();
        int n = 300;
        AtomicInteger runs = new AtomicInteger();
        Work[] w = new Work[2];
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < 2; i++) {
            int other = 1 - i;
            w[i] = new Work("pp" + i, () -> {
                int r = runs.incrementAndGet();
                if (r == 1) {
                    started.countDown();
                    try {
                        release.await(30, SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (r < n) {
                    assertTrue(q.queue(w[other]));
                }
            });
        }
        assertTrue(q.queue(w[0]));
        assertTrue(started.await(10, SECONDS));
        Thread drainer = new Thread(q::drain, "drainer");
        drainer.start();
        long end = System.nanoTime() + SECONDS.toNanos(10);
        while (drainer.getState() != Thread.State.WAITING && drainer.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() < end);
            Thread.onSpinWait();
        }
        release.countDown();
        drainer.join(20000);
        assertFalse(drainer.isAlive());
        assertEquals(n, runs.get(), "reports=" + reports);
        assertTrue(reports.isEmpty(), "" + reports);
    }

    /** A destroy() while an item re-queues itself: drained, then refused; every accepted instance runs. */
    @Test
    void destroyWhileSelfRequeueing() throws Exception {
        WorkQueue q = rt.queueBuilder("destroy-chain").unbound().build();
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        CountDownLatch going = new CountDownLatch(50);
        Work[] self = new Work[1];
        self[0] = new Work("self", () -> {
            runs.incrementAndGet();
            going.countDown();
            if (runs.get() < 2000) {
                try {
                    if (q.queue(self[0])) {
                        accepted.incrementAndGet();
                    }
                } catch (IllegalStateException e) {
                    refused.incrementAndGet();
                }
            }
        });
        assertTrue(q.queue(self[0]));
        accepted.incrementAndGet();
        assertTrue(going.await(10, SECONDS));
        q.destroy();
        assertFalse(self[0].isPending(), "destroy returned with the item pending");
        assertEquals(accepted.get(), runs.get(), "every accepted instance ran before destroy returned");
        assertThrows(IllegalStateException.class, () -> q.queue(self[0]));
        assertFalse(self[0].isPending());
    }
}
