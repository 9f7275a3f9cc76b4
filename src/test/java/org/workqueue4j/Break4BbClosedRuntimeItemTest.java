package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An item still running on a runtime whose close() timed out, used from a second runtime:
 * "queue [...] on a second queue while the item still runs on the first throw
 * IllegalStateException" (of any runtime); busy()/flush()/cancelSync() "speak for every queue".
 */
@Timeout(60)
class Break4BbClosedRuntimeItemTest {

    @Test
    void anItemOutlivingItsClosedRuntimeIsStillOneInstance() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        WorkQueues a = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofMillis(200))
                .reportListener(s -> { }).uncaughtWorkHandler((q, w, e) -> reports.add("a:" + e)).build());
        WorkQueues b = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(5))
                .uncaughtWorkHandler((q, w, e) -> reports.add("b:" + e)).build());
        try {
            WorkQueue qa = a.queueBuilder("qa").build();
            WorkQueue qb = b.queueBuilder("qb").build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger running = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger runs = new AtomicInteger();
            AtomicBoolean first = new AtomicBoolean(true);
            Work w = new Work("stubborn", () -> {
                if (running.incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                }
                runs.incrementAndGet();
                if (first.compareAndSet(true, false)) {
                    started.countDown();
                    while (true) { // ignores the close's interrupt
                        try {
                            if (release.await(30, SECONDS)) {
                                break;
                            }
                        } catch (InterruptedException e) {
                            // keep going
                        }
                    }
                }
                running.decrementAndGet();
            });
            assertTrue(qa.queue(w));
            assertTrue(started.await(10, SECONDS));
            a.close(); // times out after 200 ms, the item still runs
            assertTrue(a.isClosed());
            assertEquals(Work.BUSY_RUNNING, w.busy() & Work.BUSY_RUNNING, "still running on the closed runtime's worker");
            assertThrows(IllegalStateException.class, () -> qb.queue(w),
                    "queue on another runtime while the item runs on a closed one's worker must be refused");
            assertFalse(w.isPending());
            CountDownLatch flushed = new CountDownLatch(1);
            AtomicBoolean flushResult = new AtomicBoolean();
            Thread f = new Thread(() -> {
                flushResult.set(w.flush());
                flushed.countDown();
            });
            f.start();
            assertFalse(flushed.await(200, java.util.concurrent.TimeUnit.MILLISECONDS), "flush waits for the running instance");
            release.countDown();
            assertTrue(flushed.await(10, SECONDS), "flush returns once the instance ends");
            assertTrue(flushResult.get());
            // now idle: the second runtime takes it
            long end = System.nanoTime() + SECONDS.toNanos(10);
            boolean queued = false;
            while (!queued) {
                try {
                    queued = qb.queue(w);
                } catch (IllegalStateException e) {
                    assertTrue(System.nanoTime() < end, "still refused 10 s after the run ended: " + e);
                    Thread.onSpinWait();
                }
            }
            qb.flush();
            assertEquals(2, runs.get());
            assertEquals(0, overlaps.get());
            assertFalse(w.cancelSync());
        } finally {
            a.close();
            b.close();
        }
    }
}
