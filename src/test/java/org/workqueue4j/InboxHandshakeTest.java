package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * The lock-free insert path's idle handshake (WorkerPool's overview), each half pinned by a test
 * hook that holds one side between its two steps: a producer pushes, stores the pool's hint and
 * reads whether a worker is seeking; a worker going idle stops seeking and re-reads the hint.
 * With either re-read missing, the pushed item would wait for the idle timeout (minutes).
 */
class InboxHandshakeTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    private boolean isWorker() {
        return t.threads.contains(Thread.currentThread());
    }

    @Test
    @DisplayName("an item pushed while the last worker is about to stop seeking runs: the worker re-reads the hint before parking")
    void pushBeforeTheWorkerStopsSeekingRuns() throws InterruptedException {
        WorkQueue q = t.queue("inbox-worker-half").unbound().build();
        CountDownLatch ran = new CountDownLatch(1);
        Work pushed = new Work("pushed", ran::countDown);
        AtomicBoolean armed = new AtomicBoolean(true);
        CountDownLatch producerDone = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("worker.idleHandshake") && isWorker() && armed.compareAndSet(true, false)) {
                // The worker holds the pool lock and still counts as seeking: the producer's
                // push sees it seeking and leaves the item to it, without a wake-up.
                Thread producer = new Thread(() -> {
                    q.queue(pushed);
                    producerDone.countDown();
                }, "producer");
                producer.start();
                WorkQueueCoreTest.await(producerDone);
            }
        });
        Work trigger = new Work("trigger", () -> { });
        q.queue(trigger); // wakes the worker; after it the worker goes idle through the hook

        assertThat(producerDone.await(30, TimeUnit.SECONDS)).as("the producer pushed from inside the handshake").isTrue();
        assertThat(ran.await(10, TimeUnit.SECONDS)).as("the item pushed during the handshake ran without a flush").isTrue();
        assertThat(armed).as("the hook fired").isFalse();
    }

    @Test
    @DisplayName("an item whose producer stores the hint after the worker parked runs: the producer reads that no worker seeks and wakes one")
    void hintAfterTheWorkerParkedWakesAWorker() throws InterruptedException {
        WorkQueue q = t.queue("inbox-producer-half").unbound().build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        Work blocker = new Work("blocker", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        });
        q.queue(blocker);
        WorkQueueCoreTest.await(started); // the worker runs user code: not seeking

        CountDownLatch parked = new CountDownLatch(1);
        CountDownLatch ran = new CountDownLatch(1);
        Work pushed = new Work("pushed", ran::countDown);
        AtomicBoolean armed = new AtomicBoolean(true);
        TestHooks.install((point, subject) -> {
            if (point.equals("worker.park") && isWorker()) {
                parked.countDown();
            } else if (point.equals("queue.pushedFirst") && Thread.currentThread().getName().equals("producer")
                    && armed.compareAndSet(true, false)) {
                // Pushed, hint not stored yet: let the blocker end and the worker go idle and park
                // (it saw no hint), then store the hint and read the seeking count.
                release.countDown();
                WorkQueueCoreTest.await(parked);
            }
        });
        Thread producer = new Thread(() -> q.queue(pushed), "producer");
        producer.start();
        producer.join(30_000);

        assertThat(armed).as("the hook fired").isFalse();
        assertThat(parked.getCount()).as("the worker parked between the push and the hint").isZero();
        assertThat(ran.await(10, TimeUnit.SECONDS)).as("the producer woke a worker for its item").isTrue();
    }
}
