package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
 * freeze() touches only the queue's map ("freeze ... touch only the queue map"; README: "a
 * freeze waits for running items only"): it must then not wait for the engine's nodes (whose
 * dependent actions run under the step map), or a freeze under a lock such an action takes is
 * neither predicted nor safe.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3FreezeStepTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;

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

    private void freezeWhileAnEngineNodesActionBlocks(boolean barrier) throws Exception {
        lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS).build());
        WorkQueue q = rt.queueBuilder("fq").freezable().build();
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
        release.countDown();
        await(inAction);
        Thread fz = new Thread(rt::freeze, "freezer");
        fz.start();
        fz.join(20_000);
        boolean returned = !fz.isAlive();
        actionRelease.countDown();
        f.get(30, TimeUnit.SECONDS);
        fz.join(30_000);
        rt.thaw();
        assertThat(returned).as("freeze() returned while an engine node's action was blocked").isTrue();
    }

    @Test
    void freezeDoesNotWaitForAQueueFlushStepsAction() throws Exception {
        freezeWhileAnEngineNodesActionBlocks(false);
    }

    @Test
    void freezeDoesNotWaitForABarriersAction() throws Exception {
        freezeWhileAnEngineNodesActionBlocks(true);
    }
}
