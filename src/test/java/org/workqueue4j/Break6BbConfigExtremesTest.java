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

@Timeout(60)
class Break6BbConfigExtremesTest {

    private void exercise(WorkQueuesConfig.Builder b, String what) throws Exception {
        List<Thread> made = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(b.cpus(2).threadFactory(r -> { Thread t = new Thread(r); made.add(t); return t; })
                .reportListener(s -> { }).build());
        try {
            WorkQueue q = rt.queueBuilder("q").build();
            WorkQueue u = rt.queueBuilder("u").unbound().build();
            AtomicInteger runs = new AtomicInteger();
            for (int i = 0; i < 50; i++) {
                q.queue(new Work("w" + i, runs::incrementAndGet));
                u.queue(new Work("u" + i, runs::incrementAndGet));
            }
            DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
            q.queueDelayed(d, Duration.ofMillis(5));
            CountDownLatch blockedRan = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            // an item that blocks where the library cannot see: the next one must still run
            q.queueOn(0, new Work("blocker", () -> {
                try {
                    release.await(20, SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            q.queueOn(0, new Work("after-blocker", blockedRan::countDown));
            boolean cm = blockedRan.await(10, SECONDS);
            release.countDown();
            assertTrue(d.flush(Duration.ofSeconds(10)), what + ": delayed flush");
            assertTrue(q.flush(Duration.ofSeconds(10)), what + ": flush");
            assertTrue(u.flush(Duration.ofSeconds(10)), what + ": flush unbound");
            assertEquals(101, runs.get(), what);
            assertTrue(cm, what + ": an item behind one blocked past the threshold did not start");
        } finally {
            long t0 = System.nanoTime();
            rt.close();
            assertTrue(System.nanoTime() - t0 < SECONDS.toNanos(20), what + ": close took too long");
        }
        for (Thread t : made) {
            t.join(5000);
            assertFalse(t.isAlive(), what + ": thread alive after close " + t.getName());
        }
    }

    @Test
    void hugeDurations() throws Exception {
        Duration huge = Duration.ofSeconds(Long.MAX_VALUE);
        exercise(WorkQueuesConfig.builder().closeTimeout(huge), "closeTimeout max");
        exercise(WorkQueuesConfig.builder().idleTimeout(huge), "idleTimeout max");
        exercise(WorkQueuesConfig.builder().watchdogThreshold(huge), "watchdog max");
        exercise(WorkQueuesConfig.builder().closeTimeout(Duration.ofDays(36525)), "closeTimeout 100y");
    }

    @Test
    void hugeCpuIntensiveThresholdStillRuns() throws Exception {
        // the concurrency-management promise cannot hold with an infinite threshold; only check liveness
        List<Thread> made = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                .cpuIntensiveThreshold(Duration.ofSeconds(Long.MAX_VALUE)).build());
        WorkQueue q = rt.queueBuilder("q").build();
        AtomicInteger runs = new AtomicInteger();
        for (int i = 0; i < 50; i++) q.queue(new Work("w" + i, runs::incrementAndGet));
        assertTrue(q.flush(Duration.ofSeconds(10)));
        assertEquals(50, runs.get());
        rt.close();
    }

    @Test
    void tinyDurations() throws Exception {
        Duration tiny = Duration.ofNanos(1);
        exercise(WorkQueuesConfig.builder().cpuIntensiveThreshold(tiny), "cpuIntensive 1ns");
        exercise(WorkQueuesConfig.builder().idleTimeout(tiny), "idleTimeout 1ns");
        exercise(WorkQueuesConfig.builder().watchdogThreshold(tiny), "watchdog 1ns");
        exercise(WorkQueuesConfig.builder().closeTimeout(Duration.ZERO).closeTimeout(Duration.ofSeconds(10)), "close 0 then 10");
    }
}
