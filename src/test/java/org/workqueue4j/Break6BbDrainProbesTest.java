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

@Timeout(60)
class Break6BbDrainProbesTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(5)));

    @AfterEach
    void close() {
        t.close();
    }

    static void await(CountDownLatch l) {
        try {
            assertTrue(l.await(20, SECONDS));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void timedDrainGivingUpDoesNotEndAnotherThreadsDrain() throws Exception {
        WorkQueue q = t.queue("dr").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("gate", () -> { started.countDown(); await(release); }));
        await(started);
        // draining: its flush covered by a flip (WAITING alone may be a pool lock on the way in, before the drain began)
        Thread drainer = TestRuntime.startAndAwaitAt("drainer", q::drain, "flush.waiting");
        assertTrue(drainer.isAlive());
        assertFalse(q.drain(Duration.ofMillis(50)));
        AtomicInteger runs = new AtomicInteger();
        Throwable thrown = null;
        try {
            q.queue(new Work("outsider", runs::incrementAndGet));
        } catch (IllegalStateException e) {
            thrown = e;
        }
        release.countDown();
        drainer.join(20000);
        assertNotNull(thrown, "while another thread's drain() still runs, an outside queue must be refused");
    }

    @Test
    void timedDrainGivingUpDoesNotReopenAQueueBeingDestroyed() throws Exception {
        WorkQueue q = t.queue("ds").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("gate", () -> { started.countDown(); await(release); }));
        await(started);
        Thread destroyer = TestRuntime.startAndAwaitAt("destroyer", q::destroy, "flush.waiting"); // draining, as above
        assertTrue(destroyer.isAlive());
        assertFalse(q.drain(Duration.ofMillis(50)));
        AtomicInteger runs = new AtomicInteger();
        Work outsider = new Work("outsider", runs::incrementAndGet);
        boolean accepted;
        try {
            accepted = q.queue(outsider);
        } catch (IllegalStateException e) {
            accepted = false;
        }
        release.countDown();
        destroyer.join(20000);
        assertFalse(destroyer.isAlive());
        if (accepted) {
            // accepted during a destroy: must at least run before destroy returned
            assertEquals(1, runs.get(), "accepted by a queue being destroyed, but never ran; pending=" + outsider.isPending());
            fail("queue accepted an outside item while destroy() ran (after a timed drain gave up)");
        }
    }

    @Test
    void timedDrainGivingUpWhileFrozen() throws Exception {
        WorkQueue q = t.queue("fz").freezable().build();
        t.rt.freeze();
        AtomicInteger runs = new AtomicInteger();
        assertTrue(q.queue(new Work("held", runs::incrementAndGet)));
        assertFalse(q.drain(Duration.ofMillis(50)));
        assertTrue(q.queue(new Work("after", runs::incrementAndGet)));
        t.rt.thaw();
        assertTrue(q.drain(Duration.ofSeconds(10)));
        assertEquals(2, runs.get());
    }

    @Test
    void twoTimedDrainsOneGivesUp() throws Exception {
        WorkQueue q = t.queue("d2").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("gate", () -> { started.countDown(); await(release); }));
        await(started);
        boolean[] res = new boolean[1];
        Thread drainer = TestRuntime.startAndAwaitAt("drainer", () -> {
            try {
                res[0] = q.drain(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }, "flush.waiting"); // draining, as above
        assertFalse(q.drain(Duration.ofMillis(30)));
        boolean refused = false;
        try {
            q.queue(new Work("o", () -> { }));
        } catch (IllegalStateException e) {
            refused = true;
        }
        release.countDown();
        drainer.join(20000);
        assertTrue(res[0]);
        assertTrue(refused, "the other drain still runs: outside queue must be refused");
    }
}
