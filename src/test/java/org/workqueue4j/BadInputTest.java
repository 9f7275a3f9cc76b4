package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * Bad input (issue 9; README "Faults and bad input"): each is a clear exception that names the
 * queue or item, and leaves the item and queue as they were. One test per README row.
 */
class BadInputTest {
    private static final Duration HOUR = Duration.ofHours(1);

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    @DisplayName("null work, function, name or delay: NullPointerException naming the queue or item")
    void nullsAreRefusedByName() {
        WorkQueue q = t.queue("q").build();
        assertThatThrownBy(() -> q.queue(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("'q'");
        assertThatThrownBy(() -> q.queueOn(0, null)).isInstanceOf(NullPointerException.class).hasMessageContaining("'q'");
        assertThatThrownBy(() -> q.queueDelayed(null, HOUR)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("'q'");
        assertThatThrownBy(() -> q.modDelayed(null, HOUR)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("'q'");
        assertThatThrownBy(() -> new Work("w", null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("'w'");
        assertThatThrownBy(() -> new Work(null, () -> { })).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("work name");
        DelayedWork dw = new DelayedWork("dw", () -> { });
        assertThatThrownBy(() -> q.queueDelayed(dw, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("'dw'").hasMessageContaining("'q'");
        assertThatThrownBy(() -> q.execute(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("'q'");
        assertThat(dw.isPending()).isFalse();
    }

    @Test
    @DisplayName("queueing on a destroyed queue: IllegalStateException naming queue and item; the item stays idle")
    void queueOnADestroyedQueue() {
        WorkQueue q = t.queue("dead").build();
        q.destroy();
        Work w = new Work("w", () -> { });
        DelayedWork dw = new DelayedWork("dw", () -> { });
        assertThatThrownBy(() -> q.queue(w)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'dead'").hasMessageContaining("'w'");
        assertThatThrownBy(() -> q.queueDelayed(dw, HOUR)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'dead'").hasMessageContaining("'dw'");
        assertThatThrownBy(() -> q.modDelayed(dw, Duration.ZERO)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'dead'").hasMessageContaining("'dw'");
        assertThat(w.isPending()).isFalse();
        assertThat(dw.isPending()).isFalse();
    }

    @Test
    @DisplayName("modDelayed on a destroyed queue leaves the item's pending instance elsewhere alone")
    void modDelayedOnADestroyedQueueLeavesThePendingItemAlone() {
        WorkQueue live = t.queue("live").build();
        WorkQueue dead = t.queue("dead").build();
        dead.destroy();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        live.queueDelayed(dw, HOUR);

        assertThatThrownBy(() -> dead.modDelayed(dw, Duration.ZERO)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'dead'").hasMessageContaining("'dw'");

        assertThat(dw.isTimerArmed()).as("still armed for 'live'").isTrue();
        dw.flush();
        assertThat(runs).hasValue(1);
    }

    @Test
    @DisplayName("an unknown CPU index: IllegalArgumentException naming cpu, queue and item; nothing queued")
    void unknownCpuIndex() {
        WorkQueue q = t.queue("q").build();
        Work w = new Work("w", () -> { });
        DelayedWork dw = new DelayedWork("dw", () -> { });
        assertThatThrownBy(() -> q.queueOn(2, w)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpu 2").hasMessageContaining("'q'").hasMessageContaining("'w'");
        assertThatThrownBy(() -> q.queueOn(-1, w)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpu -1");
        assertThatThrownBy(() -> q.queueDelayedOn(7, dw, HOUR)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpu 7").hasMessageContaining("'dw'");
        assertThatThrownBy(() -> q.queueDelayedOn(-1, dw, HOUR)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpu -1");
        assertThat(w.isPending()).isFalse();
        assertThat(dw.isPending()).isFalse();
    }

    @Test
    @DisplayName("a negative or absurd delay: IllegalArgumentException naming queue and item; a pending item stays as it was")
    void negativeOrAbsurdDelay() {
        WorkQueue q = t.queue("q").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });
        Duration absurd = Duration.ofSeconds(Long.MAX_VALUE);
        assertThatThrownBy(() -> q.queueDelayed(dw, Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative").hasMessageContaining("'dw'").hasMessageContaining("'q'");
        assertThatThrownBy(() -> q.queueDelayed(dw, absurd)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too long").hasMessageContaining("'dw'");
        assertThat(dw.isPending()).isFalse();

        q.queueDelayed(dw, HOUR);
        assertThatThrownBy(() -> q.modDelayed(dw, Duration.ofSeconds(-5))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> q.modDelayed(dw, absurd)).isInstanceOf(IllegalArgumentException.class);
        assertThat(dw.isTimerArmed()).as("the armed timer is untouched").isTrue();
        assertThat(dw.cancel()).isTrue();
    }

    @Test
    @DisplayName("maxActive out of range: negative is an IllegalArgumentException naming the queue; above 2048 is clamped with a warning")
    void maxActiveOutOfRange() {
        assertThatThrownBy(() -> t.queue("neg").maxActive(-5).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'neg'").hasMessageContaining("-5");
        assertThat(t.rt.queues()).noneMatch(q -> q.name().equals("neg"));
        assertThat(t.queue("huge").maxActive(1_000_000).build().maxActive()).isEqualTo(WorkQueue.MAX_ACTIVE);
        assertThat(t.queue("dfl").maxActive(0).build().maxActive()).isEqualTo(WorkQueue.DEFAULT_MAX_ACTIVE);
        WorkQueue q = t.queue("q").maxActive(7).build();
        assertThatThrownBy(() -> q.setMaxActive(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'q'");
        assertThat(q.maxActive()).as("unchanged").isEqualTo(7);
        q.setMaxActive(Integer.MAX_VALUE);
        assertThat(q.maxActive()).isEqualTo(WorkQueue.MAX_ACTIVE);
    }

    @Test
    @DisplayName("enable without disable: IllegalStateException naming the item; the count stays 0")
    void enableWithoutDisable() {
        Work w = new Work("w", () -> { });
        assertThatThrownBy(w::enable).isInstanceOf(IllegalStateException.class).hasMessageContaining("'w'")
                .hasMessageContaining("not disabled");
        assertThat(w.disableDepth()).isZero();
        WorkQueue q = t.queue("q").build();
        assertThat(q.queue(w)).as("still usable").isTrue();
        q.flush();
    }

    @Test
    @DisplayName("changing maxActive of an ordered queue: IllegalStateException naming the queue; it stays 1")
    void maxActiveOfAnOrderedQueue() {
        WorkQueue q = t.queue("ord").ordered().build();
        assertThatThrownBy(() -> q.setMaxActive(4)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'ord'");
        assertThat(q.maxActive()).isEqualTo(1);
    }

    @Test
    @DisplayName("a DelayedWork passed to plain queue while its timer is armed: IllegalStateException; still armed")
    void plainQueueOfAnArmedDelayedWork() {
        WorkQueue q = t.queue("q").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });
        q.queueDelayed(dw, HOUR);
        assertThatThrownBy(() -> q.queue(dw)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'dw'").hasMessageContaining("'q'").hasMessageContaining("armed");
        assertThatThrownBy(() -> q.queueOn(0, dw)).isInstanceOf(IllegalStateException.class);
        assertThat(dw.isTimerArmed()).isTrue();
        assertThat(q.queueDelayed(dw, HOUR)).as("queueDelayed of an armed item is the usual false").isFalse();
        assertThat(dw.cancel()).isTrue();
        assertThat(q.queue(dw)).as("once idle, plain queue is fine").isTrue();
        q.flush();
    }

    @Test
    @DisplayName("one item on two queues at once: IllegalStateException naming both; it stays pending on the first")
    void oneItemOnTwoQueues() {
        WorkQueue first = t.queue("first").ordered().build();
        WorkQueue second = t.queue("second").build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(first, release);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        assertThat(first.queue(w)).isTrue();
        assertThat(first.queue(w)).as("same queue: the usual false").isFalse();

        assertThatThrownBy(() -> second.queue(w)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'w'").hasMessageContaining("'first'").hasMessageContaining("'second'");
        assertThatThrownBy(() -> second.queueOn(1, w)).isInstanceOf(IllegalStateException.class);

        release.countDown();
        first.flush();
        assertThat(runs).as("ran once, on the first queue").hasValue(1);
        assertThat(second.queue(w)).as("idle again: free to move").isTrue();
        second.flush();
        assertThat(runs).hasValue(2);
    }

    @Test
    @DisplayName("a delayed item armed for one queue, queued on another: IllegalStateException naming both")
    void delayedItemArmedForAnotherQueue() {
        WorkQueue first = t.queue("first").build();
        WorkQueue second = t.queue("second").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });
        first.queueDelayed(dw, HOUR);
        assertThatThrownBy(() -> second.queueDelayed(dw, HOUR)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'dw'").hasMessageContaining("'first'").hasMessageContaining("'second'");
        assertThat(dw.isTimerArmed()).isTrue();
        assertThat(second.modDelayed(dw, HOUR)).as("modDelayed moves it, as the kernel's does").isTrue();
        assertThat(dw.cancel()).isTrue();
    }

    @Test
    @DisplayName("an item queued to a second queue while it still runs on the first: IllegalStateException naming both")
    void runningItemQueuedOnAnotherQueue() {
        WorkQueue first = t.queue("first").build();
        WorkQueue second = t.queue("second").unbound().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                WorkQueueCoreTest.await(release);
            }
        });
        first.queue(w);
        WorkQueueCoreTest.await(started);

        assertThatThrownBy(() -> second.queue(w)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'w'").hasMessageContaining("'first'").hasMessageContaining("'second'");
        assertThat(w.isPending()).as("unchanged: idle").isFalse();

        release.countDown();
        first.flush();
        assertThat(second.queue(w)).as("idle: accepted").isTrue();
        second.flush();
        assertThat(runs).hasValue(2);
    }

    @Test
    @DisplayName("releasing a validated lock that is not held: IllegalMonitorStateException naming the lock")
    void releasingAValidatedLockNotHeld() {
        ValidatedLock plain = new ValidatedLock("journal", new LockClassKey("Journal"), LockDependencyValidator.disabled());
        assertThatThrownBy(plain::unlock).isInstanceOf(IllegalMonitorStateException.class)
                .hasMessageContaining("'journal'").hasMessageContaining("not held");

        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedLock validated = new ValidatedLock("journal", new LockClassKey("Journal"), lockdep);
        validated.lock();
        validated.unlock();
        assertThatThrownBy(validated::unlock).isInstanceOf(IllegalMonitorStateException.class)
                .hasMessageContaining("'journal'");
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.text()).contains("bad unlock balance"));
        validated.lock(); // still usable
        validated.unlock();
    }
}
