package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * White-box attacks on engine state changed in two steps ("claimed" then "released", or a flag
 * set then its wake-up sent) with an Error able to strike between them: each test fails on the
 * code before its fix.
 */
class EngineReviewAttackTest {
    private static final long BOUND_S = 20;

    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private WqRuntime rt;

    @AfterEach
    void close() {
        TestHooks.install(null);
        if (rt != null) {
            rt.close(Duration.ofSeconds(BOUND_S));
        }
    }

    /** A runtime of 2 CPUs whose monitor never counts a running item as CPU-intensive or asleep (300 s). */
    private WqRuntime runtime(String name, ThreadFactory f) {
        rt = new WqRuntime(name, 2, f, Thread.currentThread().getThreadGroup(), Duration.ofSeconds(300).toNanos(),
                (wq, n, e) -> errors.add(e), Duration.ofSeconds(300).toNanos(), Duration.ofSeconds(300).toNanos(), null,
                LockDependencyValidator.disabled(), FlushAnnotation.SKIP_NEVER_USED, 64);
        return rt;
    }

    private static boolean await(CountDownLatch l) throws InterruptedException {
        return l.await(BOUND_S, TimeUnit.SECONDS);
    }

    /*
     * Rescuer.mayday marked the pwq as on the mayday list and queued it, then counted the mayday
     * (WqStats, made on first use: an allocation) and only then woke the rescuer. An Error in the
     * count left the pwq marked and queued with the rescuer asleep: every later mayday saw the
     * mark and did nothing, so the starved pool's items were never rescued. Before the fix this
     * failed with the item not run after 20 s (the rescuer parked, the pwq marked).
     */
    @Test
    void anErrorCountingAMaydayLosesNoRescue() throws InterruptedException {
        AtomicBoolean starve = new AtomicBoolean();
        CountDownLatch factoryRelease = new CountDownLatch(1);
        WqRuntime r = runtime("mayday-count", run -> {
            if (starve.get()) {
                try {
                    factoryRelease.await(); // no pool worker can be made: the pool stays starved
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new Thread(run);
        });
        try {
            WorkqueueStruct q = r.newQueue(null, "rq", WorkqueueStruct.WQ_MEM_RECLAIM, 1024, null);
            AtomicBoolean inject = new AtomicBoolean(true);
            TestHooks.install((point, subject) -> {
                if (point.equals("rescuer.mayday") && inject.compareAndSet(true, false)) {
                    throw new OutOfMemoryError("injected: no memory to count the mayday");
                }
            });
            starve.set(true);
            CountDownLatch ran = new CountDownLatch(1);
            assertThat(q.queue(0, new TestNode("rescue-me", ran::countDown))).isTrue();
            assertThat(await(ran)).as("the starved pool's item was rescued").isTrue();
            assertThat(inject).as("the Error was injected").isFalse();
        } finally {
            factoryRelease.countDown();
        }
    }

    /*
     * Worker.sleeping (a worker entering a library wait: managedBlock, flush, cancelSync) counted
     * the sleep (sleepDepth, nrRunning) and then called WorkerPool.workerSleeping (now wakeForSleeper), which counts a
     * concurrency-management wake-up (WqStats, an allocation) before it kicks. An Error there
     * went to the item with the sleep still counted and no running() to undo it: the worker's
     * sleepDepth stayed 1 for the rest of its life, so it never counted in nrRunning again (the
     * pool's concurrency management saw a busy per-CPU worker as absent). Before the fix the
     * second item, run by the same worker, read sleepDepth 1 and nrRunning 0.
     */
    @Test
    void anErrorEnteringAManagedWaitLeavesTheWorkerCounted() throws Exception {
        WqRuntime r = runtime("sleep-count", Thread::new);
        WorkqueueStruct q = r.newQueue(null, "cm", 0, 1024, null);
        CountDownLatch aRuns = new CountDownLatch(1);
        CountDownLatch bQueued = new CountDownLatch(1);
        CountDownLatch bRan = new CountDownLatch(1);
        List<Object> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean inject = new AtomicBoolean(true);
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.wakeForSleeper") && inject.compareAndSet(true, false)) {
                throw new OutOfMemoryError("injected: no memory to count the wake-up");
            }
        });
        TestNode a = new TestNode("a", () -> {
            aRuns.countDown();
            try {
                assertThat(bQueued.await(BOUND_S, TimeUnit.SECONDS)).isTrue();
                Blocking.managedBlock(new java.util.concurrent.ForkJoinPool.ManagedBlocker() {
                    @Override
                    public boolean block() {
                        return true;
                    }

                    @Override
                    public boolean isReleasable() {
                        return false;
                    }
                });
                seen.add("a: no Error");
            } catch (OutOfMemoryError expected) {
                seen.add(expected);
            } catch (InterruptedException e) {
                seen.add(e);
            }
        });
        TestNode b = new TestNode("b", () -> {
            Worker w = Worker.current();
            w.pool.lock.lock();
            try {
                seen.add("b: sleepDepth=" + w.sleepDepth + " nrRunning=" + w.pool.nrRunning);
            } finally {
                w.pool.lock.unlock();
            }
            bRan.countDown();
        });
        assertThat(q.queue(0, a)).isTrue();
        assertThat(await(aRuns)).isTrue();
        assertThat(q.queue(0, b)).isTrue(); // waits on CPU 0's worklist: the pool's one running worker is busy
        bQueued.countDown();
        assertThat(await(bRan)).isTrue();
        assertThat(inject).as("the Error was injected (seen: %s)", seen).isFalse();
        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).as("the managed wait failed with the injected Error").isInstanceOf(OutOfMemoryError.class);
        assertThat(seen.get(1)).as("b runs on a worker counted as running, not asleep").isEqualTo("b: sleepDepth=0 nrRunning=1");
    }
}
