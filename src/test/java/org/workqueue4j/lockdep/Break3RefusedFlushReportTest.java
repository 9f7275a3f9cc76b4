package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * A DelayedWork.flush() that fires the timer early into a draining queue reports the refused
 * expiry on the flusher's thread, holding the timer map; meanwhile a cancelSync under a lock a
 * report's handler takes is predicted (README: "the waits for such a report (cancelSync ...)
 * touch it exclusively") and nothing is reported twice.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3RefusedFlushReportTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> handled = new CopyOnWriteArrayList<>();
    private final List<String> handledWork = new CopyOnWriteArrayList<>();
    private final AtomicBoolean blockHandler = new AtomicBoolean();
    private final CountDownLatch inHandler = new CountDownLatch(1);
    private final CountDownLatch handlerRelease = new CountDownLatch(1);
    private WorkQueues rt;
    private ValidatedLock l;

    @AfterEach
    void close() {
        handlerRelease.countDown();
        if (rt != null) {
            rt.close();
        }
    }

    private static void await(CountDownLatch c) {
        try {
            assertThat(c.await(30, TimeUnit.SECONDS)).as("latch").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void awaitParked(Thread t) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            assertThat(System.nanoTime() - end).as("thread %s parks", t.getName()).isNegative();
            Thread.onSpinWait();
        }
    }

    @Test
    void aCancelSyncWaitingForAFlushersReportIsPredictedAndNothingIsReportedTwice() throws Exception {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
        l = new ValidatedLock("L", new LockClassKey("L"), lockdep);
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> {
                    handledWork.add(w == null ? "?" : w.name());
                    handled.add(e);
                    if (e instanceof PotentialDeadlockException) {
                        return;
                    }
                    if (blockHandler.get()) {
                        inHandler.countDown();
                        await(handlerRelease);
                    } else {
                        l.lock();
                        l.unlock();
                    }
                }).build());
        WorkQueue q1 = rt.queueBuilder("q1").build();
        WorkQueue q2 = rt.queueBuilder("q2").build();
        DelayedWork d = new DelayedWork("d", new LockClassKey("d"), () -> { });
        assertThat(q1.queueDelayed(d, Duration.ofHours(1))).isTrue();
        q1.destroy(); // learn: a report's handler takes L
        assertThat(handledWork).containsExactly("d");

        CountDownLatch yStarted = new CountDownLatch(1);
        CountDownLatch yRelease = new CountDownLatch(1);
        assertThat(q2.queue(new Work("y", new LockClassKey("y"), () -> {
            yStarted.countDown();
            await(yRelease);
        }))).isTrue();
        await(yStarted);
        assertThat(q2.queueDelayed(d, Duration.ofHours(1))).isTrue();
        Thread drainer = new Thread(q2::drain, "drainer");
        drainer.start();
        awaitParked(drainer);
        blockHandler.set(true);
        Thread flusher = new Thread(d::flush, "flusher");
        flusher.start();
        await(inHandler); // the flusher reports the refused expiry, in the handler
        l.lock();
        try {
            assertThatThrownBy(d::cancelSync).as("predicted before blocking").isInstanceOf(PotentialDeadlockException.class);
        } finally {
            l.unlock();
        }
        handlerRelease.countDown();
        flusher.join(30_000);
        yRelease.countDown();
        drainer.join(30_000);
        assertThat(flusher.isAlive() || drainer.isAlive()).isFalse();
        assertThat(handledWork).as("learn report, refused-expiry report, nothing else (%s)", handled).containsExactly("d", "d");
        assertThat(d.isPending()).isFalse();
        assertThat(q2.queue(d)).as("enabled again").isTrue();
        q2.flush();
    }
}
