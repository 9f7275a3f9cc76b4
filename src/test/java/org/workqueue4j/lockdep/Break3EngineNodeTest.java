package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * README (lockdep): "The engine's own nodes (flush barriers, a queue flush's async steps) run
 * holding the queue's step map ...; a queue's flush, drain and destroy wait for them and touch it
 * too, so a flushAsync() future's dependent action that runs on the worker and takes a lock is
 * predicted against a queue flush under that lock".
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3EngineNodeTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> handled = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;
    private ValidatedLock l;

    private WorkQueues runtime(FlushAnnotation a) {
        lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
        l = new ValidatedLock("L", new LockClassKey("L"), lockdep);
        WorkQueuesConfig.Builder b = WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .uncaughtWorkHandler((q, w, e) -> handled.add(e));
        if (a != null) {
            b.flushAnnotation(a);
        }
        rt = WorkQueues.create(b.build());
        return rt;
    }

    @AfterEach
    void close() {
        if (rt != null) {
            try {
                rt.close();
            } catch (RuntimeException | Error e) {
                // a test may have left a prediction for close() to throw; the runtime still ends
            }
        }
    }

    private static void await(CountDownLatch c) {
        try {
            assertThat(c.await(30, TimeUnit.SECONDS)).as("latch").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs one queue flushAsync (or work.flushAsync) step whose dependent action takes L on the worker. */
    private void learnStepTakesL(WorkQueue q, boolean barrier) throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work x = new Work("x", new LockClassKey("x"), () -> {
            started.countDown();
            await(release);
        });
        assertThat(q.queue(x)).isTrue();
        await(started);
        Thread[] ranOn = new Thread[1];
        CompletableFuture<?> base = barrier ? x.flushAsync() : q.flushAsync();
        CompletableFuture<Void> f = base.thenRun(() -> {
            ranOn[0] = Thread.currentThread();
            l.lock();
            l.unlock();
        });
        release.countDown();
        f.get(30, TimeUnit.SECONDS);
        assertThat(ranOn[0]).as("the action ran on the step's worker").isNotSameAs(Thread.currentThread());
        assertThat(reports).isEmpty();
    }

    private void predicted(FlushAnnotation a, boolean barrier, Consumer<WorkQueue> waitUnderL) throws Exception {
        WorkQueue q = runtime(a).queueBuilder("q").build();
        learnStepTakesL(q, barrier);
        l.lock();
        try {
            assertThatThrownBy(() -> waitUnderL.accept(q)).as("predicted before blocking")
                    .isInstanceOf(PotentialDeadlockException.class);
        } finally {
            l.unlock();
        }
    }

    @Test
    void drainUnderALockAQueueStepsActionTakesIsPredicted() throws Exception {
        predicted(FlushAnnotation.ALWAYS, false, WorkQueue::drain);
    }

    @Test
    void destroyUnderALockAQueueStepsActionTakesIsPredicted() throws Exception {
        predicted(FlushAnnotation.ALWAYS, false, WorkQueue::destroy);
    }

    @Test
    void closeOfTheQueueUnderALockABarriersActionTakesIsPredicted() throws Exception {
        predicted(FlushAnnotation.ALWAYS, true, WorkQueue::close);
    }

    @Test
    void flushUnderALockABarriersActionTakesIsPredictedWithTheDefaultAnnotation() throws Exception {
        predicted(null, true, WorkQueue::flush);
    }

    @Test
    void drainUnderALockAQueueStepsActionTakesIsPredictedWithTheDefaultAnnotation() throws Exception {
        predicted(null, false, WorkQueue::drain);
    }

    @Test
    void runtimeCloseUnderALockAQueueStepsActionTakesIsPredicted() throws Exception {
        WorkQueue q = runtime(FlushAnnotation.ALWAYS).queueBuilder("q").build();
        learnStepTakesL(q, false);
        l.lock();
        try {
            assertThatThrownBy(() -> rt.close()).as("predicted before blocking")
                    .isInstanceOf(PotentialDeadlockException.class);
        } finally {
            l.unlock();
        }
    }

    /**
     * A queue flushAsync() dependent action that runs on the step's worker and flushes that same
     * queue: the step is in the queue's in flight (README: "a queue's flush, drain and destroy
     * wait for them"), so the flush would wait for itself. README: "A self-wait ... is recorded
     * first (recursive locking), then refused with IllegalStateException (under THROW the report
     * is thrown instead)". Whatever it does, the action must end (not hang the worker).
     */
    @Test
    void aQueueStepsActionFlushingItsOwnQueueEnds() throws Exception {
        WorkQueue q = runtime(FlushAnnotation.ALWAYS).queueBuilder("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertThat(q.queue(new Work("x", new LockClassKey("x"), () -> {
            started.countDown();
            await(release);
        }))).isTrue();
        await(started);
        CompletableFuture<Void> f = q.flushAsync().thenRun(q::flush);
        release.countDown();
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            // refused: fine
        }
        assertThat(f).isDone();
    }
}
