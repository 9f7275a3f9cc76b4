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
 * Attacks on the lock-free insert path (PoolWorkqueue's inbox) that broke it: each test fails
 * on the code before its fix.
 */
class InboxBreakTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    @Test
    @DisplayName("an Error right after the push that made the inbox non-empty neither loses that item nor the later ones pushed behind it")
    void errorAfterFirstPushLosesNothing() throws InterruptedException {
        WorkQueue q = t.queue("inbox-error-after-push").unbound().build();
        // Let the pool's worker start and go idle first: the pool is idle when the pushes come.
        CountDownLatch warm = new CountDownLatch(1);
        q.queue(new Work("warm", warm::countDown));
        WorkQueueCoreTest.await(warm);
        q.flush();

        AtomicBoolean armed = new AtomicBoolean(true);
        TestHooks.install((point, subject) -> {
            // An Error (a StackOverflowError in a deep caller, say) strikes between the push and
            // the wake-up decision, once.
            if (point.equals("queue.pushedFirst") && armed.compareAndSet(true, false)) {
                throw new StackOverflowError("injected between push and signal");
            }
        });
        CountDownLatch ran = new CountDownLatch(2);
        Work first = new Work("first", ran::countDown);
        Work second = new Work("second", ran::countDown);
        assertThat(q.queue(first)).as("queued: the node was pushed").isTrue();
        assertThat(q.queue(second)).isTrue();

        assertThat(ran.await(20, TimeUnit.SECONDS))
                .as("both items ran without any other event (only %s of 2 missing)", ran.getCount()).isTrue();
        assertThat(armed).as("the hook fired").isFalse();
        assertThat(t.errors).as("the Error went to the uncaught-work handler").hasSize(1);
    }
}
