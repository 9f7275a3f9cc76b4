package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * A cancel-and-wait whose prediction comes from the timer map (README: "the waits for such a
 * report (cancelSync, cancelSync(Duration), disableSync ...) touch it exclusively"), after it took
 * an armed instance: "reports that instance to the uncaught-work handler".
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3TimerMapCancelTest {
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
                    if (!(e instanceof PotentialDeadlockException)) {
                        l.lock(); // a handler that records the refused expiry under L
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

    interface Cancel {
        void run(DelayedWork w) throws Exception;
    }

    private void check(Cancel cancel, boolean enabledAfter) throws Exception {
        WorkQueues r = runtime();
        WorkQueue q1 = r.queueBuilder("q1").build();
        WorkQueue q2 = r.queueBuilder("q2").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("d", new LockClassKey("d"), runs::incrementAndGet);
        assertThat(q1.queueDelayed(d, Duration.ofHours(1))).isTrue();
        q1.destroy(); // reported under d's timer map; the handler takes L
        assertThat(handledWork).containsExactly("d");
        assertThat(q2.queueDelayed(d, Duration.ofHours(1))).isTrue();
        l.lock();
        try {
            assertThatThrownBy(() -> cancel.run(d)).isInstanceOf(PotentialDeadlockException.class);
        } finally {
            l.unlock();
        }
        assertThat(d.isPending()).isFalse();
        assertThat(handledWork).as("the taken instance reported once more (%s)", handled).containsExactly("d", "d");
        assertThat(handled.get(1)).isInstanceOf(PotentialDeadlockException.class);
        assertThat(q2.queue(d)).as("enabled after").isEqualTo(enabledAfter);
        q2.flush();
        assertThat(runs.get()).isEqualTo(enabledAfter ? 1 : 0);
        q2.destroy();
        assertThat(handledWork).hasSize(2);
    }

    @Test
    void cancelSync() throws Exception {
        check(DelayedWork::cancelSync, true);
    }

    @Test
    void timedCancelSync() throws Exception {
        check(d -> d.cancelSync(Duration.ofSeconds(30)), true);
    }

    @Test
    void disableSync() throws Exception {
        check(DelayedWork::disableSync, false);
    }
}
