package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * The per-item flush contract when the instance a flush linked its barrier behind is taken back
 * while the flush waits (issue 12; found by the stress ledger's per-item flush check): every
 * instance queued, armed or running before {@code flush()} began has finished when it returns.
 *
 * <p>Every interleaving here is replayed step by step: the runtime's threads never start
 * ({@link ManualWorkers}), items run on the test's own threads when it says so, and a hook tells
 * when a flush has linked its barrier. No timing is involved.
 */
class FlushContractTest {
    private WorkQueues rt;
    private WorkQueue q;
    private WorkqueueStruct wq;
    private final CountDownLatch linked = new CountDownLatch(1);
    private final AtomicInteger links = new AtomicInteger();

    @BeforeEach
    void setUp() {
        rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .threadFactory(ManualWorkers.neverStartedThreads())
                .validator(LockDependencyValidator.disabled())
                .build());
        q = rt.queueBuilder("contract").unbound().build();
        wq = q.engine();
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.barrierLinked")) {
                links.incrementAndGet();
                linked.countDown();
            }
        });
    }

    @AfterEach
    void tearDown() {
        TestHooks.install(null);
        // Not closed: its threads never started, and close() would wait for workers to drain
        // what a test left queued. Nothing of it outlives the test but garbage.
    }

    /** Runs items of the queue's pool on this thread until {@code t} ends (bounded). */
    private void runUntilDone(Thread t) {
        runUntil(() -> !t.isAlive(), "the flusher ended");
    }

    /** Runs items of the queue's pool on this thread until {@code done} holds; fails after 30 s. */
    private void runUntil(java.util.function.BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            if (!ManualWorkers.runOne(wq)) {
                Thread.onSpinWait();
            }
            assertThat(System.nanoTime() - deadline).as(what + " within 30 s").isNegative();
        }
    }

    @Test
    @DisplayName("Work.flush() behind a pending instance that is cancelled still waits for the running one")
    void cancelledTargetStillWaitsForRunningInstance() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean runEnded = new AtomicBoolean();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                awaitUninterruptibly(release);
                runEnded.set(true); // plain enough: read by the flusher after the flush returns
            }
        });
        assertThat(q.queue(w)).isTrue();
        Thread runner = new Thread(() -> ManualWorkers.runOne(wq), "runner");
        runner.start();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(q.queue(w)).as("queued again while it runs").isTrue();

        AtomicReference<Boolean> endedWhenFlushReturned = new AtomicReference<>();
        Thread flusher = new Thread(() -> {
            w.flush();
            endedWhenFlushReturned.set(runEnded.get());
        }, "flusher");
        flusher.start();
        assertThat(linked.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(w.cancel()).as("the pending instance is taken back").isTrue();

        // An idle worker of the same pool looks at the worklist: the barrier must not be there
        // to run before the running instance ends.
        assertThat(ManualWorkers.runOne(wq))
                .as("another worker of the pool found the flush's barrier and ran it while the instance ran").isFalse();
        release.countDown();
        runner.join(TimeUnit.SECONDS.toMillis(30));
        flusher.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(flusher.isAlive()).isFalse();
        assertThat(endedWhenFlushReturned.get())
                .as("the instance running when flush() began had ended when flush() returned").isTrue();
    }

    @Test
    @DisplayName("Work.flushAsync() behind a cancelled pending instance completes after the running one")
    void asyncFlushOfCancelledTargetWaitsForRunningInstance() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                awaitUninterruptibly(release);
            }
        });
        q.queue(w);
        Thread runner = new Thread(() -> ManualWorkers.runOne(wq), "runner");
        runner.start();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(q.queue(w)).isTrue();
        CompletableFuture<Boolean> f = w.flushAsync();
        assertThat(w.cancel()).isTrue();
        ManualWorkers.runOne(wq);
        assertThat(f).as("completed while the instance it waits for still runs").isNotDone();
        release.countDown();
        runner.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(f.get(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    @DisplayName("DelayedWork.flush() whose pending instance is re-armed by modDelayed waits for the re-armed instance")
    void rearmedTargetIsFlushedAgain() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        assertThat(q.queue(d)).isTrue();
        AtomicInteger runsWhenFlushReturned = new AtomicInteger(-1);
        Thread flusher = new Thread(() -> {
            d.flush();
            runsWhenFlushReturned.set(runs.get());
        }, "flusher");
        flusher.start();
        assertThat(linked.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(q.modDelayed(d, Duration.ofHours(1))).as("the pending instance moved back to the timer").isTrue();
        runUntilDone(flusher);
        assertThat(runsWhenFlushReturned.get())
                .as("the instance pending when flush() began (re-armed since) had run when flush() returned").isEqualTo(1);
        assertThat(d.isPending()).isFalse();
    }

    @Test
    @DisplayName("DelayedWork.flush() whose re-armed instance already runs when its barrier passes waits for that run")
    void rearmedTargetAlreadyRunning() throws Exception {
        CountDownLatch passed = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger completed = new AtomicInteger();
        DelayedWork d = new DelayedWork("d", () -> {
            started.countDown();
            awaitUninterruptibly(release);
            completed.incrementAndGet();
        });
        AtomicInteger passes = new AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.barrierLinked")) {
                linked.countDown();
            } else if (point.equals("flush.barrierPassed") && passes.incrementAndGet() == 1) {
                passed.countDown();
                awaitUninterruptibly(goOn); // the flusher, between its barrier and its next look
            }
        });
        assertThat(q.queue(d)).isTrue();
        AtomicInteger completedWhenFlushReturned = new AtomicInteger(-1);
        Thread flusher = new Thread(() -> {
            d.flush();
            completedWhenFlushReturned.set(completed.get());
        }, "flusher");
        flusher.start();
        assertThat(linked.await(30, TimeUnit.SECONDS)).isTrue();
        // Re-armed with no delay: taken off the worklist and queued again behind the barrier.
        assertThat(q.modDelayed(d, Duration.ZERO)).isTrue();
        assertThat(ManualWorkers.runOne(wq)).as("the barrier ran").isTrue();
        assertThat(passed.await(30, TimeUnit.SECONDS)).isTrue();
        Thread runner = new Thread(() -> ManualWorkers.runOne(wq), "runner");
        runner.start();
        assertThat(started.await(30, TimeUnit.SECONDS)).as("the re-armed instance runs").isTrue();
        goOn.countDown();
        release.countDown();
        runner.join(TimeUnit.SECONDS.toMillis(30));
        flusher.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(flusher.isAlive()).isFalse();
        assertThat(completedWhenFlushReturned.get())
                .as("the instance pending when flush() began had finished when flush() returned").isEqualTo(1);
    }

    @Test
    @DisplayName("DelayedWork.flushAsync() whose pending instance is re-armed completes after the re-armed instance ran")
    void asyncFlushOfRearmedTarget() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        q.queue(d);
        CompletableFuture<Boolean> f = d.flushAsync();
        assertThat(q.modDelayed(d, Duration.ofHours(1))).isTrue();
        ManualWorkers.runOne(wq); // the barrier, now without its target
        runUntil(f::isDone, "the future completed");
        assertThat(f.get(1, TimeUnit.SECONDS)).isTrue();
        assertThat(runs.get()).as("runs when the future completed").isEqualTo(1);
    }

    @Test
    @DisplayName("DelayedWork.flush(Duration) fires an armed timer and waits for that instance")
    void timedFlushOfArmedDelayedWork() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        AtomicReference<Boolean> result = new AtomicReference<>();
        AtomicInteger runsWhenFlushReturned = new AtomicInteger(-1);
        Thread flusher = new Thread(() -> {
            try {
                result.set(d.flush(Duration.ofMinutes(5)));
            } catch (InterruptedException e) {
                result.set(null);
            }
            runsWhenFlushReturned.set(runs.get());
        }, "flusher");
        flusher.start();
        runUntilDone(flusher);
        assertThat(result.get()).isTrue();
        assertThat(runsWhenFlushReturned.get()).as("the armed instance had run when flush(Duration) returned").isEqualTo(1);
        assertThat(d.isTimerArmed()).isFalse();
    }

    @Test
    @DisplayName("DelayedWork.flush(Duration) returns false at the timeout, the instance still queued")
    void timedFlushOfDelayedWorkTimesOut() {
        DelayedWork d = new DelayedWork("d", () -> { });
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        assertThatCode(() -> assertThat(d.flush(Duration.ZERO)).isFalse()).doesNotThrowAnyException();
        assertThat(d.isPending()).as("fired, queued, not run: no worker runs here").isTrue();
        assertThat(d.isTimerArmed()).isFalse();
    }

    static void awaitUninterruptibly(CountDownLatch l) {
        boolean interrupted = false;
        while (true) {
            try {
                l.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
