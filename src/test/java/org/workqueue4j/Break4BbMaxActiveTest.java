package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * maxActive: "per pool for per-CPU queues, global for unbound"; setMaxActive "activating waiting
 * items in order up to the new limit", clamped to [1, 2048].
 */
@Timeout(60)
class Break4BbMaxActiveTest {
    private final List<Throwable> reports = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5)).uncaughtWorkHandler((q, w, e) -> reports.add(e)).build());

    @AfterEach
    void close() {
        rt.close();
    }

    private static final class Blocker {
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger maxSeen = new AtomicInteger();
        final Semaphore started = new Semaphore(0);
        final CountDownLatch release = new CountDownLatch(1);
        final List<String> order = new CopyOnWriteArrayList<>();

        Work item(String name) {
            return new Work(name, () -> {
                int r = running.incrementAndGet();
                maxSeen.accumulateAndGet(r, Math::max);
                order.add(name);
                started.release();
                try {
                    release.await(30, SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                running.decrementAndGet();
            });
        }
    }

    @Test
    void unboundLimitIsGlobalAndRaisingItActivatesWaitingItems() throws Exception {
        WorkQueue q = rt.queueBuilder("ub").unbound().maxActive(2).build();
        Blocker b = new Blocker();
        List<Work> ws = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Work w = b.item("u" + i);
            ws.add(w);
            assertTrue(q.queueOn(i % 2, w));
        }
        assertTrue(b.started.tryAcquire(2, 10, SECONDS), "two start");
        assertFalse(b.started.tryAcquire(1, 300, MILLISECONDS), "a third must not start under maxActive 2 (unbound: global)");
        q.setMaxActive(5);
        assertTrue(b.started.tryAcquire(3, 10, SECONDS), "raising the limit to 5 activates three more; started "
                + b.order + " stats " + q.stats());
        assertFalse(b.started.tryAcquire(1, 300, MILLISECONDS), "no sixth under maxActive 5");
        assertEquals(5, b.maxSeen.get());
        b.release.countDown();
        q.flush();
        assertEquals(6, b.order.size());
    }

    @Test
    void perCpuLimitIsPerPool() throws Exception {
        WorkQueue q = rt.queueBuilder("pc").maxActive(1).build();
        Blocker b = new Blocker();
        assertTrue(q.queueOn(0, b.item("c0a")));
        assertTrue(q.queueOn(0, b.item("c0b")));
        assertTrue(q.queueOn(1, b.item("c1a")));
        assertTrue(b.started.tryAcquire(2, 10, SECONDS), "one per pool runs: " + b.order);
        assertFalse(b.started.tryAcquire(1, 300, MILLISECONDS), "c0b must wait for c0a");
        assertTrue(b.order.containsAll(List.of("c0a", "c1a")), "" + b.order);
        b.release.countDown();
        q.flush();
        assertEquals(3, b.order.size());
    }

    @Test
    void loweringTheLimitMidLoadThenZeroClampsToOne() throws Exception {
        WorkQueue q = rt.queueBuilder("low").unbound().maxActive(3).build();
        Blocker b = new Blocker();
        for (int i = 0; i < 3; i++) {
            assertTrue(q.queue(b.item("first" + i)));
        }
        assertTrue(b.started.tryAcquire(3, 10, SECONDS));
        q.setMaxActive(0);
        assertEquals(1, q.maxActive(), "0 is clamped to 1");
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        for (int i = 0; i < 20; i++) {
            assertTrue(q.queue(new Work("later" + i, () -> {
                maxSeen.accumulateAndGet(running.incrementAndGet(), Math::max);
                Thread.yield();
                running.decrementAndGet();
                done.incrementAndGet();
            })));
        }
        b.release.countDown();
        assertTrue(q.flush(Duration.ofSeconds(10)));
        assertEquals(20, done.get());
        assertEquals(1, maxSeen.get(), "after setMaxActive(0) (clamped to 1), later items run one at a time");
        assertThrows(IllegalArgumentException.class, () -> q.setMaxActive(-1));
        assertEquals(1, q.maxActive());
        q.setMaxActive(100000);
        assertEquals(WorkQueue.MAX_ACTIVE, q.maxActive());
    }

    @Test
    void orderedQueueRefusesSetMaxActive() {
        WorkQueue q = rt.queueBuilder("o").ordered().build();
        assertThrows(IllegalStateException.class, () -> q.setMaxActive(4));
        assertEquals(1, q.maxActive());
        assertTrue(q.isOrdered());
    }

    @Test
    void setMaxActiveWhileFrozenActivatesNothingUntilThaw() throws Exception {
        WorkQueue q = rt.queueBuilder("fzm").freezable().unbound().maxActive(1).build();
        AtomicInteger runs = new AtomicInteger();
        rt.freeze();
        try {
            for (int i = 0; i < 5; i++) {
                assertTrue(q.queue(new Work("h" + i, runs::incrementAndGet)));
            }
            q.setMaxActive(10);
            assertFalse(q.flush(Duration.ofMillis(300)), "frozen: nothing runs");
            assertEquals(0, runs.get(), "setMaxActive on a frozen queue must not start its held items");
        } finally {
            rt.thaw();
        }
        assertTrue(q.flush(Duration.ofSeconds(10)));
        assertEquals(5, runs.get());
    }
}
