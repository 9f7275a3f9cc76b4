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

/**
 * flushAsync() dependent actions, run on the engine node's worker, that wait for something that
 * cannot wait for them: README "a barrier holds no active slot and blocks no sibling"; a wait
 * that cannot deadlock is neither reported nor refused.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3StepActionWaitsTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> handled = new CopyOnWriteArrayList<>();
    private WorkQueues rt;

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

    private WorkQueues runtime() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> handled.add(e)).build());
        return rt;
    }

    /** Runs {@code action} as a dependent action of a flushAsync of {@code q} (queue step or barrier) on the worker. */
    private CompletableFuture<Void> onStep(WorkQueue q, boolean barrier, Runnable action) throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work x = new Work("x", new LockClassKey("x"), () -> {
            started.countDown();
            await(release);
        });
        assertThat(q.queue(x)).isTrue();
        await(started);
        CompletableFuture<?> base = barrier ? x.flushAsync() : q.flushAsync();
        CompletableFuture<Void> f = base.thenRun(action);
        release.countDown();
        return f;
    }

    private void aStepsActionFlushesASiblingOfAMaxActiveOneQueue(boolean barrier) throws Exception {
        WorkQueue q = runtime().queueBuilder("q1").maxActive(1).build();
        CountDownLatch go = new CountDownLatch(1);
        Work y = new Work("y", new LockClassKey("y"), () -> { });
        boolean[] flushed = new boolean[1];
        CompletableFuture<Void> f = onStep(q, barrier, () -> {
            assertThat(q.queue(y)).isTrue();
            flushed[0] = y.flush();
        });
        f.get(30, TimeUnit.SECONDS);
        assertThat(flushed[0]).as("y ran and the flush saw it").isTrue();
        assertThat(reports).isEmpty();
        assertThat(handled).isEmpty();
    }

    @Test
    void aQueueStepsActionFlushesASiblingOfAMaxActiveOneQueue() throws Exception {
        aStepsActionFlushesASiblingOfAMaxActiveOneQueue(false);
    }

    @Test
    void aBarriersActionFlushesASiblingOfAMaxActiveOneQueue() throws Exception {
        aStepsActionFlushesASiblingOfAMaxActiveOneQueue(true);
    }

    /** An action that cancels-and-waits, or flushes, an item of another queue: no report. */
    @Test
    void aStepsActionWaitsOnAnotherQueue() throws Exception {
        WorkQueues r = runtime();
        WorkQueue q = r.queueBuilder("q1").build();
        WorkQueue q2 = r.queueBuilder("q2").build();
        Work z = new Work("z", new LockClassKey("z"), () -> { });
        CompletableFuture<Void> f = onStep(q, false, () -> {
            q2.queue(z);
            z.flush();
            q2.queue(z);
            z.cancelSync();
            q2.flush();
            q2.drain();
        });
        f.get(30, TimeUnit.SECONDS);
        // and an item of q2 that queues on q (no wait) changes nothing
        q2.queue(new Work("p", new LockClassKey("p"), () -> q.queue(new Work("pp", new LockClassKey("pp"), () -> { }))));
        q2.flush();
        q.flush();
        assertThat(reports).isEmpty();
        assertThat(handled).isEmpty();
    }
}
