package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.lockdep.Lockdep;

/**
 * An insert's work after the item has landed (on the queue's first use with validation on: the
 * validator learns the waits recorded before the queue was used) must not make the insert look
 * as if it had failed: the item is queued, and its caller's undo (the timer's "idle again" on a
 * refused expiry) would clear PENDING on an item that sits on a worklist and runs.
 */
class LandedItemErrorTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.validator(Lockdep.builder().build()));
    private final LibraryLog log = LibraryLog.recording();

    @AfterEach
    void close() {
        TestHooks.install(null);
        log.close();
        t.close();
    }

    /*
     * The first use of a validated queue is a timer's expiry; an Error comes after the item has
     * landed (test point queue.firstUse, where the queue's latent waits are handed to the
     * validator). It was thrown out of the insert to the timer, which took it for a refused
     * expiry: it cleared TIMER and PENDING of the landed item and reported it to the
     * uncaught-work handler as not queued, while it ran. Fails on that code: the handler heard
     * of the item although it ran.
     */
    @Test
    void anErrorAfterAnExpiryLandedIsNotTakenForARefusal() throws Exception {
        WorkQueue q = t.queue("first-use-by-timer").build();
        AtomicInteger struck = new AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals("queue.firstUse") && struck.getAndIncrement() == 0) {
                throw new OutOfMemoryError("simulated: after the item landed");
            }
        });
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("expires-into-first-use", runs::incrementAndGet);
        assertThat(q.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> runs.get() == 1);
        q.flush();
        assertThat(struck.get()).as("the Error was thrown").isPositive();
        assertThat(t.errors).as("the handler heard of no refusal: the item was queued, and ran").isEmpty();
        assertThat(log.mentions("could not be given to the lock validator")).as("the Error was logged").isTrue();
        // Its state is whole: it can be queued again, and runs once more.
        assertThat(q.queue(dw)).isTrue();
        q.flush();
        assertThat(runs.get()).isEqualTo(2);
        assertThat(dw.isPending()).isFalse();
    }
}
