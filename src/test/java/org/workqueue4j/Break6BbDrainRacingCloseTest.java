package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** As Break6BbDestroyRacingCloseTest, with drain() instead of destroy() racing close(). */
@Timeout(60)
class Break6BbDrainRacingCloseTest {
    @Test
    void drainRacingCloseLosesNothing() throws Exception {
        List<String> violations = new ArrayList<>();
        for (int round = 0; round < 80 && violations.isEmpty(); round++) {
            List<Thread> made = new CopyOnWriteArrayList<>();
            List<Throwable> reported = new CopyOnWriteArrayList<>();
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(10))
                    .uncaughtWorkHandler((q, w, e) -> reported.add(e))
                    .threadFactory(r -> { Thread t = new Thread(r); made.add(t); return t; }).build());
            int kind = round % 4;
            WorkQueue.Builder b = rt.queueBuilder("q");
            if (kind == 0) b.maxActive(1);
            if (kind == 1) b.unbound().maxActive(2);
            if (kind == 2) b.ordered();
            if (kind == 3) b.memReclaim().maxActive(1);
            WorkQueue q = b.build();
            AtomicInteger accepted = new AtomicInteger(), ran = new AtomicInteger();
            for (int i = 0; i < 30; i++) {
                int k = i;
                if (q.queueOn(i % 2, new Work("w" + i, () -> {
                    ran.incrementAndGet();
                    if (k % 7 == 0) {
                        long end = System.nanoTime() + 200_000;
                        while (System.nanoTime() < end) Thread.onSpinWait();
                    }
                }))) accepted.incrementAndGet();
            }
            CountDownLatch go = new CountDownLatch(1);
            Thread d = new Thread(() -> { try { go.await(); } catch (InterruptedException e) { return; } q.drain(); }, "d");
            Thread c = new Thread(() -> { try { go.await(); } catch (InterruptedException e) { return; } rt.close(); }, "c");
            d.start();
            c.start();
            go.countDown();
            d.join(6000);
            c.join(6000);
            if (d.isAlive() || c.isAlive()) violations.add("round " + round + " kind " + kind + ": hung d=" + d.isAlive() + " c=" + c.isAlive());
            if (ran.get() != accepted.get()) violations.add("round " + round + " kind " + kind + ": accepted " + accepted + " ran " + ran + " reported " + reported.size());
            for (Thread t : made) {
                t.join(1000);
                if (t.isAlive()) violations.add("round " + round + " kind " + kind + ": alive " + t.getName());
            }
        }
        assertEquals(List.of(), violations);
    }
}
