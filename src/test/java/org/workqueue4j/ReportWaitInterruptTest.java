package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * Interrupts of a cancel-and-wait that waits for another thread's report of a refused expiry
 * of the item: the uninterruptible forms go on waiting and return with the status set, the
 * timed form throws InterruptedException with the status cleared.
 */
class ReportWaitInterruptTest {
    private WorkQueues rt;
    private final AtomicInteger reports = new AtomicInteger();
    private final CountDownLatch reportBegun = new CountDownLatch(1);
    private final CountDownLatch reportGoOn = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        TestHooks.install(null);
        reportGoOn.countDown();
        if (rt != null) {
            rt.close();
        }
    }

    /** d's expiry is refused by its queue's destroy and reported on the timer thread, held there. */
    private DelayedWork refusedAndHeld() throws InterruptedException {
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).validator(LockDependencyValidator.disabled())
                .uncaughtWorkHandler((q, w, e) -> {
                    reportBegun.countDown();
                    FlushContractTest.awaitUninterruptibly(reportGoOn);
                    reports.incrementAndGet();
                }).build());
        WorkQueue q = rt.queueBuilder("transit").build();
        DelayedWork d = new DelayedWork("d", () -> { });
        CountDownLatch inTransit = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("timer.fire") && subject == d.node) {
                inTransit.countDown();
                FlushContractTest.awaitUninterruptibly(goOn);
            } else if (point.equals("timer.awaitTransit")) {
                goOn.countDown();
            }
        });
        assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        assertThat(inTransit.await(30, TimeUnit.SECONDS)).isTrue();
        q.destroy();
        assertThat(reportBegun.await(30, TimeUnit.SECONDS)).isTrue();
        return d;
    }

    private static void awaitParkedOrDone(Thread th) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> th.getState() == Thread.State.WAITING
                || th.getState() == Thread.State.TIMED_WAITING || th.getState() == Thread.State.TERMINATED);
    }

    @Test
    @DisplayName("cancelSync() interrupted while it waits for a report: goes on waiting, returns after the report with the status set")
    void uninterruptibleCancelKeepsWaitingAndTheStatus() throws Exception {
        uninterruptible(false);
    }

    @Test
    @DisplayName("disableSync() interrupted while it waits for a report: goes on waiting, returns after the report with the status set")
    void uninterruptibleDisableKeepsWaitingAndTheStatus() throws Exception {
        uninterruptible(true);
    }

    private void uninterruptible(boolean disable) throws Exception {
        DelayedWork d = refusedAndHeld();
        AtomicInteger reportsAtReturn = new AtomicInteger(-1);
        AtomicBoolean statusAtReturn = new AtomicBoolean();
        CountDownLatch waiting = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("node.awaitFiring")) {
                waiting.countDown();
            }
        });
        Thread canceller = new Thread(() -> {
            if (disable) {
                d.disableSync();
            } else {
                d.cancelSync();
            }
            reportsAtReturn.set(reports.get());
            statusAtReturn.set(Thread.currentThread().isInterrupted());
        }, "canceller");
        canceller.start();
        assertThat(waiting.await(30, TimeUnit.SECONDS)).isTrue();
        awaitParkedOrDone(canceller);
        canceller.interrupt();
        awaitParkedOrDone(canceller);
        boolean returnedBeforeTheReport = canceller.getState() == Thread.State.TERMINATED;
        reportGoOn.countDown();
        canceller.join(30_000);
        assertThat(canceller.isAlive()).isFalse();
        assertThat(returnedBeforeTheReport).as("returned on the interrupt, before the report").isFalse();
        assertThat(reportsAtReturn.get()).isEqualTo(1);
        assertThat(statusAtReturn.get()).as("interrupt status kept").isTrue();
    }

    @Test
    @DisplayName("cancelSync(Duration) interrupted while it waits for a report: throws InterruptedException, status cleared; the item stays usable")
    void timedCancelThrowsOnInterrupt() throws Exception {
        DelayedWork d = refusedAndHeld();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean statusAfter = new AtomicBoolean(true);
        CountDownLatch waiting = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("node.awaitFiring")) {
                waiting.countDown();
            }
        });
        Thread canceller = new Thread(() -> {
            try {
                d.cancelSync(Duration.ofMinutes(5));
            } catch (Throwable e) {
                thrown.set(e);
            }
            statusAfter.set(Thread.currentThread().isInterrupted());
        }, "canceller");
        canceller.start();
        assertThat(waiting.await(30, TimeUnit.SECONDS)).isTrue();
        canceller.interrupt();
        canceller.join(30_000);
        assertThat(canceller.isAlive()).as("returned on the interrupt").isFalse();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(statusAfter.get()).as("status cleared").isFalse();
        assertThat(d.disableDepth()).as("enabled again").isZero();
        reportGoOn.countDown();
        d.flush();
        assertThat(reports.get()).isEqualTo(1);
    }
}
