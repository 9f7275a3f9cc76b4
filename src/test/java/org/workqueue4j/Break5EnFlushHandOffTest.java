package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * FlushColors.handOffDone: a waiting flusher whose own flip finished another caller's flushAsync()
 * record (nothing in flight) no longer completes that future; it queues an AsyncFlushStep on the
 * queue's first pwq. That step holds no active slot (INACTIVE), so a pool that cannot get a worker
 * (the runtime's worker cap hit) sends no mayday for it (WorkerPool.sendMaydays: nrActive > 0), and
 * the queue's rescuer (memReclaim) never runs it: the future of a flush that finished stays
 * incomplete for as long as an unrelated queue's items keep the pool's workers.
 */
@Timeout(60)
class Break5EnFlushHandOffTest {
    private final TestRuntime t = new TestRuntime(1, b -> b.maxWorkers(2)
            .cpuIntensiveThreshold(Duration.ofDays(365 * 200)));

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    @Test
    void aHandedOffFutureCompletesAtTheWorkerCap() throws Exception {
        WorkQueue q = t.queue("q").memReclaim().build(); // rescuer: forward progress without new workers
        WorkQueue o = t.queue("o").build(); // same per-CPU pool as q
        WorkQueue u = t.queue("u").unbound().build();
        CountDownLatch yStarted = new CountDownLatch(1);
        CountDownLatch yRelease = new CountDownLatch(1);
        u.queue(new Work("Y", () -> {
            yStarted.countDown();
            WorkQueueCoreTest.await(yRelease);
        }));
        assertTrue(yStarted.await(10, SECONDS), "Y started (unbound pool: worker 1 of 2)");
        CountDownLatch xStarted = new CountDownLatch(1);
        o.queueOn(0, new Work("X", () -> {
            xStarted.countDown();
            u.flush(); // a library wait: X's worker sleeps (worker 2 of 2)
        }));
        assertTrue(xStarted.await(10, SECONDS), "X started");
        CountDownLatch atFlip = new CountDownLatch(1);
        CountDownLatch goFlip = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.flip") && Thread.currentThread().getName().equals("t1-flusher")) {
                atFlip.countDown();
                WorkQueueCoreTest.await(goFlip);
            }
        });
        AtomicReference<Object> t1Result = new AtomicReference<>();
        Thread t1 = new Thread(() -> {
            try {
                q.flush();
                t1Result.set("flushed");
            } catch (Throwable e) {
                t1Result.set(e);
            }
        }, "t1-flusher");
        t1.start();
        CompletableFuture<Void> f;
        try {
            assertTrue(atFlip.await(10, SECONDS), "T1 holds the flip mutex");
            f = q.flushAsync(); // registers; the flip is T1's
        } finally {
            goFlip.countDown();
        }
        t1.join(10_000);
        assertTrue(!t1.isAlive() && "flushed".equals(t1Result.get()), "T1's flush returned: " + t1Result.get());
        TestHooks.install(null);
        try {
            // q has nothing in flight: the flush that covers f has finished.
            boolean completed;
            try {
                f.get(10, SECONDS);
                completed = true;
            } catch (java.util.concurrent.TimeoutException e) {
                completed = false;
            }
            assertTrue(completed, "expected the flushAsync() future of queue q (nothing in flight, its flip finished by"
                    + " T1's flush) to complete; actual: still incomplete after 10 s, its AsyncFlushStep waiting on a pool"
                    + " with no worker (cap 2 reached by other queues' items) and no mayday for it: stats " + q.stats());
        } finally {
            yRelease.countDown();
        }
        f.get(10, SECONDS);
    }

    /**
     * The same hand-off with no cap: the step waits on the pool's worklist behind an unrelated
     * queue's long item (counted running), and counts in q's in-flight colour, so drain() and
     * destroy() of q, which never had an item, wait for that unrelated item to end.
     */
    @Test
    void anIdleQueuesDestroyDoesNotWaitForAnotherQueuesItem() throws Exception {
        TestRuntime r = new TestRuntime(1, b -> b.cpuIntensiveThreshold(Duration.ofDays(365 * 200)));
        try {
            WorkQueue q = r.queue("q2").build();
            WorkQueue o = r.queue("o2").build();
            CountDownLatch xStarted = new CountDownLatch(1);
            CountDownLatch xRelease = new CountDownLatch(1);
            o.queueOn(0, new Work("X", () -> {
                xStarted.countDown();
                WorkQueueCoreTest.await(xRelease);
            }));
            assertTrue(xStarted.await(10, SECONDS), "X started");
            CountDownLatch atFlip = new CountDownLatch(1);
            CountDownLatch goFlip = new CountDownLatch(1);
            TestHooks.install((point, subject) -> {
                if (point.equals("flush.flip") && Thread.currentThread().getName().equals("t1-flusher2")) {
                    atFlip.countDown();
                    WorkQueueCoreTest.await(goFlip);
                }
            });
            Thread t1 = new Thread(q::flush, "t1-flusher2");
            t1.start();
            CompletableFuture<Void> f;
            try {
                assertTrue(atFlip.await(10, SECONDS), "T1 holds the flip mutex");
                f = q.flushAsync();
            } finally {
                goFlip.countDown();
            }
            t1.join(10_000);
            assertTrue(!t1.isAlive(), "T1's flush returned");
            TestHooks.install(null);
            CountDownLatch destroyed = new CountDownLatch(1);
            Thread d = new Thread(() -> {
                q.destroy();
                destroyed.countDown();
            }, "destroyer");
            d.start();
            try {
                assertTrue(destroyed.await(10, SECONDS), "expected destroy() of queue q2 (no item ever queued, its"
                        + " flushes finished) to return; actual: still waiting after 10 s for the AsyncFlushStep that"
                        + " waits behind queue o2's running item X (future done: " + f.isDone() + ")");
            } finally {
                xRelease.countDown();
                d.join(10_000);
            }
        } finally {
            TestHooks.install(null);
            r.close();
        }
    }
}
