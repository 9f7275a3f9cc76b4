package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** cancel, cancelSync, disable/enable, isPending, busy, Work.current (SPEC §4), one guarantee per test. */
class CancelDisableTest {
    private static final Duration HOUR = Duration.ofHours(1);

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }


    @Test
    void cancelTakesAPendingItemOffItsQueueAndReturnsTrue() {
        WorkQueue q = t.queue("c").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        q.queue(w);

        assertThat(w.cancel()).isTrue();
        assertThat(w.isPending()).isFalse();
        release.countDown();
        q.flush();
        assertThat(runs).hasValue(0);
        assertThat(q.queue(w)).as("a cancelled item can be queued again").isTrue();
        q.flush();
        assertThat(runs).hasValue(1);
    }

    @Test
    void cancelOfAnIdleItemReturnsFalse() {
        Work w = new Work("w", () -> { });
        assertThat(w.cancel()).isFalse();
        assertThat(w.isPending()).isFalse();
    }

    @Test
    void cancelDoesNotWaitForARunningInstance() {
        WorkQueue q = t.queue("c").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w = new Work("w", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        });
        q.queue(w);
        WorkQueueCoreTest.await(started);

        assertThat(w.cancel()).as("running, not pending").isFalse();
        assertThat(w.busy()).isEqualTo(Work.BUSY_RUNNING); // cancel returned while the item still runs
        release.countDown();
        q.flush();
    }

    @Test
    void cancelSyncWaitsForTheRunningInstance() throws Exception {
        WorkQueue q = t.queue("c").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        Work w = new Work("w", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
            finished.set(true);
        });
        q.queue(w);
        WorkQueueCoreTest.await(started);

        AtomicBoolean sawFinished = new AtomicBoolean();
        AtomicBoolean result = new AtomicBoolean(true);
        Thread th = TestRuntime.startAndAwaitParked("waiter", () -> {
            result.set(w.cancelSync());
            sawFinished.set(finished.get());
        });
        release.countDown();
        th.join();
        assertThat(sawFinished).as("cancelSync returned only after the run finished").isTrue();
        assertThat(result).as("it was running, not pending").isFalse();
        assertThat(w.busy()).isZero();
        assertThat(w.disableDepth()).as("the temporary disable is undone").isZero();
    }

    @Test
    void cancelSyncOfASelfRequeueingItemLeavesItNeitherPendingNorRunning() {
        WorkQueue q = t.queue("self").build();
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<Work> self = new AtomicReference<>();
        AtomicReference<CountDownLatch> spinning = new AtomicReference<>();
        Work w = new Work("loop", () -> {
            runs.incrementAndGet();
            spinning.get().countDown();
            q.queue(self.get());
        });
        self.set(w);
        for (int round = 0; round < 200; round++) {
            spinning.set(new CountDownLatch(3));
            assertThat(q.queue(w)).isTrue();
            WorkQueueCoreTest.await(spinning.get()); // it has requeued itself at least twice

            w.cancelSync();
            assertThat(w.isPending()).isFalse();
            assertThat(w.busy()).as("neither pending nor running").isZero();
            int after = runs.get();
            q.flush();
            assertThat(runs.get()).as("nothing runs after cancelSync returned").isEqualTo(after);
            assertThat(w.disableDepth()).isZero();
        }
    }

    @Test
    void cancelSyncOfASelfReArmingDelayedItemLeavesItIdle() {
        WorkQueue q = t.queue("self").build();
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<DelayedWork> self = new AtomicReference<>();
        AtomicReference<CountDownLatch> spinning = new AtomicReference<>();
        DelayedWork dw = new DelayedWork("tick", () -> {
            runs.incrementAndGet();
            spinning.get().countDown();
            q.queueDelayed(self.get(), Duration.ofNanos(1));
        });
        self.set(dw);
        for (int round = 0; round < 200; round++) {
            spinning.set(new CountDownLatch(3));
            assertThat(q.queueDelayed(dw, Duration.ofNanos(1))).isTrue();
            WorkQueueCoreTest.await(spinning.get());

            dw.cancelSync();
            assertThat(dw.isTimerArmed()).isFalse();
            assertThat(dw.busy()).isZero();
            int after = runs.get();
            q.flush();
            assertThat(runs.get()).isEqualTo(after);
        }
        assertThat(t.rt.engine().timer().armed()).isZero();
    }

    @Test
    void cancelSyncOfAnIdleItemReturnsFalseAndLeavesItQueueable() {
        WorkQueue q = t.queue("c").build();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        assertThat(w.cancelSync()).isFalse();
        assertThat(q.queue(w)).isTrue();
        q.flush();
        assertThat(runs).hasValue(1);
    }

    @Test
    void cancelSyncOfAPendingItemReturnsTrue() {
        WorkQueue q = t.queue("c").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        q.queue(w);
        assertThat(w.cancelSync()).isTrue();
        release.countDown();
        q.flush();
        assertThat(runs).hasValue(0);
    }

    @Test
    void cancelSyncOfAnArmedDelayedItemReturnsTrue() {
        WorkQueue q = t.queue("c").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        q.queueDelayed(dw, HOUR);
        assertThat(dw.cancelSync()).isTrue();
        assertThat(dw.isPending()).isFalse();
        assertThat(t.rt.engine().timer().armed()).isZero();
    }

    @Test
    void queueReturnsFalseWhileDisabled() {
        WorkQueue q = t.queue("d").build();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);

        assertThat(w.disable()).isFalse();
        assertThat(w.disableDepth()).isEqualTo(1);
        assertThat(q.queue(w)).isFalse();
        assertThat(q.queueOn(0, w)).isFalse();
        assertThat(w.isPending()).isFalse();
        q.flush();
        assertThat(runs).hasValue(0);
    }

    @Test
    void disableIsCountedAndEnableReturnsTrueOnlyWhenTheCountReachesZero() {
        WorkQueue q = t.queue("d").build();
        Work w = new Work("w", () -> { });
        w.disable();
        w.disable();
        w.disableSync();
        assertThat(w.disableDepth()).isEqualTo(3);

        assertThat(w.enable()).isFalse();
        assertThat(q.queue(w)).isFalse();
        assertThat(w.enable()).isFalse();
        assertThat(q.queue(w)).isFalse();
        assertThat(w.enable()).isTrue();
        assertThat(w.disableDepth()).isZero();
        assertThat(q.queue(w)).isTrue();
        q.flush();
    }

    @Test
    void enableWithoutDisableIsAnIllegalState() {
        Work w = new Work("w", () -> { });
        assertThatThrownBy(w::enable).isInstanceOf(IllegalStateException.class).hasMessageContaining("w");
        w.disable();
        w.enable();
        assertThatThrownBy(w::enable).isInstanceOf(IllegalStateException.class);
        assertThat(w.disableDepth()).isZero();
    }

    @Test
    void disableCancelsAPendingItem() {
        WorkQueue q = t.queue("d").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        q.queue(w);

        assertThat(w.disable()).as("it was pending").isTrue();
        release.countDown();
        q.flush();
        assertThat(runs).hasValue(0);
    }

    @Test
    void disableSyncWaitsForTheRunningInstanceAndStaysDisabled() throws Exception {
        WorkQueue q = t.queue("d").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        Work w = new Work("w", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
            finished.set(true);
        });
        q.queue(w);
        WorkQueueCoreTest.await(started);

        AtomicBoolean sawFinished = new AtomicBoolean();
        Thread th = TestRuntime.startAndAwaitParked("waiter", () -> {
            w.disableSync();
            sawFinished.set(finished.get());
        });
        release.countDown();
        th.join();
        assertThat(sawFinished).isTrue();
        assertThat(w.disableDepth()).isEqualTo(1);
        assertThat(q.queue(w)).isFalse();
    }

    @Test
    void disableOfADelayedItemStopsItsTimer() {
        WorkQueue q = t.queue("d").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });
        q.queueDelayed(dw, HOUR);

        assertThat(dw.disable()).isTrue();
        assertThat(dw.isTimerArmed()).isFalse();
        assertThat(t.rt.engine().timer().armed()).isZero();
        assertThat(q.queueDelayed(dw, HOUR)).isFalse();
        assertThat(q.modDelayed(dw, HOUR)).as("idle and disabled: not queued").isFalse();
        assertThat(dw.isPending()).isFalse();
        assertThat(dw.enable()).isTrue();
        assertThat(q.queueDelayed(dw, HOUR)).isTrue();
        dw.cancel();
    }

    @Test
    void busyReportsPendingAndRunning() {
        WorkQueue q = t.queue("b").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work gate = new Work("gate", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        });
        Work w = new Work("w", () -> { });
        assertThat(gate.busy()).isZero();
        q.queue(gate);
        WorkQueueCoreTest.await(started);
        q.queue(w);

        assertThat(gate.busy()).isEqualTo(Work.BUSY_RUNNING);
        assertThat(w.busy()).isEqualTo(Work.BUSY_PENDING);
        assertThat(w.isPending()).isTrue();
        q.queue(gate);
        assertThat(gate.busy()).isEqualTo(Work.BUSY_PENDING | Work.BUSY_RUNNING);
        release.countDown();
        q.flush();
        assertThat(gate.busy()).isZero();
        assertThat(w.busy()).isZero();
    }

    @Test
    void workCurrentIsNullOutsideAWorkItem() {
        assertThat(Work.current()).isNull();
    }

    @Test
    void workCurrentIsTheDelayedItemItself() {
        WorkQueue q = t.queue("cur").build();
        AtomicReference<Work> seen = new AtomicReference<>();
        AtomicReference<DelayedWork> self = new AtomicReference<>();
        DelayedWork dw = new DelayedWork("dw", () -> seen.set(Work.current()));
        self.set(dw);
        q.queueDelayed(dw, HOUR);
        dw.flush();
        assertThat(seen.get()).isSameAs(dw);
    }

    @Test
    void everySuccessfulQueueEndsInOneRunOrOneSuccessfulCancel() throws Exception {
        WorkQueue q = t.queue("nothing-lost").build();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        AtomicInteger queued = new AtomicInteger();
        AtomicInteger cancelled = new AtomicInteger();
        Thread producer = new Thread(() -> {
            for (int i = 0; i < 50_000; i++) {
                if (q.queue(w)) {
                    queued.incrementAndGet();
                }
            }
        });
        producer.start();
        for (int i = 0; i < 50_000; i++) {
            if (w.cancel()) {
                cancelled.incrementAndGet();
            }
        }
        producer.join();
        q.flush();
        assertThat(runs.get() + cancelled.get()).isEqualTo(queued.get());
    }
}
