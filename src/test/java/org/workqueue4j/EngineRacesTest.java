package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * Races and walks of the engine found from outside (issue 12, defects 4 to 7), each pinned
 * deterministically: by a heap shape, by a fixed order of calls, or by a test hook that holds
 * one thread between two steps of an operation.
 */
class EngineRacesTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    // ------------------------------------------------------------------ destroy and the timer heap

    @Test
    @DisplayName("destroy() cancels and reports every armed item of the queue, whatever the heap's shape")
    void destroyCancelsEveryArmedItemWhateverTheHeapShape() {
        WorkQueue dying = t.queue("dying").build();
        WorkQueue other = t.queue("other").build();
        // Armed in this order, the heap is [1h, 10h, 2h, 11h, 12h, 3h]. A walk from the end that
        // removes 11h moves 3h into its slot and sifts it up over 10h, into a slot already passed.
        long[] hours = {1, 10, 2, 11, 12, 3};
        List<DelayedWork> items = new ArrayList<>();
        List<DelayedWork> ofDying = new ArrayList<>();
        for (int i = 0; i < hours.length; i++) {
            DelayedWork dw = new DelayedWork("d" + hours[i] + "h", () -> { });
            items.add(dw);
            boolean dies = hours[i] == 10 || hours[i] == 11;
            (dies ? dying : other).queueDelayed(dw, Duration.ofHours(hours[i]));
            if (dies) {
                ofDying.add(dw);
            }
        }
        WeakReference<WorkQueue> dead = new WeakReference<>(dying);

        dying.destroy();

        assertThat(t.errorWork).as("every armed item of the dying queue is reported")
                .containsExactlyInAnyOrder("dying/d10h", "dying/d11h");
        for (DelayedWork dw : ofDying) {
            assertThat(dw.isPending()).as(dw.name() + " is idle").isFalse();
            assertThat(dw.isTimerArmed()).as(dw.name() + " is disarmed").isFalse();
        }
        for (DelayedWork dw : items) {
            if (!ofDying.contains(dw)) {
                assertThat(dw.isTimerArmed()).as(dw.name() + " of the other queue stays armed").isTrue();
            }
        }
        assertThat(t.rt.engine().timer().armed()).as("only the other queue's items are armed").isEqualTo(4);

        dying = null; // the items are still referenced here: none of them may keep the queue alive
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            System.gc();
            return dead.get() == null;
        });
        for (DelayedWork dw : items) {
            dw.cancel();
        }
        other.destroy();
    }

    @Test
    @DisplayName("a delayed item that was cancelled, or fired, keeps no destroyed queue reachable")
    void disarmedItemsKeepNoDestroyedQueueReachable() {
        WorkQueue q = t.queue("gone").build();
        DelayedWork cancelled = new DelayedWork("cancelled", () -> { });
        DelayedWork fired = new DelayedWork("fired", () -> { });
        q.queueDelayed(cancelled, Duration.ofHours(1));
        q.queueDelayed(fired, Duration.ofHours(1));
        assertThat(cancelled.cancel()).isTrue();
        assertThat(fired.flush()).isTrue(); // fired off the timer, ran
        WeakReference<WorkQueue> dead = new WeakReference<>(q);
        q.destroy();
        q = null;

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            System.gc();
            return dead.get() == null;
        });
        assertThat(cancelled.isPending() || fired.isPending()).isFalse(); // both items are still referenced here
    }

    // ------------------------------------------------------------------ cancel of an inactive item

    @Test
    @DisplayName("cancelling an inactive item that a flusher waits on lets the flusher's barrier run")
    void cancellingAnInactiveItemReleasesItsFlusher() throws InterruptedException {
        WorkQueue q = t.queue("frozen").freezable().build();
        Work warm = new Work("warm", () -> { });
        q.queueOn(0, warm);
        q.flush(); // the pool has a worker, idle from now on
        t.rt.freeze();
        Work x = new Work("x", () -> { });
        assertThat(q.queueOn(0, x)).isTrue(); // frozen: waits inactive
        Thread flusher = TestRuntime.startAndAwaitParked("flusher", x::flush);

        assertThat(x.cancel()).isTrue();
        t.rt.thaw();

        flusher.join(Duration.ofSeconds(20).toMillis());
        assertThat(flusher.isAlive()).as("the flusher returned (its barrier ran)").isFalse();
    }

    // ------------------------------------------------------------------ freeze, thaw, setMaxActive

    /**
     * Freezes the runtime, then holds a thaw of {@code q} between deciding its limit and
     * applying it to the pwqs, runs {@code racer} on another thread until it ends or blocks,
     * and lets the thaw go on.
     */
    private void raceAThawHeldBeforeApplying(WorkQueue q, Runnable racer) throws InterruptedException {
        t.rt.freeze();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("maxActive.apply") && subject == q.engine()
                    && Thread.currentThread().getName().equals("thawer")) {
                held.countDown();
                WorkQueueCoreTest.await(go);
            }
        });
        try {
            Thread thawer = new Thread(t.rt::thaw, "thawer");
            thawer.start();
            WorkQueueCoreTest.await(held);
            Thread raced = new Thread(racer, "racer");
            raced.start();
            // Until it ends, or blocks on a lock the held thaw owns (the fix), or parks in it.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> raced.getState() != Thread.State.RUNNABLE
                    && raced.getState() != Thread.State.NEW);
            go.countDown();
            thawer.join();
            raced.join();
        } finally {
            TestHooks.install(null);
        }
    }

    @Test
    @DisplayName("a freeze racing a thaw never leaves the queue frozen with a non-zero limit")
    void freezeRacingThawNeverLeavesAFrozenQueueRunning() throws InterruptedException {
        WorkQueue q = t.queue("freezable").freezable().maxActive(4).build();

        raceAThawHeldBeforeApplying(q, t.rt::freeze);

        assertThat(t.rt.isFrozen()).isTrue();
        assertThat(q.engine().appliedMaxActive()).as("every pwq of the frozen queue holds its items")
                .containsOnly(0);
        t.rt.thaw();
        assertThat(q.engine().appliedMaxActive()).containsOnly(4);
    }

    @Test
    @DisplayName("a setMaxActive racing a thaw is never overwritten with the old limit")
    void setMaxActiveRacingThawIsNotOverwritten() throws InterruptedException {
        WorkQueue q = t.queue("freezable").freezable().maxActive(4).build();

        raceAThawHeldBeforeApplying(q, () -> q.setMaxActive(1));

        assertThat(t.rt.isFrozen()).isFalse();
        assertThat(q.maxActive()).isEqualTo(1);
        assertThat(q.engine().appliedMaxActive()).as("the new limit, on every pwq").containsOnly(1);
    }

    @Test
    @DisplayName("a freeze waiting for running items returns when a thaw comes first")
    void freezeWaitingForRunningItemsEndsAtAThaw() throws InterruptedException {
        WorkQueue q = t.queue("freezable").freezable().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("busy", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
        // waits for "busy", frozen: polling it (a WAITING thread may be waiting for a pool lock before
        // it froze anything, and a thaw then would come first, leaving the freeze to wait for "busy")
        Thread freezer = TestRuntime.startAndAwaitAt("freezer", t.rt::freeze, "freeze.poll");
        try {
            t.rt.thaw();
            freezer.join(Duration.ofSeconds(20).toMillis());
            assertThat(freezer.isAlive()).as("the freeze stopped waiting: the runtime is thawed").isFalse();
        } finally {
            release.countDown();
        }
    }

    // ------------------------------------------------------------------ DelayedWork.flush

    @Test
    @DisplayName("DelayedWork.flush waits for an instance armed before the call that another flusher is firing")
    void delayedFlushWaitsForTheInstanceAnotherFlusherIsFiring() throws InterruptedException {
        WorkQueue q = t.queue("delayed").build();
        CountDownLatch firstRunStarted = new CountDownLatch(1);
        CountDownLatch releaseFirstRun = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", () -> {
            if (started.incrementAndGet() == 1) {
                firstRunStarted.countDown();
                WorkQueueCoreTest.await(releaseFirstRun);
            }
            finished.incrementAndGet();
        });
        q.queue(dw);
        WorkQueueCoreTest.await(firstRunStarted); // instance A runs
        assertThat(q.queueDelayed(dw, Duration.ofHours(1))).isTrue(); // instance B armed, before both flushes

        CountDownLatch firing = new CountDownLatch(1);
        CountDownLatch land = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger retries = new java.util.concurrent.atomic.AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (subject != dw && subject != dw.node) { // the timer names the engine node, the flush the item
                return;
            }
            String thread = Thread.currentThread().getName();
            if (point.equals("timer.fire") && thread.equals("f1")) {
                firing.countDown(); // f1 took B off the timer and has not queued it yet
                WorkQueueCoreTest.await(land);
            } else if (point.equals("delayedFlush.retry") && thread.equals("f2")) {
                retries.incrementAndGet();
            }
        });
        try {
            Thread f1 = new Thread(dw::flush, "f1");
            f1.start();
            WorkQueueCoreTest.await(firing);
            java.util.concurrent.atomic.AtomicInteger finishedWhenF2Returned = new java.util.concurrent.atomic.AtomicInteger(-1);
            Thread f2 = new Thread(() -> {
                dw.flush();
                finishedWhenF2Returned.set(finished.get());
            }, "f2");
            f2.start();
            // While A runs, f2 either waits on a barrier behind A alone, or looks again for B.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> f2.getState() == Thread.State.WAITING || retries.get() > 0);
            releaseFirstRun.countDown(); // A ends; B is still between the timer and the queue
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> !f2.isAlive() || retries.get() > 0);
            land.countDown();
            f1.join();
            f2.join();
            assertThat(finishedWhenF2Returned).as("both A and B, armed before the flush, had finished").hasValue(2);
        } finally {
            TestHooks.install(null);
        }
    }
    /*
     * An instance taken off the timer whose queue has died since it was armed is reported to the
     * uncaught-work handler instead of run: that report is how the instance ends. A flush of the
     * item that begins while another thread (a flusher that fired it, or the timer thread) is
     * between releasing the item and delivering the report must not return before the report.
     */
    @Test
    @DisplayName("DelayedWork.flush does not return before the report of an instance fired into a destroyed queue")
    void delayedFlushWaitsForTheReportOfAnInstanceFiredIntoADeadQueue() throws InterruptedException {
        CountDownLatch reportEntered = new CountDownLatch(1);
        CountDownLatch releaseReport = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger reports = new java.util.concurrent.atomic.AtomicInteger();
        WorkQueues rt = runtimeWithHeldReports(reportEntered, releaseReport, reports);
        try {
            WorkQueue q = rt.queueBuilder("dies").build();
            DelayedWork dw = new DelayedWork("dw", () -> { });
            assertThat(q.queueDelayed(dw, Duration.ofHours(1))).isTrue(); // armed before both flushes
            CountDownLatch offTimer = new CountDownLatch(1);
            CountDownLatch fire = new CountDownLatch(1);
            CountDownLatch f2Retrying = new CountDownLatch(1);
            TestHooks.install((point, subject) -> {
                if (point.equals("timer.awaitTransit")) {
                    fire.countDown(); // the destroy began: f1's insert is refused, the instance released and reported
                    return;
                }
                if (subject != dw && subject != dw.node) {
                    return;
                }
                String thread = Thread.currentThread().getName();
                if (point.equals("timer.fire") && thread.equals("f1")) {
                    offTimer.countDown(); // f1 took the instance off the timer, has not queued it yet
                    WorkQueueCoreTest.await(fire);
                } else if (point.equals("delayedFlush.retry") && thread.equals("f2")) {
                    f2Retrying.countDown();
                }
            });
            Thread f1 = new Thread(dw::flush, "f1");
            f1.start();
            WorkQueueCoreTest.await(offTimer);
            // The instance is on no timer and no list: nothing for destroy to take back; the
            // destroy waits until f1 has released it (ExpiryInTransitTest), not for its report.
            Thread destroyer = new Thread(q::destroy, "destroyer");
            destroyer.start();
            destroyer.join();
            WorkQueueCoreTest.await(reportEntered);
            java.util.concurrent.atomic.AtomicInteger reportsWhenF2Returned = new java.util.concurrent.atomic.AtomicInteger(-1);
            Thread f2 = new Thread(() -> {
                dw.flush();
                reportsWhenF2Returned.set(reports.get());
            }, "f2");
            f2.start();
            // f2 either returns at once (the defect) or looks again while the report is under way.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> !f2.isAlive() || f2Retrying.getCount() == 0);
            releaseReport.countDown();
            f1.join();
            f2.join();
            assertThat(reportsWhenF2Returned).as("the instance armed before the flush had ended (reported)").hasValue(1);
        } finally {
            TestHooks.install(null);
            releaseReport.countDown();
            rt.close();
        }
    }
    @Test
    @DisplayName("DelayedWork.flush does not return before destroy() has reported the instance it took off the timer")
    void delayedFlushWaitsForTheReportOfAnInstanceADestroyTookBack() throws InterruptedException {
        CountDownLatch reportEntered = new CountDownLatch(1);
        CountDownLatch releaseReport = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger reports = new java.util.concurrent.atomic.AtomicInteger();
        WorkQueues rt = runtimeWithHeldReports(reportEntered, releaseReport, reports);
        CountDownLatch fRetrying = new CountDownLatch(1);
        try {
            WorkQueue q = rt.queueBuilder("dies").build();
            DelayedWork dw = new DelayedWork("dw", () -> { });
            assertThat(q.queueDelayed(dw, Duration.ofHours(1))).isTrue(); // armed before the flush
            TestHooks.install((point, subject) -> {
                if (subject == dw && point.equals("delayedFlush.retry") && Thread.currentThread().getName().equals("f")) {
                    fRetrying.countDown();
                }
            });
            Thread destroyer = new Thread(q::destroy, "destroyer");
            destroyer.start();
            WorkQueueCoreTest.await(reportEntered); // the destroy took it off the timer, released it, and reports it
            java.util.concurrent.atomic.AtomicInteger reportsWhenFReturned = new java.util.concurrent.atomic.AtomicInteger(-1);
            Thread f = new Thread(() -> {
                dw.flush();
                reportsWhenFReturned.set(reports.get());
            }, "f");
            f.start();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> !f.isAlive() || fRetrying.getCount() == 0);
            releaseReport.countDown();
            destroyer.join();
            f.join();
            assertThat(reportsWhenFReturned).as("the instance armed before the flush had ended (reported)").hasValue(1);
        } finally {
            TestHooks.install(null);
            releaseReport.countDown();
            rt.close();
        }
    }
    /**
     * A one-CPU runtime whose uncaught-work handler, for each refused instance (an
     * IllegalStateException), counts {@code entered} down, waits for {@code release}, then counts
     * the report in {@code reports}.
     */
    static WorkQueues runtimeWithHeldReports(CountDownLatch entered, CountDownLatch release,
                                                     java.util.concurrent.atomic.AtomicInteger reports) {
        return WorkQueues.create(WorkQueuesConfig.builder().cpus(1).uncaughtWorkHandler((queue, work, e) -> {
            if (e instanceof IllegalStateException) {
                entered.countDown();
                WorkQueueCoreTest.await(release);
                reports.incrementAndGet();
            }
        }).build());
    }
}
