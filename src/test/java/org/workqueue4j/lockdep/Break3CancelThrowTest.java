package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
 * A cancel-and-wait under THROW that took a pending instance and then throws the prediction
 * (the item runs, its class was seen taking L, the canceller holds L): README "A cancel-and-wait
 * that took a pending instance back and then throws ... reports that instance to the
 * uncaught-work handler"; faults table "the item is idle and usable".
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3CancelThrowTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> handled = new CopyOnWriteArrayList<>();
    private final List<String> handledWork = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;
    private ValidatedLock l;

    private WorkQueues runtime() {
        lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
        l = new ValidatedLock("L", new LockClassKey("L"), lockdep);
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> {
                    handledWork.add(w == null ? "?" : w.name());
                    handled.add(e);
                }).build());
        return rt;
    }

    @AfterEach
    void close() {
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

    interface Cancel {
        void run(Work w) throws Exception;
    }

    private void cancelWhileRunningWithAPendingInstance(boolean delayed, Cancel cancel, boolean expectEnabledAfter) throws Exception {
        WorkQueue q = runtime().queueBuilder("q").build();
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch secondStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch firstDone = new CountDownLatch(1);
        Runnable fn = () -> {
            int n = runs.incrementAndGet();
            if (n == 1) {
                l.lock(); // the item's class is seen taking L
                l.unlock();
                firstDone.countDown();
            } else if (n == 2) {
                secondStarted.countDown();
                await(release);
            }
        };
        Work w = delayed ? new DelayedWork("w", new LockClassKey("w"), fn) : new Work("w", new LockClassKey("w"), fn);
        assertThat(q.queue(w)).isTrue();
        await(firstDone);
        w.flush(); // the first run has ended (it may have already)
        assertThat(q.queue(w)).isTrue();
        await(secondStarted);
        if (delayed) {
            assertThat(q.queueDelayed((DelayedWork) w, Duration.ofHours(1))).as("armed while it runs").isTrue();
        } else {
            assertThat(q.queue(w)).as("pending while it runs").isTrue();
        }
        l.lock();
        try {
            assertThatThrownBy(() -> cancel.run(w)).isInstanceOf(PotentialDeadlockException.class);
        } finally {
            l.unlock();
        }
        release.countDown();
        q.flush();
        assertThat(w.isPending()).as("the taken instance is not pending").isFalse();
        assertThat(handledWork).as("the taken instance is reported once (handled %s)", handled).containsExactly("w");
        assertThat(handled.get(0)).isInstanceOf(PotentialDeadlockException.class);
        if (expectEnabledAfter) {
            assertThat(q.queue(w)).as("usable again").isTrue();
            q.flush();
            assertThat(runs.get()).isEqualTo(3);
        } else {
            assertThat(runs.get()).isEqualTo(2);
        }
        q.destroy();
        assertThat(handledWork).as("nothing more reported, even by the destroy").containsExactly("w");
    }

    @Test
    void cancelSyncQueued() throws Exception {
        cancelWhileRunningWithAPendingInstance(false, Work::cancelSync, true);
    }

    @Test
    void cancelSyncArmed() throws Exception {
        cancelWhileRunningWithAPendingInstance(true, Work::cancelSync, true);
    }

    @Test
    void timedCancelSyncArmed() throws Exception {
        cancelWhileRunningWithAPendingInstance(true, w -> w.cancelSync(Duration.ofSeconds(30)), true);
    }

    @Test
    void timedCancelSyncQueued() throws Exception {
        cancelWhileRunningWithAPendingInstance(false, w -> w.cancelSync(Duration.ofSeconds(30)), true);
    }

    @Test
    void disableSyncArmed() throws Exception {
        cancelWhileRunningWithAPendingInstance(true, Work::disableSync, false);
    }

    @Test
    void disableSyncQueued() throws Exception {
        cancelWhileRunningWithAPendingInstance(false, Work::disableSync, false);
    }
}
