package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * README: "a sibling work.flush() on a maxActive(1) queue touches only the queue's map (a barrier
 * holds no active slot and blocks no sibling)". If an engine node's dependent action (run under
 * the step map) could hold back a sibling item, a work.flush() of that sibling under a lock the
 * action takes would deadlock unpredicted: the sibling must run while the action is blocked.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3SiblingStepTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
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

    private void siblingRunsWhileAnEngineNodesActionBlocks(boolean barrier, int maxActive) throws Exception {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS).build());
        WorkQueue q = maxActive == 0 ? rt.queueBuilder("q").ordered().build()
                : rt.queueBuilder("q").maxActive(maxActive).build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work x = new Work("x", new LockClassKey("x"), () -> {
            started.countDown();
            await(release);
        });
        assertThat(q.queue(x)).isTrue();
        await(started);
        CountDownLatch inAction = new CountDownLatch(1);
        CountDownLatch actionRelease = new CountDownLatch(1);
        CompletableFuture<?> base = barrier ? x.flushAsync() : q.flushAsync();
        CompletableFuture<Void> f = base.thenRun(() -> {
            inAction.countDown();
            await(actionRelease);
        });
        AtomicBoolean wRan = new AtomicBoolean();
        CountDownLatch wDone = new CountDownLatch(1);
        Work w = new Work("w", new LockClassKey("w"), () -> {
            wRan.set(true);
            wDone.countDown();
        });
        assertThat(q.queue(w)).isTrue();
        release.countDown();
        await(inAction);
        boolean ran = wDone.await(20, TimeUnit.SECONDS);
        actionRelease.countDown();
        f.get(30, TimeUnit.SECONDS);
        assertThat(ran).as("the sibling ran while the engine node's action was blocked").isTrue();
    }

    @Test
    void queueStepOnMaxActiveOne() throws Exception {
        siblingRunsWhileAnEngineNodesActionBlocks(false, 1);
    }

    @Test
    void barrierOnMaxActiveOne() throws Exception {
        siblingRunsWhileAnEngineNodesActionBlocks(true, 1);
    }

    @Test
    void queueStepOnAnOrderedQueue() throws Exception {
        siblingRunsWhileAnEngineNodesActionBlocks(false, 0);
    }

    @Test
    void barrierOnAnOrderedQueue() throws Exception {
        siblingRunsWhileAnEngineNodesActionBlocks(true, 0);
    }
}
