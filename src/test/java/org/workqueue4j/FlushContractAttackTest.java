package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.ManualWorkers;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.internal.WorkqueueStruct;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * Interleavings against the per-item flush contract of {@link DelayedWork} that the barrier
 * hand-over (a barrier whose pending target is taken back moves behind the running instance)
 * does not cover: the flush links nothing because the item is pending on no list, and the
 * pending instance is taken back before the flush looks at the item again. Replayed step by
 * step with {@link ManualWorkers} and test hooks; no timing is involved.
 */
class FlushContractAttackTest {
    private WorkQueue q;
    private WorkqueueStruct wq;

    @BeforeEach
    void setUp() {
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .threadFactory(ManualWorkers.neverStartedThreads())
                .validator(LockDependencyValidator.disabled())
                .build());
        q = rt.queueBuilder("attack").unbound().build();
        wq = q.engine();
    }

    @AfterEach
    void tearDown() {
        TestHooks.install(null);
        // Not closed: its threads never started (see FlushContractTest).
    }

    /** The flush variants under test; each returns once the flush has returned. */
    private enum Variant { SYNC, INTERRUPTIBLY, TIMED, ASYNC }

    @Test
    @DisplayName("DelayedWork.flush(): pending on no list, then cancelled: still waits for the instance running when it began")
    void syncFlushWaitsForRunningInstanceAfterUnlinkedPendingIsCancelled() throws Exception {
        pendingOnNoListThenCancelled(Variant.SYNC);
    }

    @Test
    @DisplayName("DelayedWork.flushInterruptibly(): pending on no list, then cancelled: still waits for the running instance")
    void interruptibleFlushWaitsForRunningInstanceAfterUnlinkedPendingIsCancelled() throws Exception {
        pendingOnNoListThenCancelled(Variant.INTERRUPTIBLY);
    }

    @Test
    @DisplayName("DelayedWork.flush(Duration): pending on no list, then cancelled: still waits for the running instance")
    void timedFlushWaitsForRunningInstanceAfterUnlinkedPendingIsCancelled() throws Exception {
        pendingOnNoListThenCancelled(Variant.TIMED);
    }

    @Test
    @DisplayName("DelayedWork.flushAsync(): pending on no list, then cancelled: completes only after the running instance")
    void asyncFlushWaitsForRunningInstanceAfterUnlinkedPendingIsCancelled() throws Exception {
        pendingOnNoListThenCancelled(Variant.ASYNC);
    }

    /**
     * Instance A of {@code d} runs (on a manual worker, held); instance B is armed, and a second
     * flusher X fires it and is held between the timer and the queue (B pending on no list). The
     * flusher F under test finds nothing armed and links nothing (B pending, on no list). Before
     * F looks at the item again, X lands B and links behind it, and B is cancelled: PENDING is
     * clear, but A, running when F began, still runs. F must not return (or complete) before A
     * has ended.
     */
    private void pendingOnNoListThenCancelled(Variant variant) throws Exception {
        Held h = new Held();
        DelayedWork d = new DelayedWork("d", h::body);
        CountDownLatch xInTransit = new CountDownLatch(1);
        CountDownLatch xGoOn = new CountDownLatch(1);
        CountDownLatch xLinked = new CountDownLatch(1);
        AtomicInteger fNotLinked = new AtomicInteger();
        CountDownLatch fDecided = new CountDownLatch(1);
        AtomicReference<Throwable> hookFailure = new AtomicReference<>();
        TestHooks.install((point, subject) -> {
            String t = Thread.currentThread().getName();
            if (t.equals("X") && point.equals("timer.fire")) {
                xInTransit.countDown();
                FlushContractTest.awaitUninterruptibly(xGoOn); // B off the timer, not yet on its queue
            } else if (t.equals("X") && point.equals("flush.barrierLinked")) {
                xLinked.countDown();
            } else if (t.equals("F") && point.equals("flush.barrierLinked")) {
                fDecided.countDown(); // F waits behind something
            } else if (t.equals("F") && point.equals("delayedFlush.notLinked") && fNotLinked.incrementAndGet() == 1) {
                // F linked nothing (B pending on no list); before it looks at the item again:
                try {
                    xGoOn.countDown();
                    assertThat(xLinked.await(30, TimeUnit.SECONDS)).as("X landed B and linked behind it").isTrue();
                    assertThat(d.cancel()).as("B is taken back").isTrue();
                } catch (Throwable e) {
                    hookFailure.set(e);
                }
            }
        });

        assertThat(q.queue(d)).isTrue();
        Thread runner = h.runA(wq);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).as("B armed while A runs").isTrue();
        Thread x = new Thread(d::flush, "X");
        x.start();
        assertThat(xInTransit.await(30, TimeUnit.SECONDS)).isTrue();

        AtomicInteger completedWhenFlushReturned = new AtomicInteger(-1);
        AtomicReference<CompletableFuture<Boolean>> future = new AtomicReference<>();
        Thread f = new Thread(() -> {
            try {
                switch (variant) {
                    case SYNC -> d.flush();
                    case INTERRUPTIBLY -> d.flushInterruptibly();
                    case TIMED -> d.flush(Duration.ofMinutes(5));
                    case ASYNC -> future.set(d.flushAsync().whenComplete((r, e) -> { }));
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            if (variant != Variant.ASYNC) {
                completedWhenFlushReturned.set(h.completed.get());
            }
            fDecided.countDown();
        }, "F");
        f.start();
        assertThat(fDecided.await(30, TimeUnit.SECONDS)).as("F linked a barrier or returned").isTrue();
        if (variant == Variant.ASYNC) {
            f.join(TimeUnit.SECONDS.toMillis(30));
        }
        if (variant == Variant.ASYNC) {
            assertThat(f.isAlive()).isFalse();
            assertThat(future.get()).as("the future of a flush that began while A ran, A still running").isNotDone();
        } else {
            // With the contract kept F still waits here, behind A.
            assertThat(completedWhenFlushReturned.get()).as("F returned while A, running when it began, still ran")
                    .isEqualTo(-1);
        }
        assertThat(hookFailure.get()).isNull();
        h.release.countDown();
        runner.join(TimeUnit.SECONDS.toMillis(30));
        f.join(TimeUnit.SECONDS.toMillis(30));
        x.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(f.isAlive()).as("F returned once A ended").isFalse();
        assertThat(x.isAlive()).as("X returned once A ended").isFalse();
        if (variant == Variant.ASYNC) {
            assertThat(future.get().get(30, TimeUnit.SECONDS)).isTrue();
        } else {
            assertThat(completedWhenFlushReturned.get()).isEqualTo(1);
        }
        assertThat(h.runs.get()).as("B was cancelled: A alone ran").isEqualTo(1);
    }

    /**
     * A delayed item that re-arms itself and then flushes itself from its own function (sync,
     * interruptible, timed): refused with IllegalStateException, and refused before anything
     * changed (SPEC: self-waits "are refused before they change anything"): the timer it armed
     * stays armed, the item does not run again. Real worker threads: the self-wait check needs
     * the calling thread to be the worker.
     */
    @Test
    @DisplayName("DelayedWork.flush variants from the item's own function leave its armed timer alone")
    void selfFlushOfDelayedWorkIsRefusedBeforeItFiresTheTimer() throws Exception {
        try (TestRuntime t = new TestRuntime(1)) {
            WorkQueue rq = t.rt.queueBuilder("self").build();
            java.util.List<String> broken = new java.util.ArrayList<>();
            for (Variant variant : new Variant[] {Variant.SYNC, Variant.INTERRUPTIBLY, Variant.TIMED}) {
                AtomicInteger runs = new AtomicInteger();
                AtomicReference<Object> outcome = new AtomicReference<>();
                AtomicReference<DelayedWork> self = new AtomicReference<>();
                CountDownLatch firstRunEnded = new CountDownLatch(1);
                DelayedWork d = new DelayedWork("self-" + variant, () -> {
                    if (runs.incrementAndGet() > 1) {
                        return;
                    }
                    DelayedWork me = self.get();
                    try {
                        rq.queueDelayed(me, Duration.ofHours(1)); // armed again
                        outcome.set(switch (variant) {
                            case SYNC -> me.flush();
                            case INTERRUPTIBLY -> me.flushInterruptibly();
                            default -> me.flush(Duration.ofSeconds(30));
                        });
                    } catch (Throwable e) {
                        outcome.set(e);
                    } finally {
                        firstRunEnded.countDown();
                    }
                });
                self.set(d);
                assertThat(rq.queue(d)).isTrue();
                assertThat(firstRunEnded.await(30, TimeUnit.SECONDS)).isTrue();
                rq.flush(); // an instance the refused flush fired would have run by now
                String line = variant + ": outcome=" + outcome.get() + ", runs=" + runs.get()
                        + ", timerArmed=" + d.isTimerArmed();
                if (!(outcome.get() instanceof IllegalStateException) || runs.get() != 1 || !d.isTimerArmed()) {
                    broken.add(line);
                }
                d.cancel();
            }
            assertThat(broken).as("self-flushes that fired the timer before they were refused").isEmpty();
        }
    }

    /**
     * Four flushers of one delayed item at once (sync, interruptible, timed, async): a chain of
     * four barriers linked behind the pending instance B while instance A runs. modDelayed
     * re-arms B: the whole chain moves behind A (no idle worker may run any of it), and after A
     * each flusher fires the timer again and waits for B. None returns (no future completes)
     * before A and B have both run; B runs once.
     */
    @Test
    @DisplayName("A chain of four DelayedWork flushes behind a re-armed instance: all wait for the running one, then for the re-armed one")
    void chainOfFlushersBehindReArmedInstance() throws Exception {
        Held h = new Held();
        DelayedWork d = new DelayedWork("d", h::body);
        CountDownLatch fourLinked = new CountDownLatch(4);
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.barrierLinked")) {
                fourLinked.countDown();
            }
        });
        assertThat(q.queue(d)).isTrue();
        Thread runner = h.runA(wq);
        assertThat(q.queue(d)).as("B queued while A runs").isTrue();

        java.util.Map<Variant, AtomicInteger> completedAtReturn = new java.util.EnumMap<>(Variant.class);
        java.util.List<Thread> flushers = new java.util.ArrayList<>();
        for (Variant v : new Variant[] {Variant.SYNC, Variant.INTERRUPTIBLY, Variant.TIMED}) {
            AtomicInteger at = new AtomicInteger(-1);
            completedAtReturn.put(v, at);
            Thread th = new Thread(() -> {
                try {
                    switch (v) {
                        case SYNC -> d.flush();
                        case INTERRUPTIBLY -> d.flushInterruptibly();
                        default -> assertThat(d.flush(Duration.ofMinutes(5))).isTrue();
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                at.set(h.completed.get());
            }, "flusher-" + v);
            flushers.add(th);
            th.start();
        }
        AtomicInteger atCompletion = new AtomicInteger(-1);
        CompletableFuture<Boolean> f = d.flushAsync().whenComplete((r, e) -> atCompletion.set(h.completed.get()));
        assertThat(fourLinked.await(30, TimeUnit.SECONDS)).as("four barriers linked behind B").isTrue();

        assertThat(q.modDelayed(d, Duration.ofHours(1))).as("B re-armed").isTrue();
        assertThat(ManualWorkers.runOne(wq)).as("an idle worker found one of the chain's barriers while A ran").isFalse();
        assertThat(f).isNotDone();
        h.release.countDown();
        runner.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(runner.isAlive()).isFalse();

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((flushers.stream().anyMatch(Thread::isAlive) || !f.isDone()) && System.nanoTime() < deadline) {
            if (!ManualWorkers.runOne(wq)) {
                Thread.onSpinWait();
            }
        }
        for (Thread th : flushers) {
            th.join(TimeUnit.SECONDS.toMillis(1));
            assertThat(th.isAlive()).as(th.getName() + " returned").isFalse();
        }
        completedAtReturn.forEach((v, at) -> assertThat(at.get()).as(v + ": A and B had run when it returned").isEqualTo(2));
        assertThat(f.get(1, TimeUnit.SECONDS)).isTrue();
        assertThat(atCompletion.get()).as("async: A and B had run when the future completed").isEqualTo(2);
        assertThat(h.runs.get()).isEqualTo(2);
        assertThat(d.isPending()).isFalse();
    }

    /**
     * The pending instance B waits on the inactive list (maxActive(1) with A running, or a frozen
     * queue) with three flushes linked behind it (Work.flush, flushInterruptibly, flushAsync);
     * cancel() takes B back: grab activates it first, and the chain must then move behind A, not
     * stay on the worklist for an idle worker. Every flush ends only after A.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"maxActive1", "frozen"})
    @DisplayName("Flushes behind an inactive instance that is cancelled still wait for the running one")
    void inactiveTargetCancelledWhileOlderRuns(String setup) throws Exception {
        WorkQueue iq = setup.equals("frozen") ? q : q.runtime().queueBuilder("one").unbound().maxActive(1).build();
        WorkqueueStruct iwq = iq.engine();
        Held h = new Held();
        Work w = new Work("w", h::body);
        CountDownLatch threeLinked = new CountDownLatch(3);
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.barrierLinked")) {
                threeLinked.countDown();
            }
        });
        assertThat(iq.queue(w)).isTrue();
        Thread runner = h.runA(iwq);
        if (setup.equals("frozen")) {
            ManualWorkers.freeze(iwq);
        }
        assertThat(iq.queue(w)).as("B queued (inactive) while A runs").isTrue();
        AtomicInteger syncAt = new AtomicInteger(-1);
        AtomicInteger interruptiblyAt = new AtomicInteger(-1);
        Thread f1 = new Thread(() -> {
            w.flush();
            syncAt.set(h.completed.get());
        }, "f1");
        Thread f2 = new Thread(() -> {
            try {
                w.flushInterruptibly();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            interruptiblyAt.set(h.completed.get());
        }, "f2");
        f1.start();
        f2.start();
        AtomicInteger asyncAt = new AtomicInteger(-1);
        CompletableFuture<Boolean> f = w.flushAsync().whenComplete((r, e) -> asyncAt.set(h.completed.get()));
        assertThat(threeLinked.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(w.cancel()).as("B taken back").isTrue();
        assertThat(ManualWorkers.runOne(iwq)).as("an idle worker found a barrier of the chain while A ran").isFalse();
        assertThat(f).isNotDone();
        h.release.countDown();
        runner.join(TimeUnit.SECONDS.toMillis(30));
        f1.join(TimeUnit.SECONDS.toMillis(30));
        f2.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(f1.isAlive() || f2.isAlive()).as("a flusher still waits").isFalse();
        assertThat(f.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(syncAt.get()).isEqualTo(1);
        assertThat(interruptiblyAt.get()).isEqualTo(1);
        assertThat(asyncAt.get()).isEqualTo(1);
        assertThat(h.runs.get()).as("B was cancelled").isEqualTo(1);
        if (setup.equals("frozen")) {
            ManualWorkers.thaw(iwq);
        }
        assertThat(ManualWorkers.runOne(iwq)).as("nothing left behind").isFalse();
        assertColoursBalance(iq);
    }

    /**
     * Flushes that give up while their barriers wait behind the running instance A, moved there
     * when cancel() took back the pending instance B: flushInterruptibly() interrupted throws
     * (status cleared), flush(Duration) returns false at its timeout (A is held, so it must time
     * out). The abandoned barriers still run after A, nothing is left on any list, and the queue's
     * colours balance (a queue flush then returns without a worker).
     */
    @Test
    @DisplayName("Interrupted and timed-out DelayedWork flushes behind a moved chain leave nothing behind")
    void abandonedFlushesBehindMovedChainLeaveNothingBehind() throws Exception {
        Held h = new Held();
        DelayedWork d = new DelayedWork("d", h::body);
        CountDownLatch linked = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.barrierLinked") && Thread.currentThread().getName().equals("interruptible")) {
                linked.countDown();
            }
        });
        assertThat(q.queue(d)).isTrue();
        Thread runner = h.runA(wq);
        assertThat(q.queue(d)).as("B queued while A runs").isTrue();
        AtomicReference<Object> interruptible = new AtomicReference<>();
        Thread f1 = new Thread(() -> {
            try {
                interruptible.set(d.flushInterruptibly());
            } catch (InterruptedException e) {
                interruptible.set(Thread.currentThread().isInterrupted() ? "status left set" : e);
            }
        }, "interruptible");
        f1.start();
        assertThat(linked.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(d.cancel()).as("B taken back: the chain moves behind A").isTrue();
        assertThat(d.flush(Duration.ofMillis(20))).as("timed flush behind A, which is held").isFalse();
        f1.interrupt();
        f1.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(f1.isAlive()).isFalse();
        assertThat(interruptible.get()).isInstanceOf(InterruptedException.class);
        assertThat(ManualWorkers.runOne(wq)).as("no barrier on the worklist while A runs").isFalse();
        h.release.countDown();
        runner.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(runner.isAlive()).isFalse();
        assertThat(ManualWorkers.runOne(wq)).as("nothing left behind").isFalse();
        assertThat(d.busy()).as("idle").isZero();
        assertColoursBalance(q);
        assertThat(h.runs.get()).isEqualTo(1);
    }

    /**
     * With nothing left in flight a queue flush returns without any worker running: it does,
     * within 30 s, only if every barrier's colour count was given back.
     */
    private static void assertColoursBalance(WorkQueue queue) throws InterruptedException {
        Thread queueFlush = new Thread(queue::flush, "queue-flush");
        queueFlush.start();
        queueFlush.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(queueFlush.isAlive()).as("queue flush returned: the flush colours balance").isFalse();
    }

    /** An item body whose first run (A) holds until {@link #release}; counts runs and completed runs. */
    private static final class Held {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger runs = new AtomicInteger();

        void body() {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                FlushContractTest.awaitUninterruptibly(release);
            }
            completed.incrementAndGet();
        }

        /** Runs the first queued item of {@code wq} (A) on a thread of its own, as a worker, and waits until it holds. */
        Thread runA(WorkqueueStruct wq) throws InterruptedException {
            Thread runner = new Thread(() -> ManualWorkers.runOne(wq), "runner");
            runner.start();
            assertThat(started.await(30, TimeUnit.SECONDS)).as("A runs").isTrue();
            return runner;
        }
    }
}
