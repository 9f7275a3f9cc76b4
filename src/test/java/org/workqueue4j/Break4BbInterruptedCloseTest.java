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

/**
 * WorkQueues.close(): "Interrupting the closing thread cuts the wait short the same way [as the
 * timeout]; the interrupt status is set again on return." At the timeout: "queues not yet
 * destroyed refuse every new item, every worker still running an item is interrupted [...] Items
 * still queued run on the remaining (daemon) threads after their current items end."
 */
@Timeout(60)
class Break4BbInterruptedCloseTest {

    @Test
    void closeEnteredWithTheInterruptStatusSetLosesNoQueuedItem() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(30))
                .uncaughtWorkHandler((q, w, e) -> reports.add(w == null ? "null" : w.name())).build());
        WorkQueue ord = rt.queueBuilder("ord").ordered().build();
        WorkQueue pc = rt.queueBuilder("pc").maxActive(1).build();
        CountDownLatch started = new CountDownLatch(2);
        AtomicInteger gateInterrupted = new AtomicInteger();
        Runnable gateBody = () -> {
            started.countDown();
            try {
                new CountDownLatch(1).await(20, SECONDS);
            } catch (InterruptedException e) {
                gateInterrupted.incrementAndGet();
            }
        };
        assertTrue(ord.queue(new Work("gate-ord", gateBody)));
        assertTrue(pc.queueOn(0, new Work("gate-pc", gateBody)));
        assertTrue(started.await(10, SECONDS));
        int n = 50;
        CountDownLatch ran = new CountDownLatch(2 * n);
        for (int i = 0; i < n; i++) {
            assertTrue(ord.queue(new Work("o" + i, ran::countDown)));
            assertTrue(pc.queueOn(0, new Work("p" + i, ran::countDown)));
        }
        int armed = 3;
        AtomicInteger armedRuns = new AtomicInteger();
        for (int i = 0; i < armed; i++) {
            assertTrue(ord.queueDelayed(new DelayedWork("armed" + i, armedRuns::incrementAndGet), Duration.ofHours(1)));
        }
        Thread.currentThread().interrupt();
        rt.close();
        assertTrue(Thread.interrupted(), "interrupt status set again on return");
        boolean all = ran.await(15, SECONDS);
        assertTrue(all, "items queued before close() must still run after an interrupted close (README): "
                + ran.getCount() + " of " + 2 * n + " never ran within 15 s; gates interrupted " + gateInterrupted.get());
        assertEquals(armed, armedRuns.get() + reports.size(), "armed items: run " + armedRuns.get() + ", reported " + reports);
    }
}
