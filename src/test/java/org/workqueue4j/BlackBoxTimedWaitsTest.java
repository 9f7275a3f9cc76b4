package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Timed and interruptible waits, from the README and the javadoc only. */
class BlackBoxTimedWaitsTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    private static Work gate(String name, CountDownLatch started, CountDownLatch release) {
        return new Work(name, () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        });
    }

    private static void awaitTrue(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(1);
        }
    }

    /**
     * drain(): "Meanwhile only this queue's own items may queue to it; other callers get an
     * IllegalStateException." A second, timed drain that gives up must not end the first
     * (untimed) drain's refusal while that one is still waiting.
     */
    @Test
    void aTimedDrainGivingUpDoesNotEndAnotherThreadsDrain() throws Exception {
        WorkQueue q = t.queue("drains").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertThat(q.queue(gate("gate", started, release))).isTrue();
        WorkQueueCoreTest.await(started);

        CountDownLatch drainDone = new CountDownLatch(1);
        Thread drainer = new Thread(() -> {
            q.drain();
            drainDone.countDown();
        }, "untimed-drainer");
        drainer.start();
        // wait until the untimed drain refuses outsiders
        Work probe = new Work("probe", () -> { });
        awaitTrue(() -> {
            try {
                boolean queued = q.queue(probe);
                if (queued) {
                    // accepted before the drain began: it stays behind the gate; cancel it again
                    probe.cancel();
                }
                return false;
            } catch (IllegalStateException refused) {
                return true;
            }
        }, "the untimed drain refuses outside items");

        assertThat(q.drain(Duration.ofMillis(20))).as("timed drain behind a held gate").isFalse();
        assertThat(drainDone.getCount()).as("the untimed drain still waits").isEqualTo(1);

        Work outsider = new Work("outsider", () -> { });
        boolean accepted;
        try {
            accepted = q.queue(outsider);
        } catch (IllegalStateException refused) {
            accepted = false;
        }
        release.countDown();
        assertThat(drainDone.await(20, TimeUnit.SECONDS)).isTrue();
        drainer.join();
        assertThat(accepted)
                .as("an outside queue() while another thread's drain() still runs must be refused (drain javadoc)")
                .isFalse();
    }

    /** drain(Duration): "Giving up ends the drain: the queue accepts items from every caller again". */
    @Test
    void aTimedDrainThatGivesUpAcceptsEveryCallerAgainAndLosesNothing() throws Exception {
        WorkQueue q = t.queue("timed-drain").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        assertThat(q.queue(gate("gate", started, release))).isTrue();
        WorkQueueCoreTest.await(started);
        Work before = new Work("before", runs::incrementAndGet);
        assertThat(q.queue(before)).isTrue();

        assertThat(q.drain(Duration.ZERO)).isFalse();
        assertThat(q.drain(Duration.ofNanos(-5))).isFalse();
        assertThat(q.drain(Duration.ofMillis(10))).isFalse();
        Work after = new Work("after", runs::incrementAndGet);
        assertThat(q.queue(after)).isTrue();
        release.countDown();
        assertThat(q.drain(Duration.ofSeconds(Long.MAX_VALUE))).isTrue();
        assertThat(runs.get()).isEqualTo(2);
        assertThat(t.errors).isEmpty();
    }

    /** drain(Duration) interrupted: InterruptedException, status cleared, drain ended. */
    @Test
    void aTimedDrainWithAPendingInterruptThrowsAndEndsTheDrain() throws Exception {
        WorkQueue q = t.queue("int-drain").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertThat(q.queue(gate("gate", started, release))).isTrue();
        WorkQueueCoreTest.await(started);
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> q.drain(Duration.ofSeconds(30))).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).as("status cleared").isFalse();
            AtomicInteger runs = new AtomicInteger();
            assertThat(q.queue(new Work("after-int", runs::incrementAndGet))).isTrue();
            release.countDown();
            q.flush();
            assertThat(runs.get()).isEqualTo(1);
        } finally {
            Thread.interrupted();
            release.countDown();
        }
    }

    /** Timed queue flush: false on timeout, true with a huge duration; no effect on the items. */
    @Test
    void timedQueueFlushEdgeDurations() throws Exception {
        WorkQueue q = t.queue("timed-flush").build();
        assertThat(q.flush(Duration.ZERO)).as("idle queue, zero").isTrue();
        assertThat(q.flush(Duration.ofSeconds(-1))).as("idle queue, negative").isTrue();
        assertThatThrownBy(() -> q.flush((Duration) null)).isInstanceOf(NullPointerException.class);

        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertThat(q.queue(gate("gate", started, release))).isTrue();
        WorkQueueCoreTest.await(started);
        assertThat(q.flush(Duration.ZERO)).isFalse();
        assertThat(q.flush(Duration.ofMillis(5))).isFalse();
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> q.flush(Duration.ofSeconds(30))).isInstanceOf(InterruptedException.class);
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
        } finally {
            Thread.interrupted();
        }
        Thread releaser = new Thread(() -> {
            release.countDown();
        });
        releaser.start();
        assertThat(q.flush(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999))).isTrue();
        releaser.join();
    }

    /** Work.flush(Duration) and cancelSync(Duration) on a running item. */
    @Test
    void timedItemWaitsOnARunningItem() throws Exception {
        WorkQueue q = t.queue("timed-item").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("runner", () -> {
            runs.incrementAndGet();
            started.countDown();
            WorkQueueCoreTest.await(release);
        });
        assertThat(w.flush(Duration.ZERO)).as("idle item").isTrue();
        assertThat(w.cancelSync(Duration.ZERO)).as("idle item").isTrue();
        assertThat(q.queue(w)).isTrue();
        WorkQueueCoreTest.await(started);
        assertThat(w.flush(Duration.ZERO)).isFalse();
        assertThat(w.flush(Duration.ofMillis(5))).isFalse();
        assertThat(w.cancelSync(Duration.ZERO)).isFalse();
        assertThat(w.cancelSync(Duration.ofMillis(5))).isFalse();
        assertThat(w.disableDepth()).as("enabled again after a timed-out cancelSync").isZero();

        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> w.cancelSync(Duration.ofSeconds(30))).isInstanceOf(InterruptedException.class);
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            assertThat(w.disableDepth()).as("enabled again after an interrupted cancelSync").isZero();
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> w.flush(Duration.ofSeconds(30))).isInstanceOf(InterruptedException.class);
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
        } finally {
            Thread.interrupted();
        }
        // queued again while it runs: one more run
        assertThat(q.queue(w)).isTrue();
        release.countDown();
        assertThat(w.flush(Duration.ofSeconds(Long.MAX_VALUE))).isTrue();
        q.flush();
        assertThat(runs.get()).isEqualTo(2);
        assertThat(w.cancelSync(Duration.ofDays(365L * 1000))).isTrue();
    }

    /** cancelSync(Duration) of a pending (not running) item: true, not run, enabled after. */
    @Test
    void timedCancelSyncOfAPendingItem() throws Exception {
        WorkQueue q = t.queue("timed-cancel").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertThat(q.queue(gate("gate", started, release))).isTrue();
        WorkQueueCoreTest.await(started);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("pending", runs::incrementAndGet);
        assertThat(q.queue(w)).isTrue();
        assertThat(w.cancelSync(Duration.ZERO)).isTrue();
        assertThat(w.isPending()).isFalse();
        assertThat(w.disableDepth()).isZero();
        release.countDown();
        q.flush();
        assertThat(runs.get()).isZero();
        assertThat(q.queue(w)).isTrue();
        q.flush();
        assertThat(runs.get()).isEqualTo(1);
    }

    /** DelayedWork.flush(Duration) of an armed item: fires it; zero timeout returns false with the item queued. */
    @Test
    void timedFlushOfAnArmedDelayedWorkFiresIt() throws Exception {
        WorkQueue q = t.queue("timed-delayed").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertThat(q.queue(gate("gate", started, release))).isTrue();
        WorkQueueCoreTest.await(started);
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("armed", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofDays(365L * 290))).isTrue();
        assertThat(d.isTimerArmed()).isTrue();
        assertThat(d.flush(Duration.ZERO)).isFalse();
        assertThat(d.isTimerArmed()).as("fired by the flush").isFalse();
        assertThat(d.isPending()).isTrue();
        release.countDown();
        assertThat(d.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(runs.get()).isEqualTo(1);
    }

    /** Huge but legal delays never run early; the item stays armed and can be cancelled. */
    @Test
    void hugeDelaysAreArmedNotRun() throws Exception {
        WorkQueue q = t.queue("huge").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork a = new DelayedWork("a", runs::incrementAndGet);
        DelayedWork b = new DelayedWork("b", runs::incrementAndGet);
        DelayedWork c = new DelayedWork("c", runs::incrementAndGet);
        assertThat(q.queueDelayed(a, Duration.ofNanos(Long.MAX_VALUE))).isTrue();
        assertThat(q.queueDelayed(b, Duration.ofDays(365L * 291))).isTrue();
        CountDownLatch ran = new CountDownLatch(1);
        DelayedWork soon = new DelayedWork("soon", ran::countDown);
        assertThat(q.queueDelayed(soon, Duration.ofMillis(30))).isTrue();
        assertThat(q.queueDelayed(c, Duration.ofNanos(Long.MAX_VALUE - 1))).isTrue();
        assertThat(ran.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(q.modDelayed(c, Duration.ofNanos(Long.MAX_VALUE))).isTrue();
        // the soon item ran; the huge ones did not
        assertThat(runs.get()).isZero();
        assertThat(a.isTimerArmed() && b.isTimerArmed() && c.isTimerArmed()).isTrue();
        assertThatThrownBy(() -> q.queueDelayed(new DelayedWork("absurd", () -> { }), Duration.ofDays(365L * 300)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("absurd").hasMessageContaining("huge");
        assertThat(a.cancel()).isTrue();
        assertThat(b.cancelSync()).isTrue();
        assertThat(c.cancelSync(Duration.ofSeconds(5))).isTrue();
        assertThat(runs.get()).isZero();
    }

    /** WorkQueuesConfig: "100 years or more mean forever" for durations the builder checks. */
    @Test
    void hugeCloseTimeoutMeansForever() {
        WorkQueuesConfig c = WorkQueuesConfig.builder().closeTimeout(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999))
                .cpus(1).build();
        WorkQueues rt = WorkQueues.create(c);
        AtomicReference<Throwable> err = new AtomicReference<>();
        try {
            WorkQueue q = rt.queueBuilder("x").build();
            CountDownLatch ran = new CountDownLatch(1);
            q.queue(new Work("x", ran::countDown));
            WorkQueueCoreTest.await(ran);
        } catch (Throwable e) {
            err.set(e);
        } finally {
            rt.close();
        }
        assertThat(err.get()).isNull();
    }
}
