package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * Workqueue/lockdep scenarios beside the scenario table: each asserts the verdict the kernel's
 * lockdep gives (reference file §3.2, §4) or the rule SPEC §5 / the README chose instead.
 */
class LockdepAttackProbesTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> workErrors = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;

    private WorkQueues runtime(ReportPolicy policy, FlushAnnotation annotation) {
        return runtime(policy, annotation, (q, w, e) -> workErrors.add(e));
    }

    private WorkQueues runtime(ReportPolicy policy, FlushAnnotation annotation, org.workqueue4j.UncaughtWorkHandler h) {
        lockdep = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(annotation)
                .uncaughtWorkHandler(h).build());
        return rt;
    }

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    private ValidatedLock mutex(String name) {
        return new ValidatedLock(name, new LockClassKey(name), lockdep);
    }

    static void await(CountDownLatch l) {
        try {
            assertThat(l.await(30, TimeUnit.SECONDS)).as("latch").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static Runnable taking(ValidatedLock m) {
        return () -> {
            m.lock();
            m.unlock();
        };
    }

    /**
     * SPEC §5: "work.flush() annotates even when the item is idle, as kernels before ~6.9 did".
     * Those kernels' __flush_work did lock_map_acquire/release(&work->lockdep_map) before
     * start_flush_work, whatever the item's state, so also for an item never queued yet.
     * Flushing W under M, then W taking M, is the circular report the README's table promises
     * ("work.flush() of an idle item under a lock the item takes | ... | circular").
     *
     * <p>Fails: no report (Barrier.startFlushWork returns before the touch when the item has no pool yet).
     */
    @org.junit.jupiter.api.Disabled("open, documented: an item never queued belongs to no runtime yet, so its flush has no validator to record on (README, lockdep: what the workqueue annotates)")
    @Test
    void flushOfANeverQueuedItemUnderALockItTakesIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        Work w = new Work("w", taking(m));
        m.lock();
        try {
            assertThat(w.flush()).isFalse(); // idle: nothing waited for
        } finally {
            m.unlock();
        }
        q.queue(w);
        q.flush(); // W -> M now; M -> W from the flush above closes the cycle
        assertThat(reports).as("flush of an idle (never queued) item under M, then the item takes M")
                .singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    /** The same, once the item has been queued and has run (the rule the README table tests): holds. */
    @Test
    void flushOfAnIdleItemThatRanBeforeUnderALockItTakesIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        ValidatedLock other = mutex("other");
        LockClassKey k = new LockClassKey("(work_completion)w");
        Work w = new Work("w", k, () -> {
            other.lock();
            other.unlock();
        });
        q.queue(w);
        q.flush();
        m.lock();
        try {
            w.flush(); // idle: M -> W
        } finally {
            m.unlock();
        }
        Work taker = new Work("w2", k, taking(m));
        q.queue(taker);
        q.flush();
        assertThat(reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    /**
     * Runs {@code action} on a new thread, waits (bounded polling) until that thread blocks or
     * ends, then counts {@code release} down and joins it.
     */
    static void inThreadThenRelease(Runnable action, CountDownLatch release) throws InterruptedException {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                action.run();
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "waiter");
        t.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING
                && t.getState() != Thread.State.TERMINATED && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        release.countDown();
        t.join(30_000);
        assertThat(t.isAlive()).as("waiter ended").isFalse();
        if (failed.get() != null) {
            throw new AssertionError(failed.get());
        }
    }

    /**
     * A lock the uncaught-work handler takes is taken while the worker still holds the queue's
     * map (README: the handler reports the item; a flush waits for it): a flush of the queue
     * under that lock is the circular dependency (it can hang: the flush waits for the handler).
     */
    @Test
    void aLockTakenInTheUncaughtHandlerDependsOnTheQueue() {
        AtomicReference<ValidatedLock> mref = new AtomicReference<>();
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS, (qq, w, e) -> {
            ValidatedLock m = mref.get();
            m.lock();
            m.unlock();
        }).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        mref.set(m);
        q.queue(new Work("thrower", () -> {
            throw new IllegalStateException("boom");
        }));
        q.flush();
        assertThat(reports).isEmpty();
        m.lock();
        try {
            q.flush();
        } finally {
            m.unlock();
        }
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.classes()).contains("M", "(wq_completion)q");
        });
    }

    /**
     * cancel_work_sync of an item that is pending but not running: __cancel_work_sync takes it
     * off the list first, so start_flush_work finds nothing and no map is touched (reference
     * §7). Under M, for an item that takes M: silent. Same for disableSync.
     */
    @Test
    void cancelSyncOfAQueuedNotRunningItemUnderALockItTakesIsSilent() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("ord").ordered().build();
        ValidatedLock m = mutex("M");
        Work w = new Work("w", taking(m));
        q.queue(w);
        q.flush(); // W -> M, (wq)ord -> M
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("blocker", () -> {
            started.countDown();
            await(release);
        }));
        await(started);
        assertThat(q.queue(w)).isTrue(); // pending behind the blocker
        m.lock();
        try {
            assertThat(w.cancelSync()).isTrue();
            assertThat(q.queue(w)).isTrue();
            assertThat(w.disableSync()).isTrue();
            w.enable();
        } finally {
            m.unlock();
        }
        release.countDown();
        q.flush();
        assertThat(reports).isEmpty();
        assertThat(workErrors).isEmpty();
    }

    /**
     * An item of Q1 takes L and, holding it, flushes Q2; an item of Q2 takes L. L -> Q2 and
     * Q2 -> W -> L: circular, naming L and Q2 (the flushing item's own queue is not in the cycle).
     */
    @Test
    void crossQueueFlushUnderALockTheOtherQueuesItemTakes() {
        WorkQueue q1 = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q1").build();
        WorkQueue q2 = rt.queueBuilder("q2").build();
        ValidatedLock l = mutex("L");
        q2.queue(new Work("q2-takes-l", taking(l)));
        q2.flush();
        q1.queue(new Work("q1-flushes-q2", () -> {
            l.lock();
            try {
                q2.flush();
            } finally {
                l.unlock();
            }
        }));
        q1.flush();
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            // as the kernel: Q2 -> (work_completion) -> L, then L -> Q2; the flushing item's queue is not in it
            assertThat(r.classes()).contains("L", "(wq_completion)q2").doesNotContain("(wq_completion)q1");
            assertThat(r.text()).contains("possible circular locking dependency detected");
        });
    }

    /**
     * An item of Q1 flushes W2 queued on an ordered Q2 (the queue's map is touched: max_active
     * 1); later an item of Q2 flushes Q1. Q1 -> Q2 and Q2 -> Q1: circular (a real deadlock:
     * the Q2 item waits for the Q1 item, which waits for W2, queued behind the Q2 item).
     */
    @Test
    void itemOfQ1FlushesAnItemOfOrderedQ2ThenAnItemOfQ2FlushesQ1() {
        WorkQueue q1 = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q1").build();
        WorkQueue q2 = rt.queueBuilder("q2").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q2.queue(new Work("blocker", () -> {
            started.countDown();
            await(release);
        }));
        await(started);
        Work w2 = new Work("w2", () -> { });
        q2.queue(w2);
        CountDownLatch flushing = new CountDownLatch(1);
        AtomicReference<Thread> flusher = new AtomicReference<>();
        q1.queue(new Work("q1-flushes-w2", () -> {
            flusher.set(Thread.currentThread());
            flushing.countDown();
            w2.flush();
        }));
        await(flushing);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (flusher.get().getState() != Thread.State.WAITING && System.nanoTime() < end) {
            Thread.onSpinWait(); // the Q1 item waits for w2, queued behind the blocker
        }
        release.countDown();
        q1.flush();
        q2.flush();
        assertThat(reports).isEmpty();
        q2.queue(new Work("q2-flushes-q1", q1::flush));
        q2.flush();
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.classes()).contains("(wq_completion)q1", "(wq_completion)q2");
        });
    }

    /**
     * setMaxActive(1) on a plain queue: the kernel's start_flush_work reads saved_max_active,
     * which workqueue_set_max_active sets; README: "the queue's *current* maxActive is 1".
     * flush_work(W2) under M while another item of the queue takes M: circular.
     */
    @Test
    void siblingFlushUnderALockAfterSetMaxActiveOneIsCircular() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        q.setMaxActive(1);
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w2 = new Work("w2", () -> {
            started.countDown();
            await(release);
        });
        q.queue(w2);
        await(started);
        inThreadThenRelease(() -> {
            m.lock();
            try {
                w2.flush();
            } finally {
                m.unlock();
            }
        }, release);
        assertThat(reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    /** The converse: maxActive(1) raised to 4 — the queue's map is no longer touched. */
    @Test
    void siblingFlushUnderALockAfterRaisingMaxActiveIsSilent() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").maxActive(1).build();
        q.setMaxActive(4);
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w2 = new Work("w2", () -> {
            started.countDown();
            await(release);
        });
        q.queue(w2);
        await(started);
        inThreadThenRelease(() -> {
            m.lock();
            try {
                w2.flush();
            } finally {
                m.unlock();
            }
        }, release);
        assertThat(reports).isEmpty();
    }

    /**
     * THROW, first sight: under M, queue W (takes M) and flush it. Whichever side comes second
     * (the flush's touch of W, or W's acquisition of M) closes M -> W -> M and throws; nothing
     * hangs, and exactly one report.
     */
    @Test
    void throwPolicyFlushOfAFreshItemThatTakesTheHeldLockNeverHangs() throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        Work w = new Work("w", taking(m));
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            m.lock();
            try {
                q.queue(w);
                w.flush();
            } catch (PotentialDeadlockException expected) {
                // the flusher closed the cycle
            } finally {
                m.unlock();
                done.countDown();
            }
        });
        t.start();
        assertThat(done.await(30, TimeUnit.SECONDS)).as("flusher returned (no deadlock)").isTrue();
        q.flush();
        assertThat(reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    /** The same with a DelayedWork armed for an hour: flush fires it, then waits. */
    @Test
    void throwPolicyFlushOfAnArmedDelayedItemThatTakesTheHeldLockNeverHangs() throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        DelayedWork dw = new DelayedWork("dw", taking(m));
        assertThat(q.queueDelayed(dw, Duration.ofHours(1))).isTrue();
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            m.lock();
            try {
                dw.flush();
            } catch (PotentialDeadlockException expected) {
                // the flusher closed the cycle
            } finally {
                m.unlock();
                done.countDown();
            }
        });
        t.start();
        assertThat(done.await(30, TimeUnit.SECONDS)).as("flusher returned (no deadlock)").isTrue();
        q.flush();
        assertThat(reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    /**
     * DEFER_UNTIL_USED keeps the flusher's held stack (an item of Q1: Q1's map and the item's)
     * as a latent wait on never-used Q2. Q1 is destroyed (its class freed), then Q2 gets its
     * first item: the replay must not fail, and the validator goes on validating (a new ABBA
     * is still reported).
     */
    @Test
    void latentWaitWhoseHeldQueueClassWasFreedReplaysCleanly() {
        WorkQueue q1 = runtime(ReportPolicy.WARN, FlushAnnotation.DEFER_UNTIL_USED).queueBuilder("q1").build();
        WorkQueue q2 = rt.queueBuilder("q2").build();
        q1.queue(new Work("flushes-q2", q2::flush));
        q1.flush();
        q1.destroy();
        q2.queue(new Work("first", () -> { }));
        q2.flush();
        assertThat(reports).isEmpty();
        assertThat(workErrors).isEmpty();
        ValidatedLock a = mutex("A");
        ValidatedLock b = mutex("B");
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();
        b.lock();
        a.lock();
        a.unlock();
        b.unlock();
        assertThat(reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    /**
     * A flushAsync() future's dependent action (no executor) runs on the worker that runs the
     * queue's flush step, a node counted in the queue's in-flight total (AsyncFlushStep: "drains
     * wait for it"), so a later flush of the queue waits for that action. The action taking M
     * while another thread holds M and flushes the queue is a real deadlock. Kernel model
     * (reference §3.2): whatever runs on a worker as part of Q's in-flight work holds Q's map,
     * so Q -> M is known and the flush under M closes M -> Q. README: THROW throws "before it
     * blocks". Here the flush (bounded at 5 s, as a guard) must throw instead of waiting.
     *
     * <p>Failed before: the flush waited until its 5 s bound, no report (the step ran with no map held).
     */
    @Test
    void flushUnderALockThatAFlushAsyncCallbackTakesThrowsBeforeBlocking() throws Exception {
        flushUnderALockThatAnAsyncCallbackTakes((q, a) -> q.flushAsync(), "a flushAsync callback of q");
    }

    /**
     * The same with Work.flushAsync(): its barrier (counted in the queue's in-flight total, as
     * the kernel's wq_barrier) completes the future on the worker and runs the dependent action
     * there; a flush of the queue under M waits for it while it waits for M.
     *
     * <p>Failed before: the flush waited until its 5 s bound, no report (the barrier ran with no map held).
     */
    @Test
    void flushUnderALockThatAWorkFlushAsyncCallbackTakesThrowsBeforeBlocking() throws Exception {
        flushUnderALockThatAnAsyncCallbackTakes((q, a) -> a.flushAsync(), "a Work.flushAsync callback (on q's worker)");
    }

    /**
     * Queues an item that blocks q's worker, chains an action that takes M on the future
     * {@code async} returns, then, holding M while the action waits for it, flushes q (bounded at
     * 5 s as a guard): under THROW the flush must throw before it blocks.
     */
    private void flushUnderALockThatAnAsyncCallbackTakes(
            java.util.function.BiFunction<WorkQueue, Work, java.util.concurrent.CompletableFuture<?>> async,
            String callback) throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work a = new Work("a", () -> {
            started.countDown();
            await(release);
        });
        q.queue(a);
        await(started);
        AtomicReference<Thread> cbThread = new AtomicReference<>();
        CountDownLatch inCallback = new CountDownLatch(1);
        CountDownLatch callbackDone = new CountDownLatch(1);
        async.apply(q, a).thenRun(() -> {
            cbThread.set(Thread.currentThread());
            inCallback.countDown();
            m.lock();
            m.unlock();
            callbackDone.countDown();
        });
        Boolean flushed = null;
        PotentialDeadlockException thrown = null;
        m.lock();
        try {
            release.countDown();
            await(inCallback);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (cbThread.get().getState() != Thread.State.WAITING && System.nanoTime() < end) {
                Thread.onSpinWait(); // the callback is blocked on M
            }
            try {
                flushed = q.flush(Duration.ofSeconds(5));
            } catch (PotentialDeadlockException e) {
                thrown = e;
            }
        } finally {
            m.unlock();
        }
        await(callbackDone);
        assertThat(thrown)
                .as("flush of q under M while " + callback + " waits for M: expected a PotentialDeadlockException"
                        + " before blocking; flush(5 s) returned %s (false = it waited, deadlocked, until the bound)", flushed)
                .isNotNull();
    }

    /**
     * A flushAsync() dependent action that flushes the same queue, on the worker running the
     * queue's flush step: that flush would wait for the step it runs in. README: "operations
     * that would wait for themselves (... flush ... from the item concerned) are refused before
     * they change anything", recorded first as recursive locking. Expected: the action fails
     * (refused or reported), not a hang.
     */
    @Test
    void aFlushAsyncCallbackThatFlushesItsQueueIsRefusedNotHung() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("a", () -> {
            started.countDown();
            await(release);
        }));
        await(started);
        java.util.concurrent.CompletableFuture<Void> after = q.flushAsync().thenRun(() -> q.flush());
        release.countDown();
        boolean ended;
        try {
            after.get(10, TimeUnit.SECONDS);
            ended = true;
        } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class); // refused (no recursive report: the step holds no map)
            ended = true;
        } catch (java.util.concurrent.TimeoutException e) {
            ended = false;
        }
        assertThat(ended).as("the callback's flush of its own queue ended (refused or done) instead of waiting for itself").isTrue();
    }

    /**
     * Work.cancelSync(): "A delayed item's expiry that its queue refused (destroyed, or draining)
     * ends with its report to the uncaught-work handler, delivered by the thread that fired it:
     * this waits for that report too (as the kernel's del_timer_sync waits for a running timer
     * callback)". The kernel annotates exactly that wait: call_timer_fn holds timer->lockdep_map
     * around the callback and timer_delete_sync acquires/releases it. So a handler that takes M
     * while another thread holds M and cancel-syncs the item is a predicted deadlock; under THROW
     * cancelSync must throw before it waits. Bounded here at 5 s as a guard.
     *
     * <p>Failed before: cancelSync(5 s) waited until the bound, no report (the wait for the refused-expiry report was not annotated).
     */
    @Test
    void cancelSyncUnderALockTheRefusedExpiryHandlerTakesThrowsBeforeBlocking() throws Exception {
        AtomicReference<ValidatedLock> mref = new AtomicReference<>();
        AtomicReference<Thread> handlerThread = new AtomicReference<>();
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch handlerDone = new CountDownLatch(1);
        WorkQueue q = runtime(ReportPolicy.THROW, FlushAnnotation.ALWAYS, (qq, w, e) -> {
            if (w != null && w.name().equals("dw")) {
                handlerThread.set(Thread.currentThread());
                inHandler.countDown();
                mref.get().lock();
                mref.get().unlock();
                handlerDone.countDown();
            }
        }).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        mref.set(m);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("blocker", () -> {
            started.countDown();
            await(release);
        }));
        await(started);
        Thread drainer = new Thread(q::drain, "drainer");
        drainer.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (drainer.getState() != Thread.State.WAITING && System.nanoTime() < end) {
            Thread.onSpinWait(); // the drain waits for the blocker: the queue is draining
        }
        DelayedWork dw = new DelayedWork("dw", () -> { });
        Boolean cancelled = null;
        PotentialDeadlockException thrown = null;
        m.lock();
        try {
            assertThat(q.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
            await(inHandler); // the expiry was refused (draining); the timer thread reports it
            end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (handlerThread.get().getState() != Thread.State.WAITING && System.nanoTime() < end) {
                Thread.onSpinWait(); // the handler waits for M
            }
            try {
                cancelled = dw.cancelSync(Duration.ofSeconds(5));
            } catch (PotentialDeadlockException e) {
                thrown = e;
            }
        } finally {
            m.unlock();
            release.countDown();
        }
        await(handlerDone);
        drainer.join(30_000);
        assertThat(thrown)
                .as("cancelSync under M while the refused-expiry report of the item waits for M: expected a"
                        + " PotentialDeadlockException before waiting; cancelSync(5 s) returned %s after waiting until the bound", cancelled)
                .isNotNull();
    }

    /**
     * WorkQueues.freeze() "returns once their running items have finished" and is refused from
     * an item of a freezable queue because "it would wait for itself": a wait on the queue's
     * items, like drain(). SPEC §1: waiting is validated as acquiring a pseudo-lock. Holding M
     * and freezing while a freezable queue's item waits for M is a deadlock (thaw() from another
     * thread ends it here); under THROW, freeze() should throw before it waits. It waits.
     *
     * <p>Failed before: freeze() waited (ended by thaw() after 5 s), no report (freeze touched no map).
     */
    @Test
    void freezeUnderALockAFreezableQueuesRunningItemWaitsForThrowsBeforeBlocking() throws Exception {
        WorkQueue q = runtime(ReportPolicy.THROW, FlushAnnotation.ALWAYS).queueBuilder("fq").freezable().build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush(); // (wq_completion)fq -> M known
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Thread> itemThread = new AtomicReference<>();
        q.queue(new Work("waits-for-m", () -> {
            itemThread.set(Thread.currentThread());
            await(go);
            m.lock();
            m.unlock();
        }));
        AtomicReference<Throwable> freezeFailed = new AtomicReference<>();
        CountDownLatch freezeReturned = new CountDownLatch(1);
        Thread freezer = new Thread(() -> {
            m.lock();
            try {
                locked.countDown();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while ((itemThread.get() == null || itemThread.get().getState() != Thread.State.WAITING
                        || go.getCount() != 0) && System.nanoTime() < end) {
                    if (itemThread.get() != null && go.getCount() != 0) {
                        go.countDown();
                    }
                    Thread.onSpinWait(); // until the item waits for M
                }
                rt.freeze();
            } catch (Throwable e) {
                freezeFailed.set(e);
            } finally {
                m.unlock();
                freezeReturned.countDown();
            }
        }, "freezer");
        freezer.start();
        await(locked);
        boolean returned = freezeReturned.await(5, TimeUnit.SECONDS);
        rt.thaw(); // ends a freeze that waits (README)
        await(freezeReturned);
        assertThat(freezeFailed.get())
                .as("freeze() under M while a running item of a freezable queue waits for M: expected a"
                        + " PotentialDeadlockException before waiting; freeze returned within 5 s: %s", returned)
                .isInstanceOf(PotentialDeadlockException.class);
    }

    /** Per-queue dynamic keys (kernel 5.1+, reference §3.1): two queues of one name are two classes. */
    @Test
    void anItemOfOneQueueFlushingAnotherQueueOfTheSameNameIsSilent() {
        WorkQueue a = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("events").build();
        WorkQueue b = rt.queueBuilder("events").build();
        b.queue(new Work("b-item", () -> { }));
        b.flush();
        a.queue(new Work("a-flushes-b", b::flush));
        a.flush();
        assertThat(reports).isEmpty();
    }

    /** cancel_delayed_work_sync of a running delayed item under a lock it took: the work map is touched (circular). */
    @Test
    void cancelSyncOfARunningDelayedItemUnderALockItTookIsCircular() throws Exception {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Boolean> first = new AtomicReference<>(true);
        DelayedWork dw = new DelayedWork("dw", () -> {
            m.lock();
            m.unlock();
            if (first.getAndSet(false)) {
                return;
            }
            started.countDown();
            await(release);
        });
        q.queueDelayed(dw, Duration.ZERO);
        q.flush(); // DW -> M
        q.queueDelayed(dw, Duration.ZERO);
        await(started);
        inThreadThenRelease(() -> {
            m.lock();
            try {
                dw.cancelSync();
            } finally {
                m.unlock();
            }
        }, release);
        assertThat(reports).singleElement().satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    /** The runtime's close() destroys every queue: under M, with a queue whose item took M, circular (as destroy). */
    @Test
    void runtimeCloseUnderALockAQueuesItemTookIsCircular() {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("q").build();
        ValidatedLock m = mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        m.lock();
        try {
            rt.close();
        } finally {
            m.unlock();
        }
        assertThat(reports).anySatisfy(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.classes()).contains("M", "(wq_completion)q");
        });
    }

    /**
     * flush_work(W2) from W1 on an ordered queue while W2 is idle: start_flush_work finds
     * nothing ("already gone"), so the queue's map is not touched (reference §3.2/§7); only W2's
     * map (SPEC §5), another class: silent. With W2 queued behind W1 it is the AA on the queue.
     */
    @Test
    void siblingFlushOfAnIdleItemOnAnOrderedQueueIsSilent() {
        WorkQueue q = runtime(ReportPolicy.WARN, FlushAnnotation.ALWAYS).queueBuilder("ord").ordered().build();
        Work w2 = new Work("w2", () -> { });
        q.queue(w2);
        q.flush();
        q.queue(new Work("w1", w2::flush));
        q.flush();
        assertThat(reports).isEmpty();
        assertThat(workErrors).isEmpty();
    }

    /**
     * The other side of the refused-expiry annotation: a handler told of an expiry that never
     * runs may cancel-sync, disable-sync or flush that same item (Work.cancelSync: "a call from
     * that handler does not wait for its own report"). It holds the item's timer map while it is
     * told, and those calls touch that map only when they may wait for another thread's report:
     * no recursive report, nothing thrown under THROW.
     */
    @Test
    void aRefusedExpirysHandlerMayCancelSyncAndFlushThatItem() throws Exception {
        List<Throwable> inHandler = new CopyOnWriteArrayList<>();
        CountDownLatch told = new CountDownLatch(1);
        WorkQueue q = runtime(ReportPolicy.THROW, FlushAnnotation.ALWAYS, (qq, w, e) -> {
            if (w instanceof DelayedWork d) {
                try {
                    d.flush();
                    d.cancelSync();
                    d.disableSync();
                    d.enable();
                    assertThat(d.cancelSync(Duration.ofSeconds(5))).isTrue();
                } catch (Throwable t) {
                    inHandler.add(t);
                } finally {
                    told.countDown();
                }
            }
        }).queueBuilder("q").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });
        assertThat(q.queueDelayed(dw, Duration.ofHours(1))).isTrue();
        q.destroy(); // reports the armed item on this thread, its timer map held
        await(told);
        assertThat(inHandler).isEmpty();
        assertThat(reports).isEmpty();
    }
}
