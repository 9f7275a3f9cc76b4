package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * {@code awaitTermination} of an owning view now runs the owned queue's destroy on the waiting
 * (user) thread instead of on a {@code system_unbound} worker. The runtime's {@code close()}
 * does not wait for a destroy that another thread runs ({@code destroyUntil}: "another destroy
 * runs (close does not wait for it)"); it used to wait for this one through the system queue it
 * drains (the destroy was that queue's item). So {@code close()} now returns while one of its
 * queues is still being destroyed.
 *
 * <p>Contract: {@code WorkQueues.close()} "Destroys every queue still alive (draining it) ...
 * returns only once the runtime is closed"; README faults table, "{@code WorkQueues.close()}
 * while work is running | Every queue is destroyed". No timeout is involved here.
 *
 * <p>The test hook {@code flush.flip} holds the waiting thread inside the destroy's drain (as a
 * preemption there would) until {@code close()} has returned.
 *
 * <p>Expected: after {@code close()} returns, the owned queue is destroyed (before the change:
 * the destroy was an item of {@code system_unbound}, which close drains). Actual: the owned
 * queue is not destroyed when {@code close()} returns ({@code isDestroyed()} false), and
 * {@code close()} returned with another thread still inside the runtime's destroy.
 */
@Timeout(60)
class Break7OwnedViewCloseRaceTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2));
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch goFlip = new CountDownLatch(1);

    @AfterEach
    void close() {
        TestHooks.install(null);
        goFlip.countDown();
        release.countDown();
        t.close();
    }

    @Test
    void closeReturnsOnlyOnceAnOwnedQueueWhoseDestroyAWaiterTookBackIsDestroyed() throws Exception {
        WorkQueue busy = t.queue("busy").unbound().build();
        CountDownLatch started = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            busy.queue(new Work("long-" + i, () -> {
                started.countDown();
                WorkQueueCoreTest.await(release);
            }));
        }
        assertThat(started.await(10, SECONDS)).as("both workers busy").isTrue();
        ExecutorService owned = t.queue("owned").unbound().buildExecutorService();
        WorkQueue ownedQueue = t.rt.queues().stream().filter(q -> q.name().equals("owned")).findFirst().orElseThrow();
        CountDownLatch atFlip = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.flip") && Thread.currentThread().getName().equals("awaiter")) {
                atFlip.countDown();
                WorkQueueCoreTest.await(goFlip);
            }
        });
        owned.shutdown(); // the destroy waits on system_unbound for a worker
        AtomicReference<Object> result = new AtomicReference<>();
        Thread awaiter = new Thread(() -> {
            try {
                result.set(owned.awaitTermination(30, SECONDS));
            } catch (Throwable e) {
                result.set(e);
            }
        }, "awaiter");
        awaiter.start();
        boolean waiterInDestroy = atFlip.await(5, SECONDS); // expected either way; actual: true
        release.countDown();
        t.close();
        boolean destroyedAtCloseReturn = ownedQueue.isDestroyed();
        TestHooks.install(null);
        goFlip.countDown();
        awaiter.join(20_000);
        assertThat(destroyedAtCloseReturn).as("owned queue destroyed when close() returned (the awaiter ran the"
                + " destroy itself: %s; awaitTermination: %s)", waiterInDestroy, result.get()).isTrue();
    }
}
