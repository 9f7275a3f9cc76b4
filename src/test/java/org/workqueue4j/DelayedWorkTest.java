package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Delayed work (SPEC §4: queueDelayed, modDelayed, flush of a delayed item, the shared timer), one guarantee per test. */
class DelayedWorkTest {
    private static final Duration HOUR = Duration.ofHours(1);

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }


    private static void awaitTrue(CountDownLatch l) throws InterruptedException {
        assertThat(l.await(30, TimeUnit.SECONDS)).as("latch released").isTrue();
    }

    @Test
    void queueDelayedReturnsFalseWhileTheTimerIsArmed() {
        WorkQueue q = t.queue("dq").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });

        assertThat(q.queueDelayed(dw, HOUR)).isTrue();
        assertThat(dw.isPending()).isTrue();
        assertThat(dw.isTimerArmed()).isTrue();
        assertThat(q.queueDelayed(dw, Duration.ZERO)).isFalse();
        assertThat(dw.cancel()).isTrue();
    }

    @Test
    void aDelayedItemRunsOnceItsDelayHasPassed() throws Exception {
        WorkQueue q = t.queue("dq").build();
        CountDownLatch ran = new CountDownLatch(1);
        DelayedWork dw = new DelayedWork("dw", ran::countDown);

        assertThat(q.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
        awaitTrue(ran);
        q.flush();
        assertThat(dw.isPending()).isFalse();
        assertThat(dw.isTimerArmed()).isFalse();
    }

    @Test
    void zeroDelayQueuesAtOnceWithoutArmingTheTimer() {
        WorkQueue q = t.queue("dq").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);

        assertThat(q.queueDelayed(dw, Duration.ZERO)).isTrue();
        assertThat(dw.isPending()).isTrue();
        assertThat(dw.isTimerArmed()).as("delay 0 goes straight to the queue").isFalse();
        release.countDown();
        q.flush();
        assertThat(runs).hasValue(1);
    }

    @Test
    void negativeDelayIsAnIllegalArgumentAndLeavesTheItemIdle() {
        WorkQueue q = t.queue("dq").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });

        assertThatThrownBy(() -> q.queueDelayed(dw, Duration.ofNanos(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dw").hasMessageContaining("dq");
        assertThatThrownBy(() -> q.modDelayed(dw, Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(dw.isPending()).isFalse();
        assertThat(q.queueDelayed(dw, HOUR)).as("still usable").isTrue();
        dw.cancel();
    }

    @Test
    void queueDelayedOnAnUnknownCpuIsAnIllegalArgument() {
        WorkQueue q = t.queue("dq").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });
        assertThatThrownBy(() -> q.queueDelayedOn(2, dw, HOUR)).isInstanceOf(IllegalArgumentException.class);
        assertThat(dw.isPending()).isFalse();
    }

    @Test
    void flushFiresAnArmedTimerNowAndWaitsForTheRun() {
        WorkQueue q = t.queue("dq").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        q.queueDelayed(dw, HOUR);

        assertThat(dw.flush()).isTrue();
        assertThat(runs).hasValue(1);
        assertThat(dw.isPending()).isFalse();
        assertThat(dw.isTimerArmed()).isFalse();
    }

    @Test
    void flushOfAnIdleDelayedItemReturnsFalse() {
        DelayedWork dw = new DelayedWork("dw", () -> { });
        assertThat(dw.flush()).isFalse();
    }

    @Test
    void modDelayedOnAPendingItemMovesTheDeadlineEarlier() throws Exception {
        WorkQueue q = t.queue("dq").build();
        CountDownLatch ran = new CountDownLatch(1);
        DelayedWork dw = new DelayedWork("dw", ran::countDown);
        q.queueDelayed(dw, HOUR);

        assertThat(q.modDelayed(dw, Duration.ofMillis(1))).as("it was pending and was modified").isTrue();
        awaitTrue(ran); // only an earlier deadline can fire within the test's lifetime
        assertThat(dw.isPending()).isFalse();
    }

    @Test
    void modDelayedToZeroQueuesAPendingItemNow() {
        WorkQueue q = t.queue("dq").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        q.queueDelayed(dw, HOUR);

        assertThat(q.modDelayed(dw, Duration.ZERO)).isTrue();
        assertThat(dw.isTimerArmed()).isFalse();
        assertThat(dw.isPending()).as("queued behind the gate").isTrue();
        release.countDown();
        q.flush();
        assertThat(runs).hasValue(1);
    }

    @Test
    void modDelayedOnAPendingItemMovesTheDeadlineLater() {
        WorkQueue q = t.queue("dq").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        // The gate holds the queue, so whether the 1 ns timer fired already (item inactive) or not (armed),
        // the item is pending and has not run when modDelayed looks at it.
        q.queueDelayed(dw, Duration.ofNanos(1));

        assertThat(q.modDelayed(dw, HOUR)).as("it was pending and was modified").isTrue();
        assertThat(dw.isTimerArmed()).isTrue();
        release.countDown();
        q.flush();
        assertThat(runs).as("the later deadline has not come").hasValue(0);
        assertThat(dw.isPending()).isTrue();
        assertThat(dw.cancel()).isTrue();
        assertThat(runs).hasValue(0);
    }

    @Test
    void modDelayedOnAnIdleItemArmsItAndReturnsFalse() {
        WorkQueue q = t.queue("dq").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });

        assertThat(q.modDelayed(dw, HOUR)).as("it was idle").isFalse();
        assertThat(dw.isTimerArmed()).isTrue();
        assertThat(dw.cancel()).isTrue();
    }

    @Test
    void modDelayedTakesAQueuedItemBackOntoTheTimer() {
        WorkQueue q = t.queue("dq").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        q.queue(dw);

        assertThat(q.modDelayed(dw, HOUR)).isTrue();
        assertThat(dw.isTimerArmed()).isTrue();
        release.countDown();
        q.flush();
        assertThat(runs).hasValue(0);
        assertThat(dw.flush()).isTrue();
        assertThat(runs).hasValue(1);
    }

    @Test
    void reArmingReusesTheItemsTimerEntry() {
        WorkQueue q = t.queue("dq").build();
        DelayedWork[] items = new DelayedWork[8];
        for (int i = 0; i < items.length; i++) {
            items[i] = new DelayedWork("dw" + i, () -> { });
            q.queueDelayed(items[i], HOUR);
        }
        for (int round = 0; round < 1000; round++) {
            DelayedWork dw = items[round % items.length];
            assertThat(q.modDelayed(dw, HOUR.plusSeconds(round))).isTrue();
        }
        assertThat(t.rt.engine().timer().armed()).as("one entry per item, however often re-armed").isEqualTo(items.length);
        for (DelayedWork dw : items) {
            assertThat(dw.cancel()).isTrue();
        }
        assertThat(t.rt.engine().timer().armed()).isZero();
    }

    @Test
    void cancelStopsAnArmedTimerAndTheItemNeverRuns() {
        WorkQueue q = t.queue("dq").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        q.queueDelayed(dw, HOUR);

        assertThat(dw.cancel()).isTrue();
        assertThat(dw.isPending()).isFalse();
        assertThat(dw.isTimerArmed()).isFalse();
        assertThat(dw.flush()).isFalse();
        assertThat(dw.cancel()).isFalse();
        assertThat(runs).hasValue(0);
    }

    @Test
    void cancelOfADelayedItemAboutToFireRunsItExactlyOnceOrCancelsIt() {
        WorkQueue q = t.queue("race").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        int cancelled = 0;
        for (int i = 0; i < 100_000; i++) {
            int before = runs.get();
            assertThat(q.queueDelayed(dw, Duration.ofNanos(1 + (i * 7919L) % 1000))).isTrue();
            for (int s = i & 63; s > 0; s--) {
                Thread.onSpinWait(); // vary the moment of the cancel relative to the expiry
            }
            boolean wasCancelled = dw.cancel();
            dw.flush(); // a run that won the race is complete after this
            int ran = runs.get() - before;
            if (ran + (wasCancelled ? 1 : 0) != 1) {
                throw new AssertionError("try " + i + ": ran " + ran + " times, cancel returned " + wasCancelled);
            }
            if (wasCancelled) {
                cancelled++;
            }
        }
        assertThat(runs.get() + cancelled).isEqualTo(100_000);
        assertThat(dw.isPending()).isFalse();
    }

    @Test
    void flushOfADelayedItemAboutToFireReturnsOnlyAfterItsRun() {
        WorkQueue q = t.queue("race").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        for (int i = 0; i < 20_000; i++) {
            assertThat(q.queueDelayed(dw, Duration.ofNanos(1 + (i * 7919L) % 1000))).isTrue();
            for (int s = i & 63; s > 0; s--) {
                Thread.onSpinWait();
            }
            dw.flush(); // whether the timer thread or flush queues it, the run is over when flush returns
            if (runs.get() != i + 1) {
                throw new AssertionError("try " + i + ": " + runs.get() + " runs after flush returned");
            }
        }
    }

    @Test
    @Timeout(120) // guards a hang: a canceller that missed the timer would spin until the hour passed
    void cancelRacingTheFirstArmOfAnItemTakesItOffTheTimer() throws Exception {
        WorkQueue q = t.queue("race").build();
        DelayedWork[] items = new DelayedWork[20_000];
        for (int i = 0; i < items.length; i++) {
            items[i] = new DelayedWork("dw" + i, () -> { });
        }
        Thread armer = new Thread(() -> {
            for (DelayedWork dw : items) {
                q.queueDelayed(dw, HOUR);
            }
        });
        armer.start();
        int cancelled = 0;
        for (DelayedWork dw : items) {
            while (!dw.isPending()) {
                Thread.onSpinWait(); // cancel as soon as the armer has claimed it, mid-arm
            }
            if (dw.cancel()) {
                cancelled++;
            }
        }
        armer.join();
        assertThat(cancelled).isEqualTo(items.length);
        assertThat(t.rt.engine().timer().armed()).isZero();
    }

    @Test
    void destroyWithAnArmedTimerReportsTheItemInsteadOfLosingIt() {
        WorkQueue q = t.queue("dq").build();
        DelayedWork dw = new DelayedWork("forgotten", () -> { });
        q.queueDelayed(dw, HOUR);

        q.destroy();
        assertThat(dw.isPending()).isFalse();
        assertThat(t.errorWork).containsExactly("dq/forgotten");
        assertThat(t.errors.get(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void queueDelayedOnADestroyedQueueIsRefusedAndLeavesTheItemIdle() {
        WorkQueue q = t.queue("dq").build();
        q.destroy();
        DelayedWork dw = new DelayedWork("dw", () -> { });
        assertThatThrownBy(() -> q.queueDelayed(dw, HOUR)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dq").hasMessageContaining("dw");
        assertThat(dw.isPending()).isFalse();
    }
}
