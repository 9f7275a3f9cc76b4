package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.workqueue4j.WorkQueueCoreTest.await;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.PotentialDeadlockException;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * The workqueue flush scenarios of the reference file (§5) and of issue 14, each under all three
 * flush-annotation policies: where the queue was used before the wait, all three give the
 * kernel's verdict; the never-used cases (the seed, the mutual flush) are where they differ
 * (the verdict table is in the README, "Lock validation").
 */
class FlushAsLockTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> workErrors = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;

    private WorkQueues runtime(ReportPolicy policy, FlushAnnotation annotation) {
        lockdep = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(annotation)
                .uncaughtWorkHandler((q, w, e) -> workErrors.add(e)).build());
        return rt;
    }

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    private ValidatedLock mutex(String name) {
        return new ValidatedLock(name, new LockClassKey(name), lockdep);
    }

    private static Runnable taking(ValidatedLock m) {
        return () -> {
            m.lock();
            m.unlock();
        };
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void flushingAQueueFromOneOfItsItemsIsRecursiveLockingOnTheQueue(FlushAnnotation annotation) {
        WorkQueue q = runtime(ReportPolicy.WARN, annotation).queueBuilder("events").build();
        q.queue(new Work("flusher", q::flush));
        q.flush();

        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE);
            assertThat(r.text()).contains("possible recursive locking detected").contains("(wq_completion)events");
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void holdingALockAroundWorkFlushOfAnItemThatTakesItIsCircular(FlushAnnotation annotation) {
        WorkQueue q = runtime(ReportPolicy.WARN, annotation).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        Work w = new Work("w", taking(m));
        q.queue(w);
        w.flush();          // W -> M recorded while it ran; no lock held here
        assertThat(reports).isEmpty();

        m.lock();
        try {
            w.flush();      // M -> W: even though W is idle now (SPEC §5)
        } finally {
            m.unlock();
        }
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.classes()).contains("M").anyMatch(c -> c.startsWith("(work_completion)") && c.contains("FlushAsLockTest"));
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void holdingALockAroundQueueFlushOfAQueueWhoseItemTakesItIsCircular(FlushAnnotation annotation) {
        WorkQueue q = runtime(ReportPolicy.WARN, annotation).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        m.lock();
        try {
            q.flush();
        } finally {
            m.unlock();
        }
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.text()).contains("(wq_completion)q").contains("M");
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void flushingASiblingFromAnItemOfAnOrderedQueueIsRecursiveOnTheQueue(FlushAnnotation annotation) {
        WorkQueue q = runtime(ReportPolicy.THROW, annotation).queueBuilder("ordered").ordered().build();
        Work w2 = new Work("w2", () -> { });
        java.util.concurrent.CountDownLatch w2Queued = new java.util.concurrent.CountDownLatch(1);
        q.queue(new Work("w1", () -> {
            WorkQueueCoreTest.await(w2Queued); // w1 flushes w2 only once w2 waits behind it
            w2.flush();
        })); // w2 queued behind w1: a real deadlock, predicted instead
        q.queue(w2);
        w2Queued.countDown();
        q.flush();

        assertThat(workErrors).singleElement().isInstanceOfSatisfying(PotentialDeadlockException.class, e -> {
            assertThat(e.report().kind()).isEqualTo(LockdepReport.Kind.RECURSIVE);
            assertThat(e.report().text()).contains("(wq_completion)ordered");
        });
    }

    /**
     * Defect 1 (issue 14): a per-CPU or unbound queue limited to one active item deadlocks
     * when an item flushes a sibling queued behind it, like an ordered queue. The kernel's
     * start_flush_work touches the queue map when {@code saved_max_active == 1}.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void flushingASiblingFromAnItemOfAPerCpuMaxActiveOneQueueIsRecursiveOnTheQueue(FlushAnnotation annotation) throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW, annotation).queueBuilder("one").maxActive(1).build();
        assertSiblingFlushIsPredicted(q);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void flushingASiblingFromAnItemOfAnUnboundMaxActiveOneQueueIsRecursiveOnTheQueue(FlushAnnotation annotation) throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW, annotation).queueBuilder("one").unbound().maxActive(1).build();
        assertSiblingFlushIsPredicted(q);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void theCurrentLimitDecidesNotTheOneAtCreation(FlushAnnotation annotation) throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW, annotation).queueBuilder("one").unbound().maxActive(4).build();
        q.setMaxActive(1);
        assertSiblingFlushIsPredicted(q);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void aSiblingFlushOnAQueueRaisedAboveOneIsNotReported(FlushAnnotation annotation) throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW, annotation).queueBuilder("two").unbound().maxActive(1).build();
        q.setMaxActive(2);
        Work w2 = new Work("w2", () -> { });
        CountDownLatch done = new CountDownLatch(1);
        q.queue(new Work("w1", () -> {
            q.queue(w2);
            w2.flush();   // a second active slot: w2 runs beside w1, no deadlock and no report
            done.countDown();
        }));
        assertThat(done.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("w1 finished").isTrue();
        q.flush();
        assertThat(reports).isEmpty();
        assertThat(workErrors).isEmpty();
    }

    /**
     * w1 queues w2 behind itself and flushes it: with one active slot, w2 can only start after
     * w1 returns. Under THROW the flush must throw before it blocks; unfixed, it blocks for
     * real, and the test fails after a bounded wait (then raises the limit to let it finish).
     */
    private void assertSiblingFlushIsPredicted(WorkQueue q) throws InterruptedException {
        Work w2 = new Work("w2", () -> { });
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        q.queue(new Work("w1", () -> {
            try {
                q.queue(w2);
                w2.flush();
            } catch (RuntimeException e) {
                thrown.add(e);
            } finally {
                done.countDown();
            }
        }));
        try {
            assertThat(done.await(10, java.util.concurrent.TimeUnit.SECONDS))
                    .as("w1's flush of its sibling was predicted instead of deadlocking").isTrue();
        } finally {
            q.setMaxActive(2); // unblocks the real deadlock of the unfixed code
        }
        q.flush();
        assertThat(thrown).singleElement().isInstanceOfSatisfying(PotentialDeadlockException.class, e -> {
            assertThat(e.report().kind()).isEqualTo(LockdepReport.Kind.RECURSIVE);
            assertThat(e.report().text()).contains("(wq_completion)" + q.name());
        });
    }

    /** Defect 2 (issue 14): a self-wait through cancelSync/disableSync is recorded, then refused. */
    @Test
    void cancelSyncOfAnItemFromInsideItselfIsReportedThenRefused() {
        assertSelfCancelIsReportedThenRefused(Work::cancelSync);
    }

    @Test
    void disableSyncOfAnItemFromInsideItselfIsReportedThenRefused() {
        assertSelfCancelIsReportedThenRefused(Work::disableSync);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void underThrowASelfCancelSyncThrowsTheReportBeforeTheRefusal(FlushAnnotation annotation) {
        WorkQueue q = runtime(ReportPolicy.THROW, annotation).queueBuilder("q").build();
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        Work[] self = new Work[1];
        self[0] = new Work("self-cancel", () -> {
            try {
                self[0].cancelSync();
            } catch (RuntimeException e) {
                thrown.add(e);
            }
        });
        q.queue(self[0]);
        q.flush();
        assertThat(thrown).singleElement().isInstanceOfSatisfying(PotentialDeadlockException.class,
                e -> assertThat(e.report().kind()).isEqualTo(LockdepReport.Kind.RECURSIVE));
    }

    private void assertSelfCancelIsReportedThenRefused(java.util.function.Consumer<Work> op) {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        Work[] self = new Work[1];
        self[0] = new Work("self-cancel", () -> {
            try {
                op.accept(self[0]);
            } catch (RuntimeException e) {
                thrown.add(e);
            }
        });
        q.queue(self[0]);
        q.flush();
        assertThat(thrown).singleElement().isInstanceOf(IllegalStateException.class)
                .extracting(Throwable::getMessage).asString().contains("self-cancel");
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE);
            assertThat(r.text()).contains("(work_completion)");
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void cancelSyncTouchesOnlyTheWorksMapNotTheQueues(FlushAnnotation annotation) {
        WorkQueue q = runtime(ReportPolicy.WARN, annotation).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();           // Q -> M recorded
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w = new Work("running", () -> {
            started.countDown();
            await(release);
        });
        q.queue(w);
        await(started);
        Thread releaser = new Thread(release::countDown);
        m.lock();
        try {
            releaser.start();
            w.cancelSync();  // touches W only: M -> W, no cycle (a queue flush here would be one)
        } finally {
            m.unlock();
        }
        assertThat(reports).isEmpty();

        m.lock();
        try {
            q.flush();       // the contrast: M -> Q closes Q -> M
        } finally {
            m.unlock();
        }
        assertThat(reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);
    }

    @Test
    void destroyOfANeverUsedQueueUnderALockIsReportedUnderAlways() {
        destroyNeverUsedUnderLock(FlushAnnotation.ALWAYS);
        assertThat(reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);
    }

    @Test
    void destroyOfANeverUsedQueueUnderALockIsSilentUnderSkipNeverUsed() {
        destroyNeverUsedUnderLock(FlushAnnotation.SKIP_NEVER_USED);
        assertThat(reports).isEmpty();
    }

    @Test
    void destroyOfANeverUsedQueueUnderALockIsSilentUnderDeferUntilUsed() {
        destroyNeverUsedUnderLock(FlushAnnotation.DEFER_UNTIL_USED);
        assertThat(reports).isEmpty();
        assertThat(lockdep.stats().latentDropped()).as("one distinct held stack, dropped with the unused queue").isEqualTo(1);
    }

    @Test
    void deferUntilUsedIsTheDefault() {
        lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).validator(lockdep).build());
        ValidatedLock m = mutex("M");
        WorkQueue q = rt.queueBuilder("never").build();
        m.lock();
        try {
            q.flush();
        } finally {
            m.unlock();
        }
        q.destroy();
        assertThat(lockdep.stats().latentDropped()).as("the flush under M was kept latent, then dropped").isEqualTo(1);
    }

    /**
     * A latent wait that closes a cycle when its queue is first used is reported with the
     * original flush's thread and stack, marked deferred, and not thrown even under THROW: the
     * queue call that made the queue used returns normally.
     */
    @Test
    void aDeferredReportCarriesTheOriginalFlushAndIsNeverThrown() {
        runtime(ReportPolicy.THROW, FlushAnnotation.DEFER_UNTIL_USED);
        LockClassKey shared = new LockClassKey("(wq_completion)dio/%s");
        ValidatedLock m = mutex("M");
        WorkQueue used = rt.queueBuilder("dio/sda").lockClass(shared).build();
        used.queue(new Work("takes-m", taking(m)));
        used.flush();                       // D -> M
        WorkQueue late = rt.queueBuilder("dio/sdb").lockClass(shared).build();
        m.lock();
        try {
            late.flush();                   // M -> D kept latent: sdb was never used
        } finally {
            m.unlock();
        }
        assertThat(reports).isEmpty();

        assertThat(late.queue(new Work("first", () -> { }))).isTrue(); // first use: M -> D added, closes D -> M
        late.flush();
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.deferred()).isTrue();
            assertThat(r.threadName()).isEqualTo(Thread.currentThread().getName());
            assertThat(r.text()).contains("deferred").contains("aDeferredReportCarriesTheOriginalFlushAndIsNeverThrown");
        });
        assertThat(lockdep.stats().latentAdded()).isEqualTo(1);
    }

    /** Two queues share a class; the used one learns Q -> M, the never-used one is destroyed under M. */
    private void destroyNeverUsedUnderLock(FlushAnnotation annotation) {
        runtime(ReportPolicy.WARN, annotation);
        LockClassKey shared = new LockClassKey("(wq_completion)dio/%s");
        ValidatedLock m = mutex("M");
        WorkQueue used = rt.queueBuilder("dio/sda").lockClass(shared).build();
        used.queue(new Work("takes-m", taking(m)));
        used.flush();
        WorkQueue neverUsed = rt.queueBuilder("dio/sdb").lockClass(shared).build();
        m.lock();
        try {
            neverUsed.destroy();
        } finally {
            m.unlock();
        }
        assertThat(used.wasUsed()).isTrue();
        assertThat(neverUsed.wasUsed()).isFalse();
    }

    @Test
    void realDeadlocksAreStillReportedUnderSkipNeverUsed() {
        WorkQueue q = runtime(ReportPolicy.THROW, FlushAnnotation.SKIP_NEVER_USED).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        m.lock();
        try {
            assertThatThrownBy(q::flush).isInstanceOf(PotentialDeadlockException.class)
                    .hasMessageContaining("circular");
        } finally {
            m.unlock();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void eachQueueHasAClassOfItsOwnByDefault(FlushAnnotation annotation) {
        runtime(ReportPolicy.WARN, annotation);
        ValidatedLock m = mutex("M");
        WorkQueue a = rt.queueBuilder("dio/sda").build();
        a.queue(new Work("takes-m", taking(m)));
        a.flush();
        WorkQueue b = rt.queueBuilder("dio/sdb").build();
        m.lock();
        try {
            b.destroy(); // M -> (wq_completion)dio/sdb: a different class, no cycle
        } finally {
            m.unlock();
        }
        assertThat(reports).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void theWorkerHoldsTheQueueMapThenTheWorkMapAroundTheFunction(FlushAnnotation annotation) {
        runtime(ReportPolicy.WARN, annotation);
        WorkQueue q = rt.queueBuilder("held").build();
        boolean[] held = new boolean[2];
        Work[] self = new Work[1];
        self[0] = new Work("inspects", () -> {
            held[0] = lockdep.isHeld(self[0].lockMap());
            held[1] = Work.current() == self[0];
        });
        q.queue(self[0]);
        q.flush();
        assertThat(held).containsExactly(true, true);
    }
}
