package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;
import org.workqueue4j.lockdep.ValidatedReadWriteLock;

/**
 * Break6: workqueue pseudo-lock scenarios against kernel/workqueue.c's annotations; all held.
 * Kernel verdicts: a different item of the same work class closes M -&gt; W -&gt; M (circular);
 * flush_work of an item queued behind a blocker on an ordered queue under a lock an earlier
 * item took (saved_max_active == 1: M -&gt; Q, circular); recursive reader R around a queue flush
 * whose item takes R for write (Q -(EN)-&gt; R -(SN)-&gt; Q is strong: circular) or for a
 * recursive read (Q -(ER)-&gt; R -(SN)-&gt; Q is not strong: silent); a writer around the flush
 * against an item's recursive read (circular); an item that only trylocks M (no dependency:
 * silent); two queues sharing a lock class, one's item flushing the other (recursive);
 * check_flush_dependency: memReclaim item draining or destroying a !memReclaim queue warns,
 * cancel-syncing a !memReclaim item does not (from_cancel), flushing a memReclaim queue does
 * not; flush_delayed_work of an armed item under a lock it takes (timer fired, then
 * flush_work: circular, thrown under THROW); cancel_delayed_work_sync of an armed item under
 * that lock (no wait: silent); a self-flush after a self-requeue (recursive on the work map,
 * then refused); two items flushing each other (W1 -&gt; W2 -&gt; W1, SPEC §5 touches idle
 * items); cancel_work_sync of a running sibling of the same class (circular); deferred
 * (DEFER_UNTIL_USED) waits keep the held modes (R vs R silent, R vs W circular, a trylocked
 * holder circular) as ALWAYS does; M -&gt; Q2 -&gt; W2 -&gt; Q1 -&gt; W1 -&gt; M through two queues
 * (thrown, chain from (wq_completion)q2 to M); a report thrown in a worker lists the worker's
 * (wq_completion) and (work_completion) holds; flush_work on a memReclaim queue under a lock
 * another item took (circular: wq->rescuer) against cancel_work_sync there (silent:
 * from_cancel); an ordered item cancel-syncing a pending later sibling (dequeued, no wait:
 * silent); a non-recursive reader around a flush whose item reads (circular); a flush under
 * M/1 whose item takes M/0 (different classes: silent).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break6LdWqScenariosTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<String> wqReports = new CopyOnWriteArrayList<>();
    private final List<Throwable> workErrors = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;

    private WorkQueues runtime(ReportPolicy policy) {
        lockdep = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(FlushAnnotation.ALWAYS)
                .reportListener(wqReports::add)
                .uncaughtWorkHandler((q, w, e) -> workErrors.add(e)).build());
        return rt;
    }

    @AfterEach
    void close() {
        org.workqueue4j.internal.TestHooks.install(null);
        if (rt != null) {
            rt.close();
        }
    }

    /**
     * Opens {@code release} once a flush or cancel-and-wait has linked its barrier behind the
     * running item, so the wait under test has begun (a wait that never begins hangs the test
     * instead of passing it by a race).
     */
    private static void releaseOnceLinked(CountDownLatch release) {
        org.workqueue4j.internal.TestHooks.install((point, subject) -> {
            if (point.equals("flush.barrierLinked")) {
                release.countDown();
            }
        });
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

    @Test
    void differentItemOfSameClassClosesCycle() {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        LockClassKey k = new LockClassKey("shared_work");
        Work w1 = new Work("w1", k, taking(m));
        Work w2 = new Work("w2", k, () -> { });
        q.queue(w1);
        w1.flush();
        q.queue(w2);
        m.lock();
        try {
            w2.flush();
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    void orderedQueueFlushOfItemUnderLockAnEarlierSiblingTakes() {
        WorkQueue q = runtime(ReportPolicy.THROW).queueBuilder("ord").ordered().build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        Work w2 = new Work("w2", () -> { });
        q.queue(w2);
        Throwable thrown = null;
        m.lock();
        try {
            w2.flush();
        } catch (Throwable e) {
            thrown = e;
        } finally {
            m.unlock();
            release.countDown();
        }
        q.flush();
        assertThat(thrown).as("%s", reports).isInstanceOf(org.workqueue4j.lockdep.PotentialDeadlockException.class);
    }

    @Test
    void recursiveReaderFlushingQueueWhoseItemTakesWriteIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), lockdep).recursiveReaders(true).build();
        q.queue(new Work("takes-w", () -> { rw.writeLock().lock(); rw.writeLock().unlock(); }));
        q.flush();
        rw.readLock().lock();
        try {
            q.flush();
        } finally {
            rw.readLock().unlock();
        }
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    void recursiveReaderFlushingQueueWhoseItemTakesRecursiveReadIsSilent() {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), lockdep).recursiveReaders(true).build();
        q.queue(new Work("takes-r", () -> { rw.readLock().lock(); rw.readLock().unlock(); }));
        q.flush();
        rw.readLock().lock();
        try {
            q.flush();
        } finally {
            rw.readLock().unlock();
        }
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void writerFlushingQueueWhoseItemTakesRecursiveReadIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), lockdep).recursiveReaders(true).build();
        q.queue(new Work("takes-r", () -> { rw.readLock().lock(); rw.readLock().unlock(); }));
        q.flush();
        rw.writeLock().lock();
        try {
            q.flush();
        } finally {
            rw.writeLock().unlock();
        }
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    void itemTrylockOnlyThenFlushUnderThatLockIsSilent() {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("try-m", () -> { if (m.tryLock()) { m.unlock(); } }));
        q.flush();
        m.lock();
        try {
            q.flush();
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void itemsOfTwoQueuesSharingAClassFlushingEachOtherIsRecursive() {
        runtime(ReportPolicy.WARN);
        LockClassKey k = new LockClassKey("dio");
        WorkQueue q1 = rt.queueBuilder("dio/a").lockClass(k).build();
        WorkQueue q2 = rt.queueBuilder("dio/b").lockClass(k).build();
        q2.queue(new Work("noop", () -> { }));
        q2.flush();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Throwable> err = new AtomicReference<>();
        q1.queue(new Work("flush-q2", () -> {
            try {
                q2.flush();
            } catch (Throwable e) {
                err.set(e);
            } finally {
                done.countDown();
            }
        }));
        WorkQueueCoreTest.await(done);
        assertThat(reports).as("%s / %s", reports, err.get()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE));
    }

    @Test
    void memReclaimItemCancelSyncOfPlainItemDoesNotWarn() throws Exception {
        runtime(ReportPolicy.WARN);
        WorkQueue reclaim = rt.queueBuilder("reclaim").memReclaim().build();
        WorkQueue plain = rt.queueBuilder("plain").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work target = new Work("target", () -> { started.countDown(); WorkQueueCoreTest.await(release); });
        plain.queue(target);
        WorkQueueCoreTest.await(started);
        Work canceller = new Work("canceller", () -> {
            releaseOnceLinked(release);
            target.cancelSync();
        });
        reclaim.queue(canceller);
        assertThat(canceller.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(wqReports).as("%s", wqReports).noneMatch(s -> s.contains("is flushing !WQ_MEM_RECLAIM"));
    }

    @Test
    void memReclaimItemDrainOfPlainQueueWarns() throws Exception {
        runtime(ReportPolicy.WARN);
        WorkQueue reclaim = rt.queueBuilder("reclaim").memReclaim().build();
        WorkQueue plain = rt.queueBuilder("plain").build();
        plain.queue(new Work("x", () -> { }));
        Work drainer = new Work("drainer", plain::drain);
        reclaim.queue(drainer);
        assertThat(drainer.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(wqReports).as("%s", wqReports).anyMatch(s -> s.contains("is flushing !WQ_MEM_RECLAIM"));
    }

    @Test
    void memReclaimItemDestroyOfPlainQueueWarns() throws Exception {
        runtime(ReportPolicy.WARN);
        WorkQueue reclaim = rt.queueBuilder("reclaim").memReclaim().build();
        WorkQueue plain = rt.queueBuilder("plain").build();
        plain.queue(new Work("x", () -> { }));
        Work d = new Work("destroyer", plain::destroy);
        reclaim.queue(d);
        assertThat(d.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(wqReports).as("%s", wqReports).anyMatch(s -> s.contains("is flushing !WQ_MEM_RECLAIM"));
    }

    @Test
    void memReclaimItemFlushOfReclaimQueueDoesNotWarn() throws Exception {
        runtime(ReportPolicy.WARN);
        WorkQueue reclaim = rt.queueBuilder("reclaim").memReclaim().build();
        WorkQueue other = rt.queueBuilder("other").memReclaim().build();
        other.queue(new Work("x", () -> { }));
        Work d = new Work("flusher", other::flush);
        reclaim.queue(d);
        assertThat(d.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(wqReports).as("%s", wqReports).noneMatch(s -> s.contains("is flushing !WQ_MEM_RECLAIM"));
    }

    @Test
    void flushDelayedWorkOfArmedItemUnderLockItTakesIsCircular() throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        DelayedWork dw = new DelayedWork("dw", taking(m));
        q.queueDelayed(dw, Duration.ZERO);
        dw.flush();
        q.queueDelayed(dw, Duration.ofHours(1));
        Throwable thrown = null;
        m.lock();
        try {
            dw.flush(Duration.ofSeconds(5));
        } catch (Throwable e) {
            thrown = e;
        } finally {
            m.unlock();
        }
        dw.cancelSync();
        assertThat(thrown).as("%s", reports).isInstanceOf(org.workqueue4j.lockdep.PotentialDeadlockException.class);
    }

    @Test
    void cancelDelayedSyncOfArmedItemUnderLockItTakesIsSilent() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        DelayedWork dw = new DelayedWork("dw", taking(m));
        q.queueDelayed(dw, Duration.ZERO);
        dw.flush();
        q.queueDelayed(dw, Duration.ofHours(1));
        m.lock();
        try {
            assertThat(dw.cancelSync()).isTrue();
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).isEmpty();
    }

    /**
     * Kernel: flush_work(W) from W itself after W re-queued itself: touch_work_lockdep_map
     * while W's map is held (process_one_work) is recursive locking; and a real deadlock (the
     * re-queued instance cannot run before the running one returns). README: a self-flush is
     * recorded, then refused with IllegalStateException.
     */
    @Test
    void selfFlushAfterSelfRequeueIsReportedAndRefused() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        AtomicReference<Object> outcome = new AtomicReference<>();
        Work[] self = new Work[1];
        CountDownLatch done = new CountDownLatch(1);
        self[0] = new Work("self", () -> {
            if (outcome.get() != null) {
                return;
            }
            try {
                q.queue(self[0]);
                long t0 = System.nanoTime();
                boolean r = self[0].flush(Duration.ofSeconds(3));
                outcome.set("returned " + r + " after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            } catch (Throwable e) {
                outcome.set(e);
            } finally {
                done.countDown();
            }
        });
        q.queue(self[0]);
        assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(reports).as("%s", reports).anySatisfy(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE));
        assertThat(outcome.get()).as("outcome").isInstanceOf(IllegalStateException.class);
    }

    private WorkQueues runtime(ReportPolicy policy, FlushAnnotation fa) {
        lockdep = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(fa)
                .reportListener(wqReports::add)
                .uncaughtWorkHandler((q, w, e) -> workErrors.add(e)).build());
        return rt;
    }

    @Test
    void twoItemsFlushingEachOtherIsCircular() {
        WorkQueue q1 = runtime(ReportPolicy.WARN).queueBuilder("q1").build();
        WorkQueue q2 = rt.queueBuilder("q2").build();
        Work[] ab = new Work[2];
        ab[0] = new Work("a", () -> ab[1].flush());
        ab[1] = new Work("b", () -> ab[0].flush());
        q2.queue(ab[1]);
        q2.flush();
        reports.clear();
        q1.queue(ab[0]);
        q1.flush();
        q2.queue(ab[1]);
        q2.flush();
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    void cancelSyncOfRunningSiblingOfSameClassUnderLockIsCircular() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        LockClassKey k = new LockClassKey("shared_work");
        Work w1 = new Work("w1", k, taking(m));
        q.queue(w1);
        w1.flush();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w2 = new Work("w2", k, () -> { started.countDown(); WorkQueueCoreTest.await(release); });
        q.queue(w2);
        WorkQueueCoreTest.await(started);
        releaseOnceLinked(release);
        m.lock();
        try {
            w2.cancelSync();
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    void deferredWaitUnderRecursiveReadAgainstItemRecursiveReadIsSilent() {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.DEFER_UNTIL_USED).queueBuilder("q").build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), lockdep).recursiveReaders(true).build();
        rw.readLock().lock();
        try {
            q.flush();
        } finally {
            rw.readLock().unlock();
        }
        q.queue(new Work("takes-r", () -> { rw.readLock().lock(); rw.readLock().unlock(); }));
        q.flush();
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void deferredWaitUnderRecursiveReadAgainstItemWriteIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.DEFER_UNTIL_USED).queueBuilder("q").build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), lockdep).recursiveReaders(true).build();
        rw.readLock().lock();
        try {
            q.flush();
        } finally {
            rw.readLock().unlock();
        }
        q.queue(new Work("takes-w", () -> { rw.writeLock().lock(); rw.writeLock().unlock(); }));
        q.flush();
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    void deferredWaitUnderTrylockedLockIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.DEFER_UNTIL_USED).queueBuilder("q").build();
        ValidatedLock t = mutex("T");
        assertThat(t.tryLock()).isTrue();
        try {
            q.flush();
        } finally {
            t.unlock();
        }
        q.queue(new Work("takes-t", taking(t)));
        q.flush();
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    void alwaysWaitUnderTrylockedLockIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        ValidatedLock t = mutex("T");
        assertThat(t.tryLock()).isTrue();
        try {
            q.flush();
        } finally {
            t.unlock();
        }
        q.queue(new Work("takes-t", taking(t)));
        q.flush();
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }


    @Test
    void workerReportNamesItsHeldPseudoLocks() {
        runtime(ReportPolicy.THROW);
        WorkQueue q1 = rt.queueBuilder("q1").build();
        WorkQueue q2 = rt.queueBuilder("q2").build();
        ValidatedLock m = mutex("M");
        q2.queue(new Work("takes-m", taking(m)));
        q2.flush();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Work w = new Work("m-then-flush-q2", () -> {
            m.lock();
            try {
                q2.flush();
            } catch (Throwable e) {
                thrown.set(e);
            } finally {
                m.unlock();
            }
        });
        q1.queue(w);
        q1.flush();
        assertThat(thrown.get()).isInstanceOfSatisfying(org.workqueue4j.lockdep.PotentialDeadlockException.class, e -> {
            LockdepReport r = e.report();
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.heldLocks()).as(r.text()).hasSize(3);
            assertThat(r.heldLocks().get(0)).contains("(wq_completion)q1");
            assertThat(r.heldLocks().get(1)).contains("(work_completion)");
            assertThat(r.heldLocks().get(2)).contains("(M)");
            assertThat(r.text()).contains("trying to acquire lock:\n ((wq_completion)q2)").contains("already holding lock:\n (M)");
        });
    }

    @Test
    void memReclaimItemFlushOfQueuedPlainItemWarns() throws Exception {
        runtime(ReportPolicy.WARN);
        WorkQueue reclaim = rt.queueBuilder("reclaim").memReclaim().build();
        WorkQueue plain = rt.queueBuilder("plain").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work target = new Work("target", () -> { started.countDown(); WorkQueueCoreTest.await(release); });
        plain.queue(target);
        WorkQueueCoreTest.await(started);
        Work flusher = new Work("flusher", () -> {
            releaseOnceLinked(release);
            target.flush();
        });
        reclaim.queue(flusher);
        assertThat(flusher.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(wqReports).as("%s", wqReports).anyMatch(s -> s.contains("WQ_MEM_RECLAIM reclaim:flusher is flushing !WQ_MEM_RECLAIM plain:target"));
    }

    @Test
    void flushWorkOnRescuerQueueUnderLockAnotherItemTakesIsCircular() throws Exception {
        runtime(ReportPolicy.WARN);
        WorkQueue q = rt.queueBuilder("reclaim").memReclaim().maxActive(4).build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w2 = new Work("w2", () -> { started.countDown(); WorkQueueCoreTest.await(release); });
        q.queue(w2);
        WorkQueueCoreTest.await(started);
        releaseOnceLinked(release);
        m.lock();
        try {
            w2.flush();
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.text()).contains("(wq_completion)reclaim");
        });
    }

    @Test
    void cancelSyncOnRescuerQueueUnderLockAnotherItemTakesIsSilent() throws Exception {
        runtime(ReportPolicy.WARN);
        WorkQueue q = rt.queueBuilder("reclaim").memReclaim().maxActive(4).build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w2 = new Work("w2", () -> { started.countDown(); WorkQueueCoreTest.await(release); });
        q.queue(w2);
        WorkQueueCoreTest.await(started);
        releaseOnceLinked(release);
        m.lock();
        try {
            w2.cancelSync();
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void cycleThroughTwoQueuesIsPredictedWithItsChain() {
        runtime(ReportPolicy.THROW);
        WorkQueue q1 = rt.queueBuilder("q1").build();
        WorkQueue q2 = rt.queueBuilder("q2").build();
        ValidatedLock m = mutex("M");
        q1.queue(new Work("takes-m", taking(m)));
        q1.flush();                                  // Q1 -> W1 -> M
        q2.queue(new Work("flushes-q1", q1::flush));
        q2.flush();                                  // Q2 -> W2 -> Q1
        Throwable thrown = null;
        m.lock();
        try {
            q2.flush();                              // M -> Q2 closes M -> Q2 -> W2 -> Q1 -> W1 -> M
        } catch (Throwable e) {
            thrown = e;
        } finally {
            m.unlock();
        }
        assertThat(thrown).isInstanceOfSatisfying(org.workqueue4j.lockdep.PotentialDeadlockException.class, e -> {
            LockdepReport r = e.report();
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.classes().get(0)).isEqualTo("(wq_completion)q2");
            assertThat(r.classes()).contains("(wq_completion)q1", "M");
            assertThat(r.classes().get(r.classes().size() - 1)).isEqualTo("M");
            assertThat(r.text()).contains("Chain exists of:\n  (wq_completion)q2 --> ").contains(" --> M\n");
        });
    }

    @Test
    void orderedItemCancelSyncOfAPendingLaterSiblingIsSilentAndReturns() throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW).queueBuilder("ord").ordered().build();
        Work w2 = new Work("w2", () -> { });
        AtomicReference<Object> outcome = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        q.queue(new Work("w1", () -> {
            try {
                q.queue(w2);
                outcome.set(w2.cancelSync());   // dequeues the pending w2: nothing to wait for
            } catch (Throwable e) {
                outcome.set(e);
            } finally {
                done.countDown();
            }
        }));
        assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(outcome.get()).isEqualTo(Boolean.TRUE);
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void nonRecursiveReaderFlushingQueueWhoseItemReadsIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), lockdep);
        q.queue(new Work("takes-r", () -> { rw.readLock().lock(); rw.readLock().unlock(); }));
        q.flush();
        rw.readLock().lock();
        try {
            q.flush();    // Q -(EN)-> RW -(SN)-> Q: strong (a queued writer blocks the item's r)
        } finally {
            rw.readLock().unlock();
        }
        assertThat(reports).as("%s", reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    void flushUnderASubclassOfTheItemsLockIsSilent() {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q").build();
        LockClassKey k = new LockClassKey("M");
        ValidatedLock m0 = new ValidatedLock("m0", k, lockdep);
        ValidatedLock m1 = new ValidatedLock("m1", k, lockdep);
        q.queue(new Work("takes-m0", taking(m0)));
        q.flush();
        m1.lockNested(1);
        try {
            q.flush();    // M/1 -> Q; Q -> M/0: different classes
        } finally {
            m1.unlock();
        }
        assertThat(reports).as("%s", reports).isEmpty();
    }
}
