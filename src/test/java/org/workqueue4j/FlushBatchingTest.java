package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.internal.WorkqueueStruct;

/**
 * Issue 15: concurrent {@code queue.flush()} callers are batched like the kernel's flusher queue.
 * A flusher that arrives while another waits flips the next colour at once and waits alongside
 * it (never queueing for the flip mutex behind a whole flush); flushers registered before a flip
 * begins share it; and none ever joins a flip made before it started. Interleavings are forced
 * with the engine's test hooks ({@code flush.registered}: a flusher is registered for the next
 * flip; {@code flush.flip}: the flip-mutex holder is about to take the registered flushers as
 * its batch) and with items held on latches; flips are counted by the engine.
 */
@Timeout(60)
class FlushBatchingTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    private static void awaitBounded(CountDownLatch l, String what) throws InterruptedException {
        assertThat(l.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as(what).isTrue();
    }

    /** Until {@code l} is open or {@code th} has ended (code without the hook point ends it). */
    private static void awaitOpenOrEnded(CountDownLatch l, Thread th) {
        await().atMost(BOUND).until(() -> l.getCount() == 0 || th.getState() == Thread.State.TERMINATED);
    }

    /**
     * Hooks on {@code wq}: thread "flusher-A" stops at {@code flush.flip} (holding the flip
     * mutex, before it takes the registered flushers as its batch) until {@link #release} opens;
     * {@link #bRegistered} opens when thread "flusher-B" has registered for the next flip.
     */
    private static final class HeldFlip {
        final CountDownLatch aAtFlip = new CountDownLatch(1);
        final CountDownLatch bRegistered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        HeldFlip(WorkqueueStruct wq) {
            TestHooks.install((point, subject) -> {
                String me = Thread.currentThread().getName();
                if (subject != wq) {
                    return;
                }
                if (point.equals("flush.flip") && me.equals("flusher-A")) {
                    aAtFlip.countDown();
                    WorkQueueCoreTest.await(release);
                } else if (point.equals("flush.registered") && me.equals("flusher-B")) {
                    bRegistered.countDown();
                }
            });
        }
    }

    /** An item queued on a queue that, once started, runs until its gate opens. */
    private static final class HeldItem {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicBoolean finished = new AtomicBoolean();

        HeldItem(WorkQueue q, String name) {
            q.queue(new Work(name, () -> {
                started.countDown();
                WorkQueueCoreTest.await(gate);
                finished.set(true);
            }));
        }

        HeldItem running() throws InterruptedException {
            awaitBounded(started, "item running");
            return this;
        }
    }

    /** Starts a thread that flushes {@code q}, then records whether {@code x} had finished. */
    private static Thread startFlusher(String name, WorkQueue q, HeldItem x, AtomicBoolean sawFinished) {
        Thread th = new Thread(() -> {
            q.flush();
            sawFinished.set(x.finished.get());
        }, name);
        th.start();
        return th;
    }

    private static void join(Thread... threads) throws InterruptedException {
        for (Thread th : threads) {
            th.join(BOUND.toMillis());
            assertThat(th.isAlive()).as("%s still flushing", th.getName()).isFalse();
        }
    }

    @Test
    @DisplayName("two flushers registered before a flip begins share that one flip")
    void flushersRegisteredBeforeAFlipShareIt() throws Exception {
        WorkQueue q = t.queue("shared-flip").build();
        WorkqueueStruct wq = q.engine();
        long before = wq.flushFlips();
        HeldFlip h = new HeldFlip(wq);
        Thread a = new Thread(q::flush, "flusher-A");
        a.start();
        awaitOpenOrEnded(h.aAtFlip, a);
        Thread b = new Thread(q::flush, "flusher-B");
        b.start();
        awaitOpenOrEnded(h.bRegistered, b);
        h.release.countDown();
        join(a, b);

        assertThat(wq.flushFlips() - before).as("colour flips made for two concurrent flushers").isEqualTo(1);
    }

    @Test
    @DisplayName("a flusher that shared an earlier-registered flusher's flip still waits for every item queued before it started")
    void aSharedFlipCoversWhatWasQueuedBeforeTheLaterFlusherStarted() throws Exception {
        WorkQueue q = t.queue("shared-contract").unbound().build();
        WorkqueueStruct wq = q.engine();
        long before = wq.flushFlips();
        HeldFlip h = new HeldFlip(wq);
        Thread a = new Thread(q::flush, "flusher-A"); // starts before X is queued
        a.start();
        awaitBounded(h.aAtFlip, "flusher A at its flip");

        HeldItem x = new HeldItem(q, "x"); // before B starts
        AtomicBoolean bSawX = new AtomicBoolean();
        Thread b = startFlusher("flusher-B", q, x, bSawX);
        awaitBounded(h.bRegistered, "flusher B registered");
        h.release.countDown(); // A flips once, for both

        x.running();
        await().atMost(BOUND).until(() -> b.getState() == Thread.State.WAITING || !b.isAlive());
        assertThat(b.isAlive()).as("B returned while x, queued before B started, was still running").isTrue();
        x.gate.countDown();
        join(a, b);

        assertThat(bSawX).as("x had finished when B's flush returned").isTrue();
        assertThat(wq.flushFlips() - before).as("A and B shared one flip").isEqualTo(1);
    }

    @Test
    @DisplayName("a flusher that gives up (interrupted) while sharing a flip leaves the flip to the others")
    void aFlusherGivingUpLeavesTheSharedFlipToTheOthers() throws Exception {
        WorkQueue q = t.queue("shared-give-up").unbound().build();
        WorkqueueStruct wq = q.engine();
        HeldItem x = new HeldItem(q, "x").running();
        HeldFlip h = new HeldFlip(wq);
        AtomicBoolean aSawX = new AtomicBoolean();
        Thread a = startFlusher("flusher-A", q, x, aSawX);
        awaitBounded(h.aAtFlip, "flusher A at its flip");
        AtomicReference<Throwable> bOutcome = new AtomicReference<>();
        Thread b = new Thread(() -> {
            try {
                q.flushInterruptibly();
                bOutcome.set(new AssertionError("B returned while x ran"));
            } catch (InterruptedException e) {
                bOutcome.set(e);
            }
        }, "flusher-B");
        b.start();
        awaitBounded(h.bRegistered, "flusher B registered");
        long before = wq.flushFlips();
        h.release.countDown(); // one flip for A and B
        await().atMost(BOUND).until(() -> wq.flushFlips() == before + 1 && b.getState() == Thread.State.WAITING
                && a.getState() == Thread.State.WAITING);

        b.interrupt();
        join(b);
        assertThat(bOutcome.get()).isInstanceOf(InterruptedException.class);
        assertThat(a.isAlive()).as("A still waits for x").isTrue();
        x.gate.countDown();
        join(a);
        assertThat(aSawX).as("x had finished when A's flush returned").isTrue();
        assertThat(wq.flushFlips() - before).as("A and B shared one flip").isEqualTo(1);
        q.flush(); // and the next flush is not held by B's record
    }

    @Test
    @DisplayName("a flusher arriving while another waits flips at once, waits alongside it, and never joins the older flip")
    void aLaterFlusherFlipsItsOwnColourWithoutWaitingForTheFirst() throws Exception {
        WorkQueue q = t.queue("pipelined").unbound().build();
        WorkqueueStruct wq = q.engine();
        HeldItem x1 = new HeldItem(q, "x1").running();
        long before = wq.flushFlips();
        Thread a = new Thread(q::flush, "flusher-A");
        a.start();
        await().atMost(BOUND).until(() -> wq.flushFlips() == before + 1); // A flipped, waits for x1

        HeldItem x2 = new HeldItem(q, "x2"); // after A's flip, before B starts
        AtomicBoolean bSawX2 = new AtomicBoolean();
        Thread b = startFlusher("flusher-B", q, x2, bSawX2);
        // B flips while A still waits for x1 (serialised flushers would wait for A first).
        await().atMost(BOUND).until(() -> wq.flushFlips() == before + 2);
        assertThat(a.isAlive()).as("A is still waiting for x1").isTrue();

        x1.gate.countDown();
        join(a);
        x2.running();
        await().atMost(BOUND).until(() -> b.getState() == Thread.State.WAITING || !b.isAlive());
        assertThat(b.isAlive()).as("B returned with x2, queued before B started, still running").isTrue();
        x2.gate.countDown();
        join(b);
        assertThat(bSawX2).as("x2 had finished when B's flush returned").isTrue();
    }

    @Test
    @DisplayName("with the colour space full, later flushers wait for a free colour and then share one flip")
    void overflowFlushersShareOneFlip() throws Exception {
        WorkQueue q = t.queue("overflow").unbound().build();
        WorkqueueStruct wq = q.engine();
        HeldItem x = new HeldItem(q, "x").running();
        long before = wq.flushFlips();
        int maxInFlight = 15; // 16 colours: a colour is reused only when its flip has finished
        int flushers = maxInFlight + 5;
        List<Thread> threads = new ArrayList<>();
        AtomicInteger sawX = new AtomicInteger();
        // A flusher with a colour free has flipped once it waits (flush.waiting): its WAITING state
        // alone would not tell (a wait for a pool lock on its way in looks the same, and the next
        // flusher could then take its colour or the count below be short).
        java.util.Map<String, CountDownLatch> flipped = new java.util.concurrent.ConcurrentHashMap<>();
        TestHooks.install((point, subject) -> {
            CountDownLatch l = flipped.get(Thread.currentThread().getName());
            if (subject == wq && point.equals("flush.waiting") && l != null) {
                l.countDown();
            }
        });
        for (int i = 0; i < flushers; i++) {
            CountDownLatch l = new CountDownLatch(1);
            flipped.put("flusher-" + i, l);
            Thread th = new Thread(() -> {
                q.flush();
                if (x.finished.get()) {
                    sawX.incrementAndGet();
                }
            }, "flusher-" + i);
            threads.add(th);
            th.start();
            // One at a time: each registers, then parks (waiting for x, for the mutex, or for space).
            if (i < maxInFlight) {
                awaitBounded(l, "flusher-" + i + " flipped and waits");
            }
            await().atMost(BOUND).until(() -> th.getState() == Thread.State.WAITING);
        }
        assertThat(wq.flushFlips() - before).as("flips in flight while x runs").isEqualTo(maxInFlight);
        x.gate.countDown();
        join(threads.toArray(new Thread[0]));
        assertThat(sawX.get()).as("flushers that saw x finished").isEqualTo(flushers);
        assertThat(wq.flushFlips() - before).as("the overflowed flushers shared one flip").isEqualTo(maxInFlight + 1);
        q.flush(); // the protocol is idle and usable again
    }
}
