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

    /**
     * A lander clears the hint a seeking worker was counted on to see, so it must wake a worker
     * for what it landed. The worker manager's scan looks at every pool and lands its inboxes;
     * finding an idle worker there it creates none (the cap's retirement scan and a rescuer
     * land the same way). Every cpu-0 worker is held idle and seeking, without the lock, until
     * the scan is done; the monitor is held so that its own tick cannot wake one.
     */
    @Test
    @DisplayName("an item landed by the worker manager's scan while the only seeking worker spins runs")
    void managerScanThatLandsTheInboxWakesAWorker() throws InterruptedException {
        WorkQueue q = t.queue("inbox-manager").build();
        CountDownLatch spinning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean holdMonitor = new AtomicBoolean();
        CountDownLatch monitorGo = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger scans = new java.util.concurrent.atomic.AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals("worker.spin") && isWorker() && Thread.currentThread().getName().contains("/kworker/0:")) {
                spinning.countDown();
                WorkQueueCoreTest.await(release);
            } else if (point.equals("monitor.scan") && isWorker() && holdMonitor.get()) {
                WorkQueueCoreTest.await(monitorGo);
            } else if (point.equals("manager.scanned") && isWorker()) {
                scans.incrementAndGet();
            }
        });
        try {
            CountDownLatch first = new CountDownLatch(1);
            q.queueOn(0, new Work("first", first::countDown));
            WorkQueueCoreTest.await(first);
            WorkQueueCoreTest.await(spinning); // a cpu-0 worker is idle and seeking
            holdMonitor.set(true);
            CountDownLatch ran = new CountDownLatch(1);
            assertThat(q.queueOn(0, new Work("pushed", ran::countDown))).isTrue(); // lock-free, no wake-up
            int before = scans.get();
            CountDownLatch other = new CountDownLatch(1);
            // A pool with no worker asks the manager for one; its scan visits cpu 0's pool too.
            t.queue("inbox-manager-trigger").unbound().build().queue(new Work("trigger", other::countDown));
            WorkQueueCoreTest.await(other);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> scans.get() > before);
            release.countDown();
            assertThat(ran.await(30, TimeUnit.SECONDS)).as("the item the manager landed ran without a flush").isTrue();
        } finally {
            release.countDown();
            monitorGo.countDown();
        }
    }
}
