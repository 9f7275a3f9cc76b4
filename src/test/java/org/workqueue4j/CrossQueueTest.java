package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * An item runs on one worker at a time, across queues and runtimes (SPEC §4): queueing it on a
 * second queue while it still runs on the first is refused, so its item-level answers
 * ({@code busy()}, {@code flush()}, {@code cancelSync()}) are about its one instance.
 */
class CrossQueueTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    /** An item whose first run blocks until {@code release}; {@code started} counts its runs starting. */
    private static Work blockingFirstRun(String name, CountDownLatch started, CountDownLatch release, AtomicInteger runs) {
        return new Work(name, () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                WorkQueueCoreTest.await(release);
            }
        });
    }

    private static void assertRefusedNaming(Runnable queueing, String item, String running, String refused) {
        assertThatThrownBy(queueing::run).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'" + item + "'").hasMessageContaining("'" + running + "'")
                .hasMessageContaining("'" + refused + "'").hasMessageContaining("runs on");
    }

    /** Runs the item's first instance on {@code first}, checks {@code second} refuses it, then lets it end. */
    private void assertRefusedWhileRunning(WorkQueue first, WorkQueue second) throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work w = blockingFirstRun("w", started, release, runs);
        first.queueOn(0, w);
        WorkQueueCoreTest.await(started);

        assertRefusedNaming(() -> second.queueOn(0, w), "w", first.name(), second.name());
        assertThat(w.isPending()).as("the refused call left the item idle").isFalse();
        assertThat(w.busy()).as("it runs (on the first queue) and is not pending").isEqualTo(Work.BUSY_RUNNING);

        // cancelSync returns only once the one running instance has ended, and nothing runs after.
        Thread canceller = TestRuntime.startAndAwaitParked("canceller", w::cancelSync);
        assertThat(canceller.isAlive()).as("cancelSync waits for the running instance").isTrue();
        release.countDown();
        canceller.join();
        assertThat(w.busy()).as("after cancelSync the item runs nowhere").isZero();
        assertThat(runs).hasValue(1);

        assertThat(second.queueOn(0, w)).as("idle now: accepted").isTrue();
        w.flush(); // waits for the second queue's instance, if it has not run yet
        assertThat(runs).hasValue(2);
        assertThat(w.busy()).isZero();
    }

    @Test
    @DisplayName("an item running on one queue is refused by another queue of another pool")
    void refusedByAQueueOfAnotherPool() throws InterruptedException {
        assertRefusedWhileRunning(t.queue("first").build(), t.queue("second").unbound().build());
    }

    @Test
    @DisplayName("an item running on one queue is refused by another queue of the same pool")
    void refusedByAQueueOfTheSamePool() throws InterruptedException {
        assertRefusedWhileRunning(t.queue("first").build(), t.queue("second").build());
    }

    @Test
    @DisplayName("an item running on a queue of one runtime is refused by a queue of another runtime")
    void refusedByAQueueOfAnotherRuntime() throws InterruptedException {
        try (TestRuntime other = new TestRuntime()) {
            assertRefusedWhileRunning(t.queue("first").build(), other.queue("second").build());
        }
    }

    @Test
    @DisplayName("a delayed item running on one queue is neither armed nor re-armed for another")
    void delayedItemRunningOnOneQueueIsNotArmedForAnother() throws InterruptedException {
        WorkQueue first = t.queue("first").build();
        WorkQueue second = t.queue("second").unbound().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                WorkQueueCoreTest.await(release);
            }
        });
        first.queue(dw);
        WorkQueueCoreTest.await(started);

        assertRefusedNaming(() -> second.queueDelayed(dw, Duration.ofHours(1)), "dw", "first", "second");
        assertRefusedNaming(() -> second.modDelayed(dw, Duration.ofHours(1)), "dw", "first", "second");
        assertRefusedNaming(() -> second.modDelayed(dw, Duration.ZERO), "dw", "first", "second");
        assertThat(dw.isPending()).isFalse();
        assertThat(dw.isTimerArmed()).isFalse();
        assertThat(first.modDelayed(dw, Duration.ofHours(1))).as("its own queue may re-arm it").isFalse();
        assertThat(dw.cancel()).isTrue();

        release.countDown();
        first.flush(); // the first run has ended
        assertThat(second.queueDelayed(dw, Duration.ofHours(1))).as("idle now: accepted").isTrue();
        assertThat(dw.flush()).isTrue();
        assertThat(runs).hasValue(2);
    }
}
