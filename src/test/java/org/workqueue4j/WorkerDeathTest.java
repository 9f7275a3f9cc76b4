package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * A worker killed by an {@code Error} in the engine's own code after an item's function returned
 * (the worst moment: the item has run, its accounting is still to come; an asynchronous
 * exception or an allocation failure can strike there) must not take its pool or the queue's
 * flushes with it: the item is accounted for (a flush of the queue returns), the dead worker
 * stops counting as running (later items run on another worker), and nothing is left pending.
 */
class WorkerDeathTest {
    @AfterEach
    void removeHook() {
        TestHooks.install(null);
    }

    @Test
    void aWorkerKilledAfterItsItemLeavesThePoolAndTheFlushesWorking() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        CountDownLatch deadThreadSeen = new CountDownLatch(1);
        ThreadGroupCapture capture = new ThreadGroupCapture(deadThreadSeen);
        try (WorkQueues rt = runtimeKillingAWorker(capture, armed)) {
            WorkQueue q = rt.queueBuilder("survives").build();
            AtomicBoolean firstRan = new AtomicBoolean();
            armed.set(true);
            assertThat(q.queueOn(0, new Work("first", () -> firstRan.set(true)))).isTrue();
            assertThat(deadThreadSeen.await(20, TimeUnit.SECONDS)).as("the worker died").isTrue();
            assertThat(firstRan).isTrue();
            assertThat(q.flush(Duration.ofSeconds(20))).as("the flush of the queue returns: the item was accounted for").isTrue();
            AtomicBoolean secondRan = new AtomicBoolean();
            Work second = new Work("second", () -> secondRan.set(true));
            assertThat(q.queueOn(0, second)).isTrue();
            assertThat(q.flush(Duration.ofSeconds(20))).as("a later item runs on the same CPU's pool").isTrue();
            assertThat(secondRan).isTrue();
            assertThat(second.isPending()).isFalse();
            assertThat(capture.uncaught.get()).as("the Error reached the thread's handler").isInstanceOf(OutOfMemoryError.class);
        }
    }

    @Test
    void anInstanceQueuedWhileItsItemRanStillRunsAfterTheWorkerDies() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        CountDownLatch deadThreadSeen = new CountDownLatch(1);
        ThreadGroupCapture capture = new ThreadGroupCapture(deadThreadSeen);
        try (WorkQueues rt = runtimeKillingAWorker(capture, armed)) {
            WorkQueue q = rt.queueBuilder("survives").build();
            AtomicInteger runs = new AtomicInteger();
            Work[] self = new Work[1];
            self[0] = new Work("requeues-once", () -> {
                if (runs.incrementAndGet() == 1) {
                    // Queued while it runs (the locked path, RUNNING set): the next instance is
                    // waiting when the injected Error ends this worker.
                    q.queue(self[0]);
                }
            });
            armed.set(true);
            assertThat(q.queueOn(0, self[0])).isTrue();
            assertThat(deadThreadSeen.await(20, TimeUnit.SECONDS)).as("the worker died").isTrue();
            assertThat(q.flush(Duration.ofSeconds(20))).as("the flush returns").isTrue();
            assertThat(runs).as("the instance queued while the first ran, ran on another worker").hasValue(2);
            assertThat(self[0].isPending()).isFalse();
        }
    }

    @Test
    void anInstanceHandedToTheDyingWorkerRunsOnAnother() throws Exception {
        // Unbound: a second worker takes the next instance while the first worker still runs the
        // item, and hands it to that worker (non-reentrancy, kernel find_worker_executing_work):
        // it is on the first worker's scheduled list when the injected Error ends that worker.
        AtomicBoolean armed = new AtomicBoolean();
        CountDownLatch deadThreadSeen = new CountDownLatch(1);
        CountDownLatch handed = new CountDownLatch(1);
        ThreadGroupCapture capture = new ThreadGroupCapture(deadThreadSeen);
        try (WorkQueues rt = runtimeKillingAWorker(capture, armed, point -> {
            if (point.equals("pool.collision")) {
                handed.countDown();
            }
        })) {
            WorkQueue q = rt.queueBuilder("survives-unbound").unbound().build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            Work item = new Work("handed-back", () -> {
                if (runs.incrementAndGet() == 1) {
                    started.countDown();
                    FlushContractTest.awaitUninterruptibly(release);
                }
            });
            armed.set(true);
            assertThat(q.queue(item)).isTrue();
            assertThat(started.await(20, TimeUnit.SECONDS)).as("the first instance runs").isTrue();
            assertThat(q.queue(item)).as("queued again while it runs").isTrue();
            assertThat(handed.await(20, TimeUnit.SECONDS)).as("another worker handed it to the running one").isTrue();
            release.countDown();
            assertThat(deadThreadSeen.await(20, TimeUnit.SECONDS)).as("the worker died").isTrue();
            assertThat(q.flush(Duration.ofSeconds(20))).as("the flush returns: the handed instance was not lost with its worker").isTrue();
            assertThat(runs).as("the handed instance ran on another worker").hasValue(2);
            assertThat(item.isPending()).isFalse();
        }
    }

    private static WorkQueues runtimeKillingAWorker(ThreadGroupCapture factory, AtomicBoolean armed) {
        return runtimeKillingAWorker(factory, armed, point -> { });
    }

    /**
     * A runtime whose worker passing the test point {@code worker.itemEnd} while {@code armed}
     * (once) is ended by an {@code OutOfMemoryError} there: after its item's function, before
     * the item's accounting; every point passed is shown to {@code otherPoints} first.
     */
    private static WorkQueues runtimeKillingAWorker(ThreadGroupCapture factory, AtomicBoolean armed,
            java.util.function.Consumer<String> otherPoints) {
        TestHooks.install((point, subject) -> {
            otherPoints.accept(point);
            if (point.equals("worker.itemEnd") && armed.compareAndSet(true, false)) {
                throw new OutOfMemoryError("injected: the worker dies after its item ran");
            }
        });
        return WorkQueues.create(WorkQueuesConfig.builder().cpus(2).threadFactory(factory).idleTimeout(Duration.ofMinutes(5)).build());
    }

    /** A factory whose threads report how they ended. */
    private static final class ThreadGroupCapture implements java.util.concurrent.ThreadFactory {
        final AtomicReference<Throwable> uncaught = new AtomicReference<>();
        private final CountDownLatch died;

        ThreadGroupCapture(CountDownLatch died) {
            this.died = died;
        }

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r);
            t.setDaemon(true);
            t.setUncaughtExceptionHandler((th, e) -> {
                uncaught.set(e);
                died.countDown();
            });
            return t;
        }
    }
}
