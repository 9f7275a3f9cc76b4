package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial probes of the public queue API written from the README's promises, each pinning
 * one defect {@link LedgerTest} (or a probe beside it) found: deterministic, with gates and
 * "eventually" waits only.
 */
class LedgerProbesTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    /**
     * {@code queueDelayed} with a delay is accepted while the queue drains (only an immediate
     * queue is refused then); when its timer expires before the drain ends, the item must run
     * like any accepted item, not be dropped and reported as if its queue had died: the queue
     * lives on after the drain.
     */
    @Test
    void delayedItemWhoseTimerExpiresDuringADrainRunsAndIsNotReported() throws Exception {
        WorkQueue q = t.queue("q").unbound().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("gate", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
        Thread drainer = TestRuntime.startAndAwaitParked("drainer", q::drain); // draining: the gate still runs
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("expires-while-draining", runs::incrementAndGet);
        assertThat(q.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !dw.isTimerArmed());
        release.countDown();
        drainer.join(30_000);
        assertThat(drainer.isAlive()).isFalse();
        q.flush();
        assertThat(t.errors).as("reported instead of run").isEmpty();
        assertThat(runs.get()).isEqualTo(1);
    }

    /**
     * While {@code cancelSync()} waits for a running instance, the item counts as disabled (the
     * kernel's cancel_work_sync): a {@code queue} from another thread returns false and queues
     * nothing, so no run follows it. The javadoc's "a false return found an instance that had
     * not started yet, and it is that run" must say so; this pins the behaviour it describes.
     */
    @Test
    void queueRacingCancelSyncReturnsFalseAndNoRunFollows() throws Exception {
        WorkQueue q = t.queue("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                WorkQueueCoreTest.await(release);
            }
        });
        assertThat(q.queue(w)).isTrue();
        WorkQueueCoreTest.await(started);
        Thread canceller = TestRuntime.startAndAwaitParked("canceller", w::cancelSync);
        assertThat(w.disableDepth()).as("disabled while cancelSync waits").isEqualTo(1);
        assertThat(q.queue(w)).isFalse();
        assertThat(w.isPending()).isFalse();
        release.countDown();
        canceller.join(30_000);
        assertThat(canceller.isAlive()).isFalse();
        assertThat(w.disableDepth()).isZero();
        q.flush();
        assertThat(runs.get()).isEqualTo(1);
    }
}
