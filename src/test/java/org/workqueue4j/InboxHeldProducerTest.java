package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * Readers of pending state against an item sitting in a pwq's lock-free inbox whose producer
 * has not signalled yet (held at {@code queue.pushedFirst}, after the push and before the hint
 * store): each reader must land the inbox itself, as no hint and no wake-up exist yet.
 */
class InboxHeldProducerTest {
    private final TestRuntime t = new TestRuntime();
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger runs = new AtomicInteger();
    private final Work x = new Work("x", runs::incrementAndGet);
    private Thread producer;

    @AfterEach
    void close() throws InterruptedException {
        release.countDown();
        if (producer != null) {
            producer.join(TimeUnit.SECONDS.toMillis(30));
        }
        TestHooks.install(null);
        t.close();
    }

    /** Queues x from a producer thread held just after its push made the inbox non-empty. */
    private WorkQueue pushAndHold(String name) {
        WorkQueue q = t.queue(name).unbound().build();
        // The queue's first item takes the locked path (it marks the queue used for the
        // validator); only later ones may push lock-free.
        q.queue(new Work("warm-up", () -> { }));
        q.flush();
        TestHooks.install((point, subject) -> {
            if (point.equals("queue.pushedFirst") && subject == x.node) { // the hook names the engine node
                held.countDown();
                WorkQueueCoreTest.await(release);
            }
        });
        producer = new Thread(() -> q.queue(x), "held-producer");
        producer.start();
        WorkQueueCoreTest.await(held);
        assertThat(x.isPending()).as("x is in the inbox, pending").isTrue();
        return q;
    }

    @Test
    @DisplayName("queue.flush() after a false queue() waits for the item still in the inbox of a producer that has not signalled")
    void queueFlushLandsAndWaits() {
        WorkQueue q = pushAndHold("held-flush");
        assertThat(q.queue(x)).as("already pending").isFalse();
        q.flush();
        assertThat(runs).as("the flush waited for x").hasValue(1);
    }

    @Test
    @DisplayName("work.flush() waits for an item in the inbox of a producer that has not signalled")
    void workFlushLandsAndWaits() {
        pushAndHold("held-work-flush");
        assertThat(x.flush()).as("it waited").isTrue();
        assertThat(runs).hasValue(1);
    }

    @Test
    @DisplayName("cancel() takes an item back out of the inbox of a producer that has not signalled: it never runs")
    void cancelTakesItBack() throws InterruptedException {
        WorkQueue q = pushAndHold("held-cancel");
        assertThat(x.cancel()).as("it was pending").isTrue();
        assertThat(x.isPending()).isFalse();
        release.countDown();
        producer.join(TimeUnit.SECONDS.toMillis(30));
        q.flush();
        assertThat(runs).as("the cancelled instance never ran").hasValue(0);
    }

    @Test
    @DisplayName("drain() waits for an item in the inbox of a producer that has not signalled")
    void drainLandsAndWaits() {
        WorkQueue q = pushAndHold("held-drain");
        q.drain();
        assertThat(runs).as("drain waited for x").hasValue(1);
    }
}
