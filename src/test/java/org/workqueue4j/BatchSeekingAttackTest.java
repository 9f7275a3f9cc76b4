package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * A worker is counted as seeking (WorkerPool.nrSeeking) only from its wake-up to its first item
 * and from its batch's end until it parks, not between the items of a batch. These tests push
 * lock-free at each point of a batch, with the monitor held (its tick lands inboxes, which would
 * hide a lost wake-up) and a ten-minute idle timeout: a lost wake-up leaves the pushed item in
 * an inbox while every worker parks, and the bounded wait fails after 20 s. (An item's lazily
 * made lock map: internal.LazyLockMapTest.)
 */
class BatchSeekingAttackTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(Duration.ofMinutes(10))
            .cpuIntensiveThreshold(Duration.ofMinutes(10)));
    private final AtomicBoolean holdMonitor = new AtomicBoolean();
    private final CountDownLatch monitorGo = new CountDownLatch(1);

    @AfterEach
    void close() {
        monitorGo.countDown();
        TestHooks.install(null);
        t.close();
    }

    private boolean isRuntimeThread() {
        return t.threads.contains(Thread.currentThread());
    }

    /** Holds the monitor at its next scan (it would land a stranded inbox within a tick). */
    private void holdMonitorAnd(TestHooks.Hook more) {
        TestHooks.install((point, subject) -> {
            if (point.equals("monitor.scan") && holdMonitor.get()) {
                WorkQueueCoreTest.await(monitorGo);
                return;
            }
            more.at(point, subject);
        });
        holdMonitor.set(true);
    }

    private static void awaitRan(CountDownLatch l, String what) throws InterruptedException {
        assertThat(l.await(20, TimeUnit.SECONDS)).as(what + " (left: " + l.getCount() + ")").isTrue();
    }

    /** Starts a producer that queues {@code w} and returns once it is done or blocked (waiting for the pool lock). */
    private static Thread pushFrom(String name, WorkQueue q, int cpu, Work w) {
        return TestRuntime.startAndAwaitParked(name, () -> {
            if (cpu < 0) {
                q.queue(w);
            } else {
                q.queueOn(cpu, w);
            }
        });
    }

    /**
     * A chain of items, each of which pushes the next from its own worker and a side item from
     * another thread (joined) while the batch is under way: every one must run.
     */
    private void chainRuns(WorkQueue q, int cpu) throws InterruptedException {
        int n = 16;
        CountDownLatch ran = new CountDownLatch(2 * n - 1);
        List<Work> chain = new ArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            chain.add(new Work("chain-" + i, () -> {
                ran.countDown();
                if (k + 1 < n) {
                    Work side = new Work("side-" + k, ran::countDown);
                    Thread p = new Thread(() -> {
                        try {
                            if (cpu < 0) {
                                q.queue(side);
                            } else {
                                q.queueOn(cpu, side);
                            }
                        } catch (Throwable e) {
                            failed.set(e);
                        }
                    }, "side-producer");
                    p.start();
                    try {
                        p.join(20_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    Work next = chain.get(k + 1);
                    if (cpu < 0) {
                        q.queue(next);
                    } else {
                        q.queueOn(cpu, next);
                    }
                }
            }));
        }
        holdMonitorAnd((point, subject) -> { });
        if (cpu < 0) {
            q.queue(chain.get(0));
        } else {
            q.queueOn(cpu, chain.get(0));
        }
        awaitRan(ran, "every item of the chain and every side item ran with the monitor held");
        assertThat(failed.get()).isNull();
        assertThat(t.errors).isEmpty();
    }

    @Test
    @DisplayName("unbound: items pushed during every item of a batch, by the worker and by another thread, all run")
    void unboundChain() throws InterruptedException {
        chainRuns(t.queue("seek-unbound").unbound().build(), -1);
    }

    @Test
    @DisplayName("per-CPU: items pushed during every item of a batch all run")
    void perCpuChain() throws InterruptedException {
        chainRuns(t.queue("seek-percpu").build(), 0);
    }

    @Test
    @DisplayName("ordered: items pushed during every item of a batch all run, in the ordered queue's one slot")
    void orderedChain() throws InterruptedException {
        chainRuns(t.queue("seek-ordered").ordered().build(), -1);
    }

    @Test
    @DisplayName("max_active 1 per-CPU: items pushed during every item of a batch all run")
    void maxActiveChain() throws InterruptedException {
        chainRuns(t.queue("seek-maxactive").maxActive(1).build(), 1);
    }

    /**
     * The batch's end: the worker holds the pool lock and is not seeking yet (the
     * "worker.batchEnd" point, just before seek(true)). A producer pushes then: on an unbound
     * pool it finds no one seeking and waits for the lock to kick; on a per-CPU pool the worker
     * still counts as running, so the producer returns at once and the worker, seeking from
     * then on, must see the hint before it parks.
     */
    private void pushAtBatchEnd(Function<WorkQueue.Builder, WorkQueue.Builder> kind, int cpu) throws InterruptedException {
        WorkQueue q = kind.apply(t.queue("seek-batch-end")).build();
        CountDownLatch ran = new CountDownLatch(1);
        Work pushed = new Work("pushed-at-batch-end", ran::countDown);
        AtomicBoolean armed = new AtomicBoolean();
        AtomicReference<Thread.State> producerState = new AtomicReference<>();
        holdMonitorAnd((point, subject) -> {
            if (point.equals("worker.batchEnd") && isRuntimeThread() && armed.compareAndSet(true, false)) {
                producerState.set(pushFrom("producer", q, cpu, pushed).getState());
            }
        });
        CountDownLatch first = new CountDownLatch(1);
        Work trigger = new Work("trigger", first::countDown);
        armed.set(true);
        if (cpu < 0) {
            q.queue(trigger);
        } else {
            q.queueOn(cpu, trigger);
        }
        awaitRan(first, "the trigger ran");
        awaitRan(ran, "the item pushed at the batch's end ran with the monitor held");
        assertThat(armed).as("the batch-end hook fired").isFalse();
        assertThat(producerState.get()).isNotNull();
    }

    @Test
    @DisplayName("unbound: an item pushed at a batch's end, before the worker seeks again, runs")
    void unboundPushAtBatchEnd() throws InterruptedException {
        pushAtBatchEnd(WorkQueue.Builder::unbound, -1);
    }

    @Test
    @DisplayName("per-CPU: an item pushed at a batch's end, before the worker seeks again, runs")
    void perCpuPushAtBatchEnd() throws InterruptedException {
        pushAtBatchEnd(b -> b, 0);
    }

    @Test
    @DisplayName("CPU-intensive per-CPU: an item pushed at a batch's end runs")
    void cpuIntensivePushAtBatchEnd() throws InterruptedException {
        pushAtBatchEnd(WorkQueue.Builder::cpuIntensive, 1);
    }

    /**
     * Two workers of one unbound pool: one is mid-batch (blocked inside an item), the other
     * ends its batch; a producer pushes at that end. Every item must run.
     */
    @Test
    @DisplayName("unbound: a push at one worker's batch end while another worker of the pool is mid-batch runs")
    void unboundPushAtBatchEndWhileAnotherWorkerIsMidBatch() throws InterruptedException {
        WorkQueue q = t.queue("seek-two").unbound().build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        q.queue(new Work("mid-batch", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
        CountDownLatch ran = new CountDownLatch(1);
        Work pushed = new Work("pushed", ran::countDown);
        AtomicBoolean armed = new AtomicBoolean(true);
        holdMonitorAnd((point, subject) -> {
            if (point.equals("worker.batchEnd") && isRuntimeThread() && armed.compareAndSet(true, false)) {
                pushFrom("producer", q, -1, pushed);
            }
        });
        CountDownLatch second = new CountDownLatch(1);
        q.queue(new Work("second", second::countDown)); // another worker runs it: the first is busy
        try {
            awaitRan(second, "the second item ran");
            awaitRan(ran, "the item pushed at the second worker's batch end ran");
            assertThat(armed).isFalse();
        } finally {
            release.countDown();
        }
    }

    /**
     * A per-CPU worker blocked inside an item in WorkQueues.managedBlock leaves nr_running: an
     * item pushed to its pool meanwhile must run on another worker (kernel wq_worker_sleeping),
     * with the monitor held.
     */
    @Test
    @DisplayName("per-CPU: an item pushed while the running worker is in managedBlock runs before the block ends")
    void pushWhileManagedBlocked() throws InterruptedException {
        WorkQueue q = t.queue("seek-managed").build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        holdMonitorAnd((point, subject) -> { });
        q.queueOn(0, new Work("blocker", () -> {
            try {
                WorkQueues.managedBlock(new java.util.concurrent.ForkJoinPool.ManagedBlocker() {
                    @Override
                    public boolean block() throws InterruptedException {
                        blocked.countDown();
                        release.await();
                        return true;
                    }

                    @Override
                    public boolean isReleasable() {
                        return release.getCount() == 0;
                    }
                });
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        try {
            WorkQueueCoreTest.await(blocked);
            CountDownLatch ran = new CountDownLatch(3);
            for (int i = 0; i < 3; i++) {
                pushFrom("producer-" + i, q, 0, new Work("pushed-" + i, ran::countDown)).join(20_000);
            }
            awaitRan(ran, "items pushed while the worker is in managedBlock ran");
        } finally {
            release.countDown();
        }
    }
}
