package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * Break6, defect: a wait given no time to wait cannot block, so it cannot deadlock, yet it is
 * recorded as a blocking acquisition and reported (under THROW, thrown) as a circular deadlock.
 * One row per API: {@code ValidatedLock.tryLock(0, unit)} (JDK contract: "if the time is less
 * than or equal to zero, the method will not wait at all"), {@code WorkQueue.flush(Duration.ZERO)},
 * {@code Work.flush(Duration.ZERO)}, {@code WorkQueue.drain(Duration.ZERO)},
 * {@code Work.cancelSync(Duration.ZERO)} of a running item, and an executor view's
 * {@code Future.get(0, unit)} (README: "Not recorded: ... a timed get with no time to wait";
 * the view's {@code awaitTermination} and {@code flushAsync()}'s future do check {@code > 0}).
 *
 * <p>Kernel: the only non-waiting acquisition is a trylock, which validate_chain skips ("trylock
 * can be done in any order": no dependency, no report); there is no zero-time flush or
 * cancel_work_sync. The project's own rule for its futures agrees ("Not recorded: ... a timed
 * {@code get} with no time to wait", README; {@code WaitRecordingFuture.get}: "no time to wait:
 * no wait to record"), and SPEC §5 asks for "no false positive on code that cannot deadlock".
 * Ours: every row reports "possible circular locking dependency" (the {@code ValidatedLock}
 * javadoc: "tryLock(long, TimeUnit) can wait and is validated like lock()"). Why it matters: a
 * poll ("finished yet?") under a lock is correct code, and THROW turns it into an exception,
 * WARN_ONCE into lockdep being switched off.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break6LdZeroTimeoutWaitsTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;

    private void runtime() {
        lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(FlushAnnotation.ALWAYS).build());
    }

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    private static void onThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r);
        t.start();
        t.join();
    }

    @Test
    void zeroTimeoutTryLockInReverseOrder() throws Exception {
        runtime();
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), lockdep);
        ValidatedLock b = new ValidatedLock("B", new LockClassKey("B"), lockdep);
        onThread(() -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });
        onThread(() -> {
            a.lock();
            try {
                if (b.tryLock(0, TimeUnit.MILLISECONDS)) {
                    b.unlock();
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            } finally {
                a.unlock();
            }
        });
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void zeroTimeoutQueueFlushUnderALockTheItemTakes() throws Exception {
        runtime();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        WorkQueue q = rt.queueBuilder("q").build();
        q.queue(new Work("takes-m", () -> { m.lock(); m.unlock(); }));
        q.flush();
        m.lock();
        try {
            q.flush(Duration.ZERO);
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void zeroTimeoutWorkFlushUnderALockTheItemTakes() throws Exception {
        runtime();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        WorkQueue q = rt.queueBuilder("q").build();
        Work w = new Work("takes-m", () -> { m.lock(); m.unlock(); });
        q.queue(w);
        w.flush();
        q.queue(w);
        m.lock();
        try {
            w.flush(Duration.ZERO);
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void zeroTimeoutDrainUnderALockTheItemTakes() throws Exception {
        runtime();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        WorkQueue q = rt.queueBuilder("q").build();
        q.queue(new Work("takes-m", () -> { m.lock(); m.unlock(); }));
        q.flush();
        m.lock();
        try {
            q.drain(Duration.ZERO);
        } finally {
            m.unlock();
        }
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void zeroTimeoutCancelSyncOfRunningItemUnderALockItTakes() throws Exception {
        runtime();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        WorkQueue q = rt.queueBuilder("q").build();
        LockClassKey k = new LockClassKey("W");
        Work first = new Work("first", k, () -> { m.lock(); m.unlock(); });
        q.queue(first);
        first.flush();                         // W -> M learnt
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        Work w = new Work("w", k, () -> {
            started.countDown();
            WorkQueueCoreTest.await(go);
            m.lock();
            m.unlock();
        });
        q.queue(w);
        WorkQueueCoreTest.await(started);      // w runs, waiting for go
        m.lock();
        try {
            w.cancelSync(Duration.ZERO);       // no time to wait: returns at once
        } finally {
            m.unlock();
            go.countDown();
        }
        w.flush();
        assertThat(reports).as("%s", reports).isEmpty();
    }

    /** README (Break4LdExecutorViewWaitsTest row): "Not recorded: ... a timed get with no time to wait". */
    @Test
    void zeroTimeoutGetOfAnExecutorViewTaskUnderALockTheTaskTakes() throws Exception {
        runtime();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        WorkQueue q = rt.queueBuilder("ord").ordered().build();
        java.util.concurrent.ExecutorService es = q.asExecutorService();
        Runnable takesM = () -> { m.lock(); m.unlock(); };
        es.submit(takesM).get();               // the task's class -> M learnt
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        java.util.concurrent.Future<?> f = es.submit(takesM);
        boolean timedOut = false;
        m.lock();
        try {
            f.get(0, TimeUnit.MILLISECONDS);   // not done, no time to wait: TimeoutException at once
        } catch (java.util.concurrent.TimeoutException e) {
            timedOut = true;
        } finally {
            m.unlock();
            release.countDown();
        }
        f.get();
        assertThat(timedOut).isTrue();
        assertThat(reports).as("%s", reports).isEmpty();
    }
}
