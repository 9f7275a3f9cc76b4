package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * A memReclaim() queue whose items run on its rescuer (no worker can be created): the rescuer is
 * one thread, so an engine node's dependent action that blocks there holds back every sibling.
 * README: work.flush() touches "the queue's map too when the queue's current maxActive is 1 or it
 * has a rescuer"; "a sibling work.flush() on a maxActive(1) queue touches only the queue's map (a
 * barrier holds no active slot and blocks no sibling)" — on the rescuer a barrier does block.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3RescuerStepTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> workErrors = new CopyOnWriteArrayList<>();
    private final AtomicBoolean failing = new AtomicBoolean();
    private WorkQueues rt;
    private Lockdep lockdep;

    private WorkQueue reclaimQueue(ReportPolicy p) {
        lockdep = Lockdep.builder().policy(p).quiet().listener(reports::add).build();
        ThreadFactory base = Executors.defaultThreadFactory();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> workErrors.add(e))
                .threadFactory(r -> {
                    if (failing.get()) {
                        throw new OutOfMemoryError("unable to create native thread: possibly out of memory");
                    }
                    return base.newThread(r);
                }).build());
        WorkQueue q = rt.queueBuilder("reclaim").memReclaim().build();
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

    private static void await(CountDownLatch c) {
        try {
            assertThat(c.await(30, TimeUnit.SECONDS)).as("latch").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A work.flushAsync() dependent action takes L on the rescuer (a barrier's action holds the
     * step map); later, holding L, a thread flushes a sibling item w of that queue, pending behind
     * another item. On the rescuer (one thread) a barrier whose action waits for L holds back w
     * (shown by hand: a sibling does not run while a barrier's action blocks there), so this flush
     * under L can deadlock exactly as a queue flush under L can, and must be predicted before
     * blocking under THROW (README: "a flushAsync() future's dependent action that runs on the
     * worker and takes a lock is predicted against a queue flush under that lock"; "work.flush()
     * touches ... the queue's map too when ... it has a rescuer").
     *
     * <p>Fails: no PotentialDeadlockException; the flush waits (here it returns once the helper
     * releases the item ahead of w). A sibling work.flush() touches only the queue's map, never the
     * step map, also on a queue with a rescuer, where the barrier does block siblings.
     */
    @Test
    void aSiblingFlushUnderALockABarriersActionTakesOnTheRescuerIsPredicted() throws Exception {
        siblingFlushPredicted(true);
    }

    private void siblingFlushPredicted(boolean barrier) throws Exception {
        WorkQueue q = reclaimQueue(ReportPolicy.THROW);
        ValidatedLock l = new ValidatedLock("L", new LockClassKey("L"), lockdep);
        // learn: a barrier's action takes L, on the rescuer
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<String> actionOn = new AtomicReference<>();
        Work x = new Work("x", new LockClassKey("x"), () -> {
            started.countDown();
            await(release);
        });
        assertThat(q.queue(x)).isTrue();
        await(started);
        CompletableFuture<Void> f = (barrier ? x.flushAsync() : q.flushAsync()).thenRun(() -> {
            actionOn.set(Thread.currentThread().getName());
            l.lock();
            l.unlock();
        });
        release.countDown();
        f.get(30, TimeUnit.SECONDS);
        assertThat(actionOn.get()).contains("kworker/R-reclaim");
        assertThat(reports).isEmpty();
        // w pending behind b on the rescuer; a helper releases b once this thread waits
        CountDownLatch bStarted = new CountDownLatch(1);
        CountDownLatch bRelease = new CountDownLatch(1);
        Work b = new Work("b", new LockClassKey("b"), () -> {
            bStarted.countDown();
            await(bRelease);
        });
        Work w = new Work("w", new LockClassKey("w"), () -> { });
        assertThat(q.queue(b)).isTrue();
        await(bStarted);
        assertThat(q.queue(w)).isTrue();
        Thread me = Thread.currentThread();
        Thread helper = new Thread(() -> {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (me.getState() != Thread.State.WAITING && me.getState() != Thread.State.TIMED_WAITING
                    && System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            bRelease.countDown();
        }, "helper");
        Throwable thrown = null;
        l.lock();
        try {
            helper.start();
            w.flush();
        } catch (PotentialDeadlockException e) {
            thrown = e;
        } finally {
            l.unlock();
            bRelease.countDown();
        }
        helper.join(30_000);
        assertThat(thrown).as("the sibling flush under L is predicted (reports %s)", reports)
                .isInstanceOf(PotentialDeadlockException.class);
    }

    /**
     * A work.flushAsync() dependent action, run by the rescuer, that flushes a sibling item of the
     * same queue: the rescuer (the only thread) is the one that would run the sibling, so the
     * flush waits for itself, like an item on the rescuer flushing a sibling (recorded as
     * recursive locking on the queue's map, which work.flush() touches on a queue with a
     * rescuer). README: "A self-wait ... is recorded first (recursive locking), then refused";
     * under THROW the report is thrown. The flush here is bounded (flush(Duration)) so that an
     * unpredicted self-wait ends.
     *
     * <p>Fails: nothing is reported or thrown; the bounded flush runs out (the sibling cannot
     * run while the action occupies the rescuer), an unbounded flush() would hang the queue.
     */
    @Test
    void aBarriersActionOnTheRescuerFlushingASiblingIsPredicted() throws Exception {
        WorkQueue q = reclaimQueue(ReportPolicy.THROW);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work x = new Work("x", new LockClassKey("x"), () -> {
            started.countDown();
            await(release);
        });
        assertThat(q.queue(x)).isTrue();
        await(started);
        Work w = new Work("w", new LockClassKey("w"), () -> { });
        AtomicReference<Object> outcome = new AtomicReference<>();
        AtomicReference<String> actionOn = new AtomicReference<>();
        CompletableFuture<Void> f = x.flushAsync().thenRun(() -> {
            actionOn.set(Thread.currentThread().getName());
            assertThat(q.queue(w)).isTrue();
            try {
                outcome.set(w.flush(java.time.Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
                outcome.set(e);
            } catch (InterruptedException e) {
                outcome.set(e);
            }
        });
        release.countDown();
        f.get(30, TimeUnit.SECONDS);
        assertThat(actionOn.get()).contains("kworker/R-reclaim");
        assertThat(outcome.get()).as("the self-wait on the rescuer is predicted (reports %s)", reports)
                .isInstanceOfAny(PotentialDeadlockException.class, IllegalStateException.class);
    }
}
