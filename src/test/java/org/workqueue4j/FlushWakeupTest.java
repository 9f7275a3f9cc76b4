package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.ManualWorkers;
import org.workqueue4j.internal.WorkqueueStruct;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * Issue 15, concurrent flushers: a pool worker whose completion finishes a flush colour wakes
 * the flushers it releases only after it has dropped the pool lock, so that none wakes into the
 * pool lock (or the queue's flush lock) still held by the thread that woke it and parks again on
 * it (each such park cost the worker, the queue's bottleneck, an unpark more). A flusher that
 * gives up while its wake-up is still to come must not have that late wake-up end its next flush.
 *
 * <p>Items run on the test's threads ({@link ManualWorkers}): the runtime's threads never start,
 * and {@link ManualWorkers#runOne(WorkqueueStruct, Runnable)} runs code of the test after an
 * item's completion is accounted, before the worker's pool lock is dropped. No timing involved.
 */
@Timeout(60)
class FlushWakeupTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    private WorkQueues rt;
    private WorkQueue q;
    private WorkqueueStruct wq;

    @BeforeEach
    void setUp() {
        rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .threadFactory(ManualWorkers.neverStartedThreads())
                .validator(LockDependencyValidator.disabled())
                .build());
        q = rt.queueBuilder("wakeup").unbound().build();
        wq = q.engine();
    }

    @AfterEach
    void tearDown() {
        // Not closed: its threads never started (see FlushContractTest).
    }

    /** Until {@code th} waits (parked) or has ended. */
    private static void awaitWaitingOrEnded(Thread th) {
        await().atMost(BOUND).until(() -> th.getState() == Thread.State.WAITING || !th.isAlive());
    }

    private static void join(Thread th) throws InterruptedException {
        th.join(BOUND.toMillis());
        assertThat(th.isAlive()).as("%s still flushing", th.getName()).isFalse();
    }

    @Test
    @DisplayName("the worker that finishes a flusher's colour wakes it only once it has dropped the pool lock")
    void flusherIsWokenAfterThePoolLockIsDropped() throws Exception {
        AtomicBoolean xRan = new AtomicBoolean();
        q.queue(new Work("x", () -> xRan.set(true)));
        // A probe: interrupted while the worker still holds the pool lock after x, its wait ends
        // with InterruptedException only if it was not released yet (a released wait returns).
        AtomicReference<Object> probeOutcome = new AtomicReference<>();
        Thread probe = new Thread(() -> {
            try {
                q.flushInterruptibly();
                probeOutcome.set("returned");
            } catch (InterruptedException e) {
                probeOutcome.set(e);
            }
        }, "probe");
        AtomicBoolean returned = new AtomicBoolean();
        AtomicBoolean sawX = new AtomicBoolean();
        Thread flusher = new Thread(() -> {
            q.flush();
            sawX.set(xRan.get());
            returned.set(true);
        }, "flusher");
        long before = wq.flushFlips();
        probe.start();
        flusher.start();
        await().atMost(BOUND).until(() -> wq.flushFlips() >= before + 1);
        awaitWaitingOrEnded(probe);
        awaitWaitingOrEnded(flusher);
        assertThat(probe.isAlive() && flusher.isAlive()).as("both flushers wait for x").isTrue();

        AtomicBoolean returnedWhileLocked = new AtomicBoolean();
        assertThat(ManualWorkers.runOne(wq, () -> {
            // x's completion finished the colour(s) of both; the pool lock is still held here.
            probe.interrupt();
            await().atMost(BOUND).until(() -> probeOutcome.get() != null);
            returnedWhileLocked.set(returned.get());
        })).as("x ran").isTrue();

        assertThat(probeOutcome.get()).as("the probe's wait, interrupted while the worker held the pool lock")
                .isInstanceOf(InterruptedException.class);
        assertThat(returnedWhileLocked).as("flusher returned while the worker held the pool lock").isFalse();
        join(flusher); // woken once the lock was dropped
        assertThat(sawX).as("x had run when the flush returned").isTrue();
        join(probe);
    }

    @Test
    @DisplayName("a flusher that gives up while its wake-up is still to come starts its next flush on a record of its own")
    void lateWakeupDoesNotEndTheNextFlush() throws Exception {
        q.queue(new Work("x", () -> { }));
        AtomicBoolean yRan = new AtomicBoolean();
        Work y = new Work("y", () -> yRan.set(true));
        AtomicReference<Throwable> firstOutcome = new AtomicReference<>();
        AtomicBoolean sawY = new AtomicBoolean();
        AtomicBoolean queuedY = new AtomicBoolean();
        Thread flusher = new Thread(() -> {
            try {
                q.flushInterruptibly();
                firstOutcome.set(new AssertionError("the first flush returned"));
            } catch (InterruptedException e) {
                firstOutcome.set(e);
            }
            queuedY.set(q.queue(y)); // queued before the second flush: it must wait for y
            try {
                q.flushInterruptibly();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            sawY.set(yRan.get());
        }, "flusher");
        long before = wq.flushFlips();
        flusher.start();
        await().atMost(BOUND).until(() -> wq.flushFlips() == before + 1);
        awaitWaitingOrEnded(flusher);
        assertThat(flusher.isAlive()).as("the first flush waits for x").isTrue();

        assertThat(ManualWorkers.runOne(wq, () -> {
            // x finished the colour; the flusher's wake-up waits for the unlock. It gives up now.
            flusher.interrupt();
            await().atMost(BOUND).until(() -> firstOutcome.get() != null);
            await().atMost(BOUND).until(() -> wq.flushFlips() == before + 2 || !flusher.isAlive());
            // Its second flush has registered and flipped (y in flight), or is held on this lock.
        })).as("x ran").isTrue();
        assertThat(firstOutcome.get()).isInstanceOf(InterruptedException.class);
        assertThat(queuedY).as("y queued").isTrue();

        // The first flush's late wake-up has been delivered (runOne's unlock): the second flush
        // must still wait for y, which has not run.
        await().atMost(BOUND).until(() -> wq.flushFlips() >= before + 2 || !flusher.isAlive());
        awaitWaitingOrEnded(flusher);
        assertThat(flusher.isAlive()).as("the second flush returned before y, queued before it began, ran").isTrue();
        assertThat(yRan).isFalse();

        assertThat(ManualWorkers.runOne(wq)).as("y ran").isTrue();
        join(flusher);
        assertThat(sawY).as("y had run when the second flush returned").isTrue();
    }
}
