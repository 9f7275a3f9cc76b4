package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class Break6BbStatsProbesTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(5)));

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void throwingItemsCountAsCompleted() throws Exception {
        WorkQueue q = t.queue("thr").build();
        for (int i = 0; i < 5; i++) q.queue(new Work("rte" + i, () -> { throw new IllegalStateException("x"); }));
        for (int i = 0; i < 5; i++) q.queue(new Work("err" + i, () -> { throw new StackOverflowError("x"); }));
        for (int i = 0; i < 5; i++) q.queue(new Work("oom" + i, () -> { throw new OutOfMemoryError("x"); }));
        q.flush();
        WorkQueueStats s = q.stats();
        assertEquals(15, s.started(), s.toString());
        assertEquals(15, s.completed(), s.toString());
        assertEquals(0, s.inFlight());
        assertEquals(0, s.running());
        assertEquals(0, s.pending());
        assertEquals(0, s.inactive());
        assertEquals(15, t.errors.size());
    }

    @Test
    void countsWithMaxActiveAndFreeze() throws Exception {
        WorkQueue q = t.queue("ma").unbound().maxActive(2).freezable().build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            q.queue(new Work("b" + i, () -> {
                started.countDown();
                try {
                    release.await(20, SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        assertTrue(started.await(10, SECONDS));
        for (int i = 0; i < 3; i++) q.queue(new Work("w" + i, () -> { }));
        DelayedWork d = new DelayedWork("armed", () -> { });
        q.queueDelayed(d, Duration.ofHours(1));
        WorkQueueStats s = q.stats();
        assertEquals(2, s.running(), s.toString() + " " + s);
        assertEquals(3, s.inactive(), "" + s);
        assertEquals(0, s.pending(), "" + s);
        assertEquals(2, s.started(), "" + s);
        assertEquals(2, s.inFlight(), "" + s);
        release.countDown();
        q.flush();
        s = q.stats();
        assertEquals(5, s.completed(), "" + s);
        assertEquals(0, s.running() + s.inactive() + s.pending(), "" + s);
        d.cancel();
    }
}
