package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Items moved between queues and runtimes (modDelayed re-arms on the queue it is called on). */
@Timeout(60)
class Break4BbCrossQueueTest {
    private static WorkQueues rt(List<String> reports) {
        return WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(5))
                .uncaughtWorkHandler((q, w, e) -> reports.add(q.name() + ":" + (w == null ? null : w.name()) + ":" + e)).build());
    }

    @Test
    void modDelayedMovesAnArmedItemToAnotherQueueOfTheSameRuntime() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        try (WorkQueues rt = rt(reports)) {
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            CountDownLatch ran = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            String[] ranOn = new String[1];
            DelayedWork d = new DelayedWork("d", () -> {
                runs.incrementAndGet();
                ranOn[0] = Thread.currentThread().getName();
                ran.countDown();
            });
            assertTrue(q1.queueDelayed(d, Duration.ofHours(1)));
            assertTrue(q2.modDelayed(d, Duration.ofHours(1)), "modDelayed of a pending item returns true");
            q1.destroy();
            assertTrue(reports.isEmpty(), "q1's destroy must not report an item moved to q2: " + reports);
            assertTrue(d.isTimerArmed(), "still armed for q2");
            assertTrue(q2.modDelayed(d, Duration.ZERO));
            assertTrue(ran.await(10, SECONDS));
            q2.flush();
            assertEquals(1, runs.get());
            assertEquals(1, q2.stats().completed(), "ran on q2");
        }
        assertTrue(reports.isEmpty(), "" + reports);
    }

    @Test
    void modDelayedMovesAnArmedItemToAnotherRuntimeAndTheFirstClosesCleanly() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        WorkQueues a = rt(reports);
        WorkQueues b = rt(reports);
        try {
            WorkQueue qa = a.queueBuilder("qa").build();
            WorkQueue qb = b.queueBuilder("qb").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
            assertTrue(qa.queueDelayed(d, Duration.ofHours(1)));
            assertTrue(qb.modDelayed(d, Duration.ofHours(1)));
            a.close();
            assertTrue(reports.isEmpty(), "closing runtime a must not report an item moved to b: " + reports);
            assertTrue(d.isPending(), "still armed on b");
            assertTrue(d.flush(), "fires on b and waits");
            assertEquals(1, runs.get());
            // and back: a closed runtime's queue refuses
            assertThrows(IllegalStateException.class, () -> qa.modDelayed(d, Duration.ofMillis(1)));
            assertFalse(d.isPending(), "a refused modDelayed of an idle item leaves it idle");
            assertTrue(qb.queueDelayed(d, Duration.ZERO));
            qb.flush();
            assertEquals(2, runs.get());
        } finally {
            a.close();
            b.close();
        }
        assertTrue(reports.isEmpty(), "" + reports);
    }

    @Test
    void aPlainItemPendingOnOneQueueIsRefusedByAnotherAndStaysPending() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        try (WorkQueues rt = rt(reports)) {
            WorkQueue q1 = rt.queueBuilder("q1").freezable().build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("w", runs::incrementAndGet);
            rt.freeze();
            try {
                assertTrue(q1.queue(w));
                assertThrows(IllegalStateException.class, () -> q2.queue(w), "pending on another queue");
                assertTrue(w.isPending());
                DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
                assertTrue(q1.queueDelayed(d, Duration.ZERO));
                assertTrue(d.isPending());
                // modDelayed of an item queued (not armed) on frozen q1, onto q2
                assertTrue(q2.modDelayed(d, Duration.ZERO), "pending: true");
                assertTrue(d.flush(Duration.ofSeconds(10)), "runs on q2, which is not frozen");
                assertEquals(1, runs.get());
            } finally {
                rt.thaw();
            }
            q1.flush();
            assertEquals(2, runs.get());
        }
        assertTrue(reports.isEmpty(), "" + reports);
    }

    /** destroy() of a frozen queue holding an item: the item must run or be reported, not vanish. */
    @Test
    void destroyOfAFrozenQueueWithAHeldItem() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        try (WorkQueues rt = rt(reports)) {
            WorkQueue q = rt.queueBuilder("fz").freezable().build();
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("held", runs::incrementAndGet);
            rt.freeze();
            assertTrue(q.queue(w));
            CountDownLatch destroyed = new CountDownLatch(1);
            Thread t = new Thread(() -> {
                q.destroy();
                destroyed.countDown();
            });
            t.start();
            boolean returnedWhileFrozen = destroyed.await(2, SECONDS);
            int runsAtReturn = runs.get();
            boolean pendingAtReturn = w.isPending();
            rt.thaw();
            assertTrue(destroyed.await(10, SECONDS), "destroy returns after thaw");
            if (returnedWhileFrozen) {
                assertTrue(runsAtReturn == 1 || reports.size() == 1,
                        "destroy returned while frozen with the held item neither run nor reported (pending=" + pendingAtReturn + ")");
            }
            assertEquals(1, runs.get() + reports.size(), "held item: runs " + runs.get() + ", reports " + reports);
            assertFalse(w.isPending());
        }
    }
}
