package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/** freeze() under unrelated locks; a cancelSync under a lock the report handler takes. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break2FreezeAndWaitsTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> handled = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private WorkQueues rt2;
    private Lockdep lockdep;
    private ValidatedLock l;

    private WorkQueues runtime() {
        lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
        l = new ValidatedLock("L", new LockClassKey("L"), lockdep);
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> {
                    handled.add(e);
                    if (!l.isHeldByCurrentThread()) {
                        l.lock();
                        l.unlock();
                    }
                }).build());
        return rt;
    }

    @AfterEach
    void close() {
        if (rt2 != null) {
            rt2.close();
        }
        if (rt != null) {
            rt.close();
        }
    }

    /** freeze() from a thread holding a lock no freezable queue's item takes: silent. */
    @Test
    void freezeUnderAnUnrelatedLockIsSilent() {
        WorkQueues r = runtime();
        WorkQueue f = r.queueBuilder("f").freezable().build();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        f.queue(new Work("takes-m", () -> {
            m.lock();
            m.unlock();
        }));
        f.flush();
        l.lock();
        try {
            r.freeze();
        } finally {
            l.unlock();
        }
        r.thaw();
        f.flush();
        assertThat(reports).isEmpty();
    }

    /** freeze() of a second runtime (same validator) from an item of the first: silent, and returns. */
    @Test
    void freezeOfANestedRuntimeFromAnItemIsSilent() {
        WorkQueues r = runtime();
        rt2 = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).build());
        WorkQueue f2 = rt2.queueBuilder("f2").freezable().build();
        f2.queue(new Work("x", () -> { }));
        f2.flush();
        WorkQueue q = r.queueBuilder("q").freezable().build();
        q.queue(new Work("freezer", () -> {
            rt2.freeze();
            rt2.thaw();
        }));
        q.flush();
        assertThat(handled).isEmpty();
        assertThat(reports).isEmpty();
    }

    /**
     * Missed-deadlock check: the handler takes L when told of a refused expiry; a cancelSync
     * under L of an item of that class could wait for such a report: predicted under THROW
     * (holds). But the PotentialDeadlockException comes from the timer-map touch, after the
     * cancel took the armed instance back: the call throws, so it cannot say it cancelled.
     * README faults table: "A cancel/disable (any variant) ... has taken a pending instance back
     * and then throws before it can say so ... The taken instance is reported to the
     * uncaught-work handler with what was thrown ... Before: the instance was neither run nor
     * reported, and no call said it was cancelled".
     *
     * <p>Fails: the instance is neither armed any more nor reported (cancelSync cancels, then
     * touches the timer map in awaitNotFiredElsewhere, which throws under THROW).
     */
    @Test
    void cancelSyncUnderALockTheReportHandlerTakesIsPredicted() {
        WorkQueues r = runtime();
        LockClassKey k = new LockClassKey("(work_completion)d");
        WorkQueue q1 = r.queueBuilder("q1").build();
        DelayedWork d = new DelayedWork("d", k, () -> { });
        assertThat(q1.queueDelayed(d, Duration.ofHours(1))).isTrue();
        q1.destroy(); // reported under the timer map; the handler takes L
        assertThat(handled).hasSize(1);
        WorkQueue q2 = r.queueBuilder("q2").build();
        assertThat(q2.queueDelayed(d, Duration.ofHours(1))).isTrue();
        l.lock();
        try {
            assertThatThrownBy(d::cancelSync).isInstanceOf(PotentialDeadlockException.class);
        } finally {
            l.unlock();
        }
        boolean stillArmed = d.isPending();
        assertThat(stillArmed || handled.size() == 2)
                .as("the armed instance is still armed (pending %s) or reported (reports %s)", stillArmed, handled)
                .isTrue();
    }

    /**
     * As above for disableSync and cancelSync(Duration).
     *
     * <p>Fails: as above (the armed instance is neither armed nor reported after the throw).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"disableSync", "cancelSyncTimed"})
    void otherSyncCancelsUnderALockTheReportHandlerTakes(String variant) {
        WorkQueues r = runtime();
        LockClassKey k = new LockClassKey("(work_completion)d");
        WorkQueue q1 = r.queueBuilder("q1").build();
        DelayedWork d = new DelayedWork("d", k, () -> { });
        assertThat(q1.queueDelayed(d, Duration.ofHours(1))).isTrue();
        q1.destroy();
        assertThat(handled).hasSize(1);
        WorkQueue q2 = r.queueBuilder("q2").build();
        assertThat(q2.queueDelayed(d, Duration.ofHours(1))).isTrue();
        l.lock();
        try {
            assertThatThrownBy(() -> {
                if (variant.equals("disableSync")) {
                    d.disableSync();
                } else {
                    d.cancelSync(Duration.ofSeconds(5));
                }
            }).isInstanceOf(PotentialDeadlockException.class);
        } finally {
            l.unlock();
        }
        boolean stillArmed = d.isPending();
        assertThat(stillArmed || handled.size() == 2)
                .as("%s: the armed instance is still armed (pending %s) or reported (reports %s)", variant, stillArmed, handled)
                .isTrue();
    }
}
