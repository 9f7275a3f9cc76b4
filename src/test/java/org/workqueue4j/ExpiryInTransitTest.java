package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * A delayed item's expiry between the timer and its queue: the timer thread (or a flusher
 * firing the item now) has taken the node off the timer, and has neither landed it nor
 * released it yet. A {@code destroy()} that begins then must not return with the item still
 * pending (its insert is refused a moment later), and a {@code cancelSync} of the item must not
 * return before the refused instance has ended with its report: every instance queued before
 * it then ran, was cancelled, or was reported. Each interleaving is held in place with test
 * hooks; no timing is involved.
 */
class ExpiryInTransitTest {
    private WorkQueues rt;
    private final AtomicInteger reports = new AtomicInteger();
    /** Counted down by the uncaught-work handler as a report of a refused expiry begins. */
    private final CountDownLatch reportBegun = new CountDownLatch(1);
    /** The handler holds the report until this opens (when a test wants it held). */
    private final CountDownLatch reportGoOn = new CountDownLatch(1);
    private volatile boolean holdReport;

    private WorkQueue start(String queue) {
        rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .validator(LockDependencyValidator.disabled())
                .uncaughtWorkHandler((q, w, e) -> {
                    reportBegun.countDown();
                    if (holdReport) {
                        FlushContractTest.awaitUninterruptibly(reportGoOn);
                    }
                    reports.incrementAndGet();
                })
                .build());
        return rt.queueBuilder(queue).build();
    }

    @AfterEach
    void tearDown() {
        TestHooks.install(null);
        reportGoOn.countDown();
        if (rt != null) {
            rt.close();
        }
    }

    /**
     * Holds the timer thread once it has taken {@code d} off the timer, before it queues it
     * ({@code timer.fire}), until {@code goOn} opens; {@code inTransit} opens when it gets there.
     * A thread that reaches {@code waitFor} opens {@code goOn}, and one that reaches
     * {@code node.awaitFiring} opens a held report (the waits the fix adds).
     */
    private void holdTheTimer(CountDownLatch inTransit, CountDownLatch goOn, String waitFor) {
        TestHooks.install((point, subject) -> {
            if (point.equals("timer.fire") && Thread.currentThread().getName().contains("timer")) {
                inTransit.countDown();
                FlushContractTest.awaitUninterruptibly(goOn);
            } else if (point.equals(waitFor)) {
                goOn.countDown();
            } else if (point.equals("node.awaitFiring")) {
                reportGoOn.countDown(); // a cancel waits for the held report (the wait the fix adds): let it end
            }
        });
    }

    @Test
    @DisplayName("destroy() while the timer has a delayed item of the queue off the timer, not yet queued: the item is not pending when destroy() returns")
    void destroyWaitsForAnExpiryBetweenTheTimerAndItsQueue() throws Exception {
        WorkQueue q = start("transit");
        DelayedWork d = new DelayedWork("d", () -> { });
        CountDownLatch inTransit = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        holdTheTimer(inTransit, goOn, "timer.awaitTransit");
        assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        assertThat(inTransit.await(30, TimeUnit.SECONDS)).as("the timer took d off the heap").isTrue();

        boolean pendingAtReturn;
        try {
            q.destroy();
            pendingAtReturn = d.isPending();
        } finally {
            goOn.countDown(); // without the wait, the timer is still held: let it go
        }
        assertThat(pendingAtReturn).as("d pending after its queue's destroy() returned").isFalse();
        assertThat(reportBegun.await(30, TimeUnit.SECONDS)).as("the refused expiry is reported").isTrue();
        d.flush(); // returns after the report (see DelayedWork.flush)
        assertThat(reports.get()).as("reported once").isEqualTo(1);
        assertThat(d.isPending()).isFalse();
    }

    /**
     * Arms {@code d} on {@code q}, holds the timer once it has taken d off the heap, and destroys
     * {@code q} on a thread "destroyer" (waited for up to 30 s); the destroy's wait for the
     * expiry in transit lets the timer go on (its insert is refused and d reported), and so
     * does this method after the join, for a destroy that does not wait.
     *
     * @return the destroyer thread (ended, unless its destroy hangs)
     */
    private Thread destroyWithTheExpiryInTransit(WorkQueue q, DelayedWork d) throws InterruptedException {
        CountDownLatch inTransit = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        holdTheTimer(inTransit, goOn, "timer.awaitTransit");
        assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        assertThat(inTransit.await(30, TimeUnit.SECONDS)).isTrue();
        Thread destroyer = new Thread(q::destroy, "destroyer");
        destroyer.start();
        destroyer.join(30_000);
        goOn.countDown(); // without the destroy's wait the timer is still held
        return destroyer;
    }

    @Test
    @DisplayName("destroy() of the same queue from the handler of the refused expiry (on the timer thread) while the first destroy runs: both return")
    void aHandlerDestroyingTheSameQueueDoesNotWaitForTheFirstDestroysWait() throws Exception {
        AtomicReference<Throwable> handlerFailure = new AtomicReference<>();
        CountDownLatch handlerReturned = new CountDownLatch(1);
        AtomicReference<WorkQueue> queue = new AtomicReference<>();
        rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .validator(LockDependencyValidator.disabled())
                .uncaughtWorkHandler((q, w, e) -> {
                    try {
                        queue.get().destroy(); // waits for the destroy under way: which must not wait for this report
                    } catch (Throwable t) {
                        handlerFailure.set(t);
                    }
                    handlerReturned.countDown();
                })
                .build());
        WorkQueue q = rt.queueBuilder("transit").build();
        queue.set(q);
        DelayedWork d = new DelayedWork("d", () -> { });
        Thread destroyer = destroyWithTheExpiryInTransit(q, d);
        assertThat(handlerReturned.await(30, TimeUnit.SECONDS)).as("the handler's destroy() returned").isTrue();
        assertThat(destroyer.isAlive()).as("the first destroy() returned").isFalse();
        assertThat(handlerFailure.get()).isNull();
        assertThat(q.isDestroyed()).isTrue();
        assertThat(d.isPending()).isFalse();
    }

    @Test
    @DisplayName("close() with a close timeout while an expiry is held in transit: the destroy's wait for it ends at the timeout, close() returns")
    void aBoundedCloseDoesNotWaitForAnExpiryInTransitPastItsTimeout() throws Exception {
        rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .validator(LockDependencyValidator.disabled())
                .closeTimeout(Duration.ofMillis(300))
                .uncaughtWorkHandler((q, w, e) -> reports.incrementAndGet())
                .build());
        WorkQueue q = rt.queueBuilder("transit").build();
        DelayedWork d = new DelayedWork("d", () -> { });
        CountDownLatch inTransit = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        CountDownLatch waited = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("timer.fire") && Thread.currentThread().getName().contains("timer")) {
                inTransit.countDown();
                FlushContractTest.awaitUninterruptibly(goOn); // held past the close's timeout
            } else if (point.equals("timer.awaitTransit")) {
                waited.countDown();
            }
        });
        assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        assertThat(inTransit.await(30, TimeUnit.SECONDS)).isTrue();
        Thread closer = new Thread(rt::close, "closer");
        closer.start();
        closer.join(30_000);
        boolean closeReturned = !closer.isAlive();
        goOn.countDown();
        closer.join(30_000);
        assertThat(waited.getCount()).as("close's destroy waited for the expiry in transit").isZero();
        assertThat(closeReturned).as("close() returned at its timeout").isTrue();
        d.flush(); // the released timer's insert is refused: d ends with its report
        assertThat(d.isPending()).isFalse();
        assertThat(reports.get()).as("the refused expiry reported").isEqualTo(1);
    }

    /** The variants of a cancel-and-wait. */
    private enum Cancel { SYNC, TIMED, DISABLE }

    @Test
    @DisplayName("cancelSync() during the report of an expiry refused by a destroy: returns after that report")
    void cancelSyncWaitsForTheReport() throws Exception {
        cancelDuringTheReport(Cancel.SYNC);
    }

    @Test
    @DisplayName("cancelSync(Duration) during the report of an expiry refused by a destroy: returns after that report")
    void timedCancelSyncWaitsForTheReport() throws Exception {
        cancelDuringTheReport(Cancel.TIMED);
    }

    @Test
    @DisplayName("disableSync() during the report of an expiry refused by a destroy: returns after that report")
    void disableSyncWaitsForTheReport() throws Exception {
        cancelDuringTheReport(Cancel.DISABLE);
    }

    /**
     * The timer takes {@code d} off the heap and is held; a destroy begins, the timer's insert is
     * refused, and the handler holds the report. A cancel-and-wait of {@code d} now finds it
     * neither pending nor running, but its refused instance has not ended: it must wait for the
     * report (the cancel's own wait point opens the handler).
     */
    private void cancelDuringTheReport(Cancel variant) throws Exception {
        WorkQueue q = start("transit");
        holdReport = true;
        DelayedWork d = new DelayedWork("d", () -> { });
        assertThat(destroyWithTheExpiryInTransit(q, d).isAlive()).as("destroy() returned").isFalse();
        assertThat(reportBegun.await(30, TimeUnit.SECONDS)).as("the refused expiry's report began").isTrue();
        int reportsAtReturn;
        boolean result;
        try {
            switch (variant) {
                case SYNC -> result = d.cancelSync();
                case TIMED -> result = d.cancelSync(Duration.ofMinutes(5));
                default -> result = d.disableSync();
            }
            reportsAtReturn = reports.get();
        } finally {
            reportGoOn.countDown();
        }
        assertThat(reportsAtReturn).as("the refused instance's report delivered before the cancel returned").isEqualTo(1);
        if (variant == Cancel.TIMED) {
            assertThat(result).as("neither pending nor running, the report delivered").isTrue();
        } else {
            assertThat(result).as("nothing was pending").isFalse();
        }
        if (variant == Cancel.DISABLE) {
            assertThat(d.enable()).isTrue();
        }
    }

    @Test
    @DisplayName("cancelSync(Duration) whose timeout ends while another thread delivers the item's report: false, the report still comes")
    void timedCancelSyncTimesOutDuringTheReport() throws Exception {
        WorkQueue q = start("transit");
        holdReport = true;
        DelayedWork d = new DelayedWork("d", () -> { });
        assertThat(destroyWithTheExpiryInTransit(q, d).isAlive()).as("destroy() returned").isFalse();
        boolean result;
        try {
            assertThat(reportBegun.await(30, TimeUnit.SECONDS)).isTrue();
            result = d.cancelSync(Duration.ZERO);
        } finally {
            reportGoOn.countDown();
        }
        assertThat(result).as("the refused instance has not ended (its report is under way)").isFalse();
        d.flush();
        assertThat(reports.get()).isEqualTo(1);
    }
    @Test
    @DisplayName("cancelSync(Duration) that times out waiting for another thread's report leaves no wake-up registered on the item")
    void aTimedOutCancelSyncLeavesNoWakeUpBehind() throws Exception {
        WorkQueue q = start("transit");
        holdReport = true;
        DelayedWork d = new DelayedWork("d", () -> { });
        assertThat(destroyWithTheExpiryInTransit(q, d).isAlive()).as("destroy() returned").isFalse();
        Object left;
        boolean result;
        try {
            assertThat(reportBegun.await(30, TimeUnit.SECONDS)).isTrue();
            TestHooks.install(null); // the report stays held while the cancel waits (no release at node.awaitFiring)
            result = d.cancelSync(Duration.ofMillis(20)); // it parks, then times out
            left = StackProbeAttackTest.field(d.node, "afterFiring");
        } finally {
            reportGoOn.countDown();
        }
        assertThat(result).as("timed out while the report was held").isFalse();
        assertThat(left).as("the wake-up actions left on the item").isNull();
        d.flush();
        assertThat(reports.get()).isEqualTo(1);
    }
}
