package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * Items run by a memReclaim() queue's rescuer (no worker can be created): the rescuer runs them
 * through process_one_work in the kernel, so it holds the queue's and the item's maps, and a
 * self-flush there is the same recursive locking as on a worker.
 */
class LockdepAttackRescuerTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> workErrors = new CopyOnWriteArrayList<>();
    private final AtomicBoolean failing = new AtomicBoolean();
    private WorkQueues rt;
    private Lockdep lockdep;

    private WorkQueue reclaimQueue() {
        lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        ThreadFactory base = Executors.defaultThreadFactory();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> workErrors.add(e))
                .threadFactory(r -> {
                    if (failing.get()) {
                        throw new OutOfMemoryError("unable to create native thread: possibly out of memory");
                    }
                    return base.newThread(r);
                }).build());
        WorkQueue q = rt.queueBuilder("reclaim").memReclaim().build(); // its rescuer exists now
        failing.set(true);
        return q;
    }

    @AfterEach
    void close() {
        failing.set(false);
        if (rt != null) {
            rt.close();
        }
    }

    @Test
    void aLockTakenByAnItemOnTheRescuerDependsOnTheQueue() throws Exception {
        WorkQueue q = reclaimQueue();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        AtomicReference<String> ranOn = new AtomicReference<>();
        q.queue(new Work("takes-m", () -> {
            ranOn.set(Thread.currentThread().getName());
            m.lock();
            m.unlock();
        }));
        assertThat(q.flush(Duration.ofSeconds(30))).isTrue();
        assertThat(ranOn.get()).contains("kworker/R-reclaim");
        m.lock();
        try {
            q.flush();
        } finally {
            m.unlock();
        }
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.classes()).contains("M", "(wq_completion)reclaim");
        });
    }

    @Test
    void anItemOnTheRescuerFlushingItsOwnQueueIsRecursiveAndRefused() throws Exception {
        WorkQueue q = reclaimQueue();
        AtomicReference<String> ranOn = new AtomicReference<>();
        q.queue(new Work("self-flush", () -> {
            ranOn.set(Thread.currentThread().getName());
            q.flush();
        }));
        assertThat(q.flush(Duration.ofSeconds(30))).as("no self-deadlock on the rescuer").isTrue();
        assertThat(ranOn.get()).contains("kworker/R-reclaim");
        assertThat(workErrors).singleElement().isInstanceOf(IllegalStateException.class);
        assertThat(reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE));
    }
}
