package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/** Probes of 7d91e45 (close waits for another thread's destroy) and 1b54e7e (nested close refused) that held. */
@Timeout(60)
class Break7CHeldTest {

    /** Interrupting close() while it waits for another thread's destroy: it returns at once, interrupts and names the item, keeps the status; nothing lost. */
    @Test
    void interruptingCloseWhileItWaitsForAnotherDestroy() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        // A close timeout no run reaches: only the interrupt can end the close within the join's bound.
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofMinutes(10))
                .reportListener(reports::add).build());
        WorkQueue q = rt.queueBuilder("q").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean gateInterrupted = new AtomicBoolean();
        AtomicInteger ran = new AtomicInteger();
        assertTrue(q.queue(new Work("gate", () -> {
            started.countDown();
            try {
                new CountDownLatch(1).await(10, java.util.concurrent.TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                gateInterrupted.set(true);
            }
        })));
        assertTrue(started.await(10, SECONDS));
        for (int i = 0; i < 5; i++) {
            assertTrue(q.queue(new Work("p" + i, ran::incrementAndGet)));
        }
        // in its drain's flush (by hook: WAITING alone may be a pool lock on the way in)
        Thread destroyer = TestRuntime.startAndAwaitAt("destroyer", q::destroy, "flush.waiting");
        AtomicBoolean interruptKept = new AtomicBoolean();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread closer = TestRuntime.startAndAwaitParked("closer", () -> {
            try {
                rt.close();
            } catch (Throwable t) {
                thrown.set(t);
            }
            interruptKept.set(Thread.currentThread().isInterrupted());
        });
        closer.interrupt();
        closer.join(60_000);
        destroyer.join(60_000);
        assertFalse(closer.isAlive(), "the interrupted close returned (its timeout is 10 minutes)");
        assertNull(thrown.get());
        assertTrue(interruptKept.get());
        assertTrue(gateInterrupted.get());
        assertTrue(reports.stream().anyMatch(s -> s.contains("gate")), reports.toString());
        assertFalse(destroyer.isAlive());
        assertEquals(5, ran.get());
        assertTrue(q.isDestroyed());
    }

    /** The other destroy() fails with an Error mid-drain (undone): the waiting close() destroys the queue itself, nothing lost. */
    @Test
    void anErrorInTheOtherDestroyLeavesTheQueueToClose() throws Exception {
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(20)).build());
        WorkQueue q = rt.queueBuilder("q").ordered().build();
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger ran = new AtomicInteger();
        TestRuntime.blockOrdered(q, gate);
        for (int i = 0; i < 5; i++) {
            assertTrue(q.queue(new Work("p" + i, ran::incrementAndGet)));
        }
        CountDownLatch closerParked = new CountDownLatch(1);
        AtomicBoolean armed = new AtomicBoolean(true);
        TestHooks.install((p, s) -> {
            if (Thread.currentThread().getName().equals("destroyer") && p.startsWith("flush.") && armed.compareAndSet(true, false)) {
                try {
                    closerParked.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new InjectedThrows.Injected("injected at " + p);
            }
        });
        try {
            AtomicReference<Throwable> dthrown = new AtomicReference<>();
            Thread destroyer = TestRuntime.startAndAwaitParked("destroyer", () -> {
                try {
                    q.destroy();
                } catch (Throwable t) {
                    dthrown.set(t);
                }
            });
            Thread closer = TestRuntime.startAndAwaitParked("closer", rt::close);
            closerParked.countDown();
            destroyer.join(10_000);
            assertInstanceOf(InjectedThrows.Injected.class, dthrown.get());
            gate.countDown();
            closer.join(25_000);
            assertFalse(closer.isAlive());
            assertEquals(5, ran.get());
            assertTrue(q.isDestroyed());
        } finally {
            TestHooks.install(null);
        }
    }

    /** close() times out while another thread's destroy() drains: the running item is interrupted, the queued ones still run, destroy() returns (every queue kind). */
    @Test
    void closeTimeoutDuringAnotherDestroyLosesNoQueuedItem() throws Exception {
        for (int kind = 0; kind < 5; kind++) {
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofMillis(300)).build());
            WorkQueue.Builder b = rt.queueBuilder("q");
            if (kind == 0) b.maxActive(1);
            if (kind == 1) b.unbound().maxActive(1);
            if (kind == 2) b.ordered();
            if (kind == 3) b.memReclaim().maxActive(1);
            if (kind == 4) b.highPriority().maxActive(1);
            WorkQueue q = b.build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger ran = new AtomicInteger();
            int accepted = 0;
            assertTrue(q.queueOn(0, new Work("gate", () -> {
                started.countDown();
                while (true) { // ignores close's interrupt
                    try {
                        release.await();
                        break;
                    } catch (InterruptedException e) {
                        // keep waiting
                    }
                }
            })));
            assertTrue(started.await(10, SECONDS));
            for (int i = 0; i < 10; i++) {
                if (q.queueOn(i % 2, new Work("p" + i, ran::incrementAndGet))) {
                    accepted++;
                }
            }
            // in its drain's flush (by hook: WAITING alone may be a pool lock on the way in)
        Thread destroyer = TestRuntime.startAndAwaitAt("destroyer", q::destroy, "flush.waiting");
            rt.close();
            release.countDown();
            destroyer.join(10_000);
            assertFalse(destroyer.isAlive(), "kind " + kind);
            assertEquals(accepted, ran.get(), "kind " + kind);
            assertTrue(q.isDestroyed(), "kind " + kind);
        }
    }

    /** An item of q2 destroys q1 (items queued behind a gate) while close() runs: no deadlock, nothing lost, q1's order either way. */
    @Test
    void aWorkerDestroyingAnotherQueueWhileCloseRuns() throws Exception {
        for (int order = 0; order < 2; order++) {
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(20)).build());
            WorkQueue q1;
            WorkQueue q2;
            if (order == 0) {
                q1 = rt.queueBuilder("q1").ordered().build();
                q2 = rt.queueBuilder("q2").build();
            } else {
                q2 = rt.queueBuilder("q2").build();
                q1 = rt.queueBuilder("q1").ordered().build();
            }
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch xIn = new CountDownLatch(1);
            AtomicInteger ran = new AtomicInteger();
            TestRuntime.blockOrdered(q1, release);
            for (int i = 0; i < 5; i++) {
                assertTrue(q1.queue(new Work("p" + i, ran::incrementAndGet)));
            }
            AtomicBoolean xDone = new AtomicBoolean();
            assertTrue(q2.queue(new Work("X", () -> {
                xIn.countDown();
                q1.destroy();
                xDone.set(true);
            })));
            assertTrue(xIn.await(10, SECONDS));
            Thread closer = TestRuntime.startAndAwaitParked("closer", rt::close);
            release.countDown();
            closer.join(20_000);
            assertFalse(closer.isAlive());
            assertTrue(xDone.get());
            assertEquals(5, ran.get());
            assertTrue(q1.isDestroyed() && q2.isDestroyed());
        }
    }

    /** The nested close() refused in the report listener on the closing thread: the outer close() still finishes (threads end, second close returns at once), the refusal is not thrown out of the outer close. */
    @Test
    void aRefusedNestedCloseInTheListenerDoesNotLeak() throws Exception {
        AtomicReference<WorkQueues> ref = new AtomicReference<>();
        List<Throwable> refused = new CopyOnWriteArrayList<>();
        List<Thread> made = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofMillis(300))
                .threadFactory(r -> {
                    Thread t = new Thread(r);
                    made.add(t);
                    return t;
                })
                .reportListener(s -> {
                    if (Thread.currentThread().getName().equals("closer")) {
                        try {
                            ref.get().close();
                        } catch (Throwable x) {
                            refused.add(x);
                        }
                    }
                }).build());
        ref.set(rt);
        WorkQueue q = rt.queueBuilder("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertTrue(q.queue(new Work("stuck", () -> {
            started.countDown();
            try {
                release.await(20, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })));
        assertTrue(started.await(10, SECONDS));
        AtomicReference<Throwable> outer = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            try {
                rt.close();
            } catch (Throwable t) {
                outer.set(t);
            }
        }, "closer");
        closer.start();
        closer.join(10_000);
        assertFalse(closer.isAlive());
        assertNull(outer.get());
        assertFalse(refused.isEmpty());
        assertInstanceOf(IllegalStateException.class, refused.get(0));
        for (Thread t : made) {
            t.join(5_000);
            assertFalse(t.isAlive(), t.getName());
        }
        rt.close(); // after: returns at once, from the former closing thread's peer too
        Thread again = new Thread(rt::close, "closer"); // same name, new thread: not refused
        again.start();
        again.join(5_000);
        assertFalse(again.isAlive());
    }
}
