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

/**
 * {@code q.destroy()} and {@code rt.close()} started at the same moment on two threads, with 30
 * items accepted by q beforehand (per-CPU {@code maxActive(1)}, unbound {@code maxActive(2)},
 * ordered, {@code memReclaim()} {@code maxActive(1)}; items on both CPUs).
 *
 * <p>Expected ({@code WorkQueues.close()} javadoc and the faults table row "WorkQueues.close()
 * while work is running": close "drains and destroys every queue ... waits for ... everything
 * queued before it (nothing lost)"; {@code destroy()} javadoc: destroy drains the queue, and "a
 * call made while another thread's destroy() runs waits for that one to end"): every accepted
 * item runs exactly once, both calls return, no runtime thread is left.
 *
 * <p>Actual (a round in roughly 10 to 20 shows it; every run of 40 to 80 rounds so far): close()
 * returns at once, 0 or 15 of the 30 accepted items ever run (15: one CPU's share), none is
 * reported, and the destroy() thread stays blocked in its drain for good. Seen for per-CPU
 * {@code maxActive(1)}, ordered and {@code memReclaim()} queues. Same gap, deterministically with a
 * freeze: {@link Break6BbCloseDuringFrozenDestroyTest}.
 */
@Timeout(60)
class Break6BbDestroyRacingCloseTest {
    @Test
    void destroyRacingCloseLosesNothing() throws Exception {
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
            Thread d = new Thread(() -> { try { go.await(); } catch (InterruptedException e) { return; } q.destroy(); }, "d");
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
