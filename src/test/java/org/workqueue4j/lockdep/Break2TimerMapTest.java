package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * The item's timer map (subclass 1 of its class) held around a report of an expiry that never
 * runs: a report delivered by a thread that waits for nobody (a destroy of the item's queue)
 * while it holds an unrelated lock.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break2TimerMapTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> handled = new CopyOnWriteArrayList<>();
    private final List<String> handledWork = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;
    private ValidatedLock l;

    private WorkQueues runtime(ReportPolicy policy) {
        lockdep = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        l = new ValidatedLock("L", new LockClassKey("L"), lockdep);
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> {
                    handledWork.add(w == null ? "?" : w.name());
                    handled.add(e);
                    if (w != null && w.name().equals("d2")) {
                        l.lock(); // e.g. a handler that records the failure under a lock
                        l.unlock();
                    }
                }).build());
        return rt;
    }

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    private static void await(CountDownLatch c) throws InterruptedException {
        assertThat(c.await(30, TimeUnit.SECONDS)).as("latch").isTrue();
    }

    /**
     * Two items of one class (one key), armed on two queues. Thread B destroys q2 (d2 armed):
     * d2 is reported under the timer map, and the handler takes L (timer -> L). Then thread A,
     * holding L, destroys q1 (d1 armed): d1 is reported under the timer map on A (L -> timer).
     * No thread waits for any report here (a destroy reports, it never waits for a report; the
     * handler on B waits only for L, which A releases): no deadlock is possible, yet the timer
     * map, acquired by a reporter that is not the timer thread and holds locks, closes a cycle.
     *
     * <p>README (lockdep): "an expiry reported instead of run holds the item's timer map ... so
     * a cancelSync or flush that waits for this report ... is validated against the locks the
     * handler takes" — the map stands for the waits for the report; the locks the reporter
     * holds are not waited for by anyone through that map.
     *
     * <p>Fails: a CIRCULAR report L -> (timer)d1 -> L.
     */
    @Test
    void aDestroyUnderALockReportingAnArmedItemIsNoDeadlockWithAHandlerTakingThatLock() throws Exception {
        WorkQueues r = runtime(ReportPolicy.WARN);
        LockClassKey k = new LockClassKey("(work_completion)d");
        WorkQueue q1 = r.queueBuilder("q1").build();
        WorkQueue q2 = r.queueBuilder("q2").build();
        DelayedWork d1 = new DelayedWork("d1", k, () -> { });
        DelayedWork d2 = new DelayedWork("d2", k, () -> { });
        assertThat(q1.queueDelayed(d1, Duration.ofHours(1))).isTrue();
        assertThat(q2.queueDelayed(d2, Duration.ofHours(1))).isTrue();
        Thread b = new Thread(q2::destroy, "destroyer-B");
        b.start();
        b.join(30_000);
        assertThat(b.isAlive()).isFalse();
        assertThat(handledWork).containsExactly("d2");
        l.lock();
        try {
            q1.destroy();
        } finally {
            l.unlock();
        }
        assertThat(handledWork).containsExactly("d2", "d1");
        assertThat(reports).as("no thread can wait for another here: no report").isEmpty();
    }

    /**
     * Under THROW the refused acquisition of the timer map in a destroyer's report leaves the
     * destroyer's held-lock stack balanced (README: THROW is "before blocking", nothing pushed),
     * and the report still goes out once.
     */
    @Test
    void aRefusedTimerMapAcquisitionLeavesNothingHeld() throws Exception {
        WorkQueues r = runtime(ReportPolicy.THROW);
        LockClassKey k = new LockClassKey("(work_completion)d");
        WorkQueue q1 = r.queueBuilder("q1").build();
        WorkQueue q2 = r.queueBuilder("q2").build();
        DelayedWork d1 = new DelayedWork("d1", k, () -> { });
        DelayedWork d2 = new DelayedWork("d2", k, () -> { });
        assertThat(q1.queueDelayed(d1, Duration.ofHours(1))).isTrue();
        assertThat(q2.queueDelayed(d2, Duration.ofHours(1))).isTrue();
        q2.destroy();
        l.lock();
        try {
            q1.destroy();
        } finally {
            l.unlock();
        }
        String me = Thread.currentThread().getName();
        assertThat(lockdep.snapshot().threads()).as("held after the destroys")
                .filteredOn(t -> t.thread().contains(me)).allMatch(t -> t.held().isEmpty());
        assertThat(handledWork.stream().filter("d1"::equals).count()).as("d1 reported (maybe with the PDE too)").isBetween(1L, 2L);
        assertThat(d1.isPending()).isFalse();
        assertThat(d1.cancelSync()).isFalse();
    }

    /**
     * The same under THROW: the acquisition of the timer map in the destroyer's report throws,
     * and the handler hears of d1 twice (the PotentialDeadlockException, then the destroy's report).
     *
     * <p>Fails: the handler gets a PotentialDeadlockException for d1.
     */
    @Test
    void underThrowTheDestroyersReportOfAnArmedItemIsNotRefused() throws Exception {
        WorkQueues r = runtime(ReportPolicy.THROW);
        LockClassKey k = new LockClassKey("(work_completion)d");
        WorkQueue q1 = r.queueBuilder("q1").build();
        WorkQueue q2 = r.queueBuilder("q2").build();
        DelayedWork d1 = new DelayedWork("d1", k, () -> { });
        DelayedWork d2 = new DelayedWork("d2", k, () -> { });
        assertThat(q1.queueDelayed(d1, Duration.ofHours(1))).isTrue();
        assertThat(q2.queueDelayed(d2, Duration.ofHours(1))).isTrue();
        Thread b = new Thread(q2::destroy, "destroyer-B");
        b.start();
        b.join(30_000);
        l.lock();
        try {
            q1.destroy();
        } finally {
            l.unlock();
        }
        assertThat(handled).as("exactly one report per armed item, no PotentialDeadlockException")
                .noneMatch(e -> e instanceof PotentialDeadlockException);
        assertThat(handledWork).containsExactly("d2", "d1");
    }
}
