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
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("d", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                FlushContractTest.awaitUninterruptibly(release);
            }
            completed.incrementAndGet();
        });
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
        Thread runner = new Thread(() -> ManualWorkers.runOne(wq), "runner");
        runner.start();
        assertThat(started.await(30, TimeUnit.SECONDS)).as("A runs").isTrue();
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
                completedWhenFlushReturned.set(completed.get());
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
        release.countDown();
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
        assertThat(runs.get()).as("B was cancelled: A alone ran").isEqualTo(1);
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
}
