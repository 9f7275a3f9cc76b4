package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/** Engine nodes (flush barriers) now run holding their queue's map. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break2EngineNodeMapTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> handled = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;

    private WorkQueues runtime(ReportPolicy policy) {
        lockdep = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> handled.add(e)).build());
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

    /**
     * A work.flushAsync() dependent action takes L on the barrier's worker; later, holding L,
     * a thread flushes another item of that maxActive(1) queue (work.flush() touches the queue's
     * map there: "a sibling flush on a maxActive(1) queue is predicted"). The barrier takes no
     * active slot: while its action is blocked on L, the item runs and the flush returns (shown
     * in the test itself), so the wait cannot deadlock. Yet the barrier, seen "running in the
     * queue", closed the cycle Q -> L -> Q.
     *
     * <p>Fails: a CIRCULAR report (L -> Q from the flush, Q -> L from the barrier's action).
     */
    @Test
    void aBarriersActionTakingALockIsNoSiblingOfAMaxActiveOneQueue() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN).queueBuilder("q1").maxActive(1).build();
        ValidatedLock l = new ValidatedLock("L", new LockClassKey("L"), lockdep);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work x = new Work("x", new LockClassKey("x"), () -> {
            started.countDown();
            await(release);
        });
        assertThat(q.queue(x)).isTrue();
        await(started);
        CountDownLatch actionAboutToLock = new CountDownLatch(1);
        CompletableFuture<Void> f = x.flushAsync().thenRun(() -> {
            actionAboutToLock.countDown();
            l.lock();
            l.unlock();
        });
        Work w = new Work("w", new LockClassKey("w"), () -> { });
        l.lock();
        try {
            release.countDown();
            await(actionAboutToLock); // the barrier's action now waits for L, held here
            assertThat(q.queue(w)).isTrue();
            assertThat(w.flush()).as("w ran while the barrier's action waited for L").isTrue();
        } finally {
            l.unlock();
        }
        f.get(30, TimeUnit.SECONDS);
        assertThat(reports).as("no deadlock was possible: no report").isEmpty();
    }

    /**
     * Queue flushAsync and work.flushAsync actions that take and release locks, under THROW,
     * nobody flushing under them: no report, no leaked-lock report for the engine nodes, and
     * no worker left holding a map.
     */
    @Test
    void asyncFlushActionsTakingLocksLeaveNothingHeld() throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW).queueBuilder("qa").build();
        ValidatedLock l = new ValidatedLock("L", new LockClassKey("L"), lockdep);
        for (int i = 0; i < 200; i++) {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Work x = new Work("x" + i, new LockClassKey("x"), () -> {
                started.countDown();
                await(release);
            });
            q.queue(x);
            await(started);
            CompletableFuture<Void> a = q.flushAsync().thenRun(() -> {
                l.lock();
                l.unlock();
            });
            CompletableFuture<Void> b = x.flushAsync().thenRun(() -> {
                l.lock();
                l.unlock();
            });
            release.countDown();
            a.get(30, TimeUnit.SECONDS);
            b.get(30, TimeUnit.SECONDS);
        }
        q.flush();
        l.lock(); // L is taken under the queue's map, but nobody waits for the queue under L
        try {
            q.queue(new Work("y", new LockClassKey("y"), () -> { }));
        } finally {
            l.unlock();
        }
        q.flush();
        assertThat(reports).isEmpty();
        assertThat(handled).isEmpty();
        assertThat(lockdep.snapshot().threads()).as("no thread holds a lock")
                .allMatch(t -> t.held().isEmpty());
    }
}
