package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Faults (issue 9; README "Faults and bad input"): each has a defined outcome, one test per
 * README row.
 */
class FaultsTest {
    private static final Duration HOUR = Duration.ofHours(1);

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    private static void awaitLatch(CountDownLatch l) {
        WorkQueueCoreTest.await(l);
    }

    private static void join(Thread th) {
        try {
            th.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------------------- throwing work

    private void assertThrowingItemIsHandledAndTheWorkerLivesOn(Throwable thrown) {
        WorkQueue q = t.queue("faulty").ordered().build(); // one worker at a time: the same pool serves both
        Work bad = new Work("thrower", () -> {
            if (thrown instanceof RuntimeException re) {
                throw re;
            }
            throw (Error) thrown;
        });
        AtomicInteger after = new AtomicInteger();
        Work good = new Work("after", after::incrementAndGet);

        assertThat(q.queue(bad)).isTrue();
        assertThat(q.queue(good)).isTrue();
        q.flush(); // flushes still complete

        assertThat(t.errors).containsExactly(thrown);
        assertThat(t.errorWork).containsExactly("faulty/thrower");
        assertThat(after).as("the next item ran").hasValue(1);
        assertThat(bad.isPending()).isFalse();
        assertThat(q.queue(bad)).as("the item can be queued again").isTrue();
        q.flush();
        assertThat(t.errors).hasSize(2);
    }

    @Test
    @DisplayName("a RuntimeException from a work function goes to the handler; the worker lives on")
    void runtimeExceptionGoesToTheHandler() {
        assertThrowingItemIsHandledAndTheWorkerLivesOn(new IllegalArgumentException("bad"));
    }

    @Test
    @DisplayName("an Error from a work function goes to the handler; the worker lives on")
    void errorGoesToTheHandler() {
        assertThrowingItemIsHandledAndTheWorkerLivesOn(new AssertionError("broken invariant"));
    }

    @Test
    @DisplayName("an OutOfMemoryError from a work function goes to the handler; the worker lives on")
    void outOfMemoryErrorGoesToTheHandler() {
        assertThrowingItemIsHandledAndTheWorkerLivesOn(new OutOfMemoryError("Java heap space (simulated)"));
    }

    @Test
    @DisplayName("a handler that throws is logged; the worker and later items live on")
    void throwingHandlerIsLoggedAndIgnored() {
        AtomicInteger handled = new AtomicInteger();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).uncaughtWorkHandler((q, w, e) -> {
            handled.incrementAndGet();
            throw new IllegalStateException("handler broke");
        }).build())) {
            WorkQueue q = rt.queueBuilder("faulty").ordered().build();
            AtomicInteger after = new AtomicInteger();
            q.queue(new Work("thrower", () -> {
                throw new IllegalArgumentException("bad");
            }));
            q.queue(new Work("after", after::incrementAndGet));
            q.flush();
            assertThat(handled).hasValue(1);
            assertThat(after).hasValue(1);
        }
    }

    // ------------------------------------------------------------------------------- thread factory

    @Test
    @DisplayName("a ThreadFactory that fails now and then: reported, retried, and every item runs")
    void threadFactoryThatFailsNowAndThen() {
        AtomicBoolean armed = new AtomicBoolean();
        AtomicInteger calls = new AtomicInteger();
        ThreadFactory base = Executors.defaultThreadFactory();
        ThreadFactory flaky = r -> {
            if (armed.get() && calls.incrementAndGet() % 2 == 1) { // every other creation fails
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory (simulated)");
            }
            return base.newThread(r);
        };
        try (TestRuntime rt = new TestRuntime(2, b -> { }, flaky)) {
            WorkQueue q = rt.queue("flaky").unbound().build(); // starts the manager and monitor
            armed.set(true); // then the workers' creations fail now and then
            int n = 4;
            CountDownLatch allRunning = new CountDownLatch(n); // needs n workers at once
            for (int i = 0; i < n; i++) {
                q.queue(new Work("w" + i, () -> {
                    allRunning.countDown();
                    awaitLatch(allRunning);
                }));
            }
            q.flush();
            assertThat(allRunning.getCount()).isZero();
            assertThat(rt.reports).anyMatch(r -> r.contains("failed to create a worker"));
            assertThat(rt.errors).isEmpty();
        }
    }

    @Test
    @DisplayName("a ThreadFactory failing when a memReclaim queue is built: build throws, nothing is registered")
    void threadFactoryFailingForTheRescuerFailsTheBuild() {
        AtomicBoolean failing = new AtomicBoolean();
        ThreadFactory base = Executors.defaultThreadFactory();
        try (TestRuntime rt = new TestRuntime(2, b -> { }, r -> {
            if (failing.get()) {
                throw new OutOfMemoryError("unable to create native thread (simulated)");
            }
            return base.newThread(r);
        })) {
            failing.set(true);
            assertThatThrownBy(() -> rt.queue("reclaim").memReclaim().build()).isInstanceOf(OutOfMemoryError.class);
            failing.set(false);
            assertThat(rt.rt.queues()).extracting(WorkQueue::name).doesNotContain("reclaim");
        }
    }

    // ------------------------------------------------------------------------------- interrupts

    @Test
    @DisplayName("queue.flush() is not interruptible: it waits on and returns with the interrupt status set")
    void queueFlushKeepsWaitingAndKeepsTheInterrupt() {
        WorkQueue q = t.queue("o").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicBoolean interruptedOnReturn = new AtomicBoolean();
        AtomicBoolean releasedBeforeReturn = new AtomicBoolean();
        Thread flusher = TestRuntime.startAndAwaitParked("flusher", () -> {
            q.flush();
            releasedBeforeReturn.set(release.getCount() == 0);
            interruptedOnReturn.set(Thread.currentThread().isInterrupted());
        });
        flusher.interrupt();
        await().atMost(Duration.ofSeconds(30)).until(() -> flusher.getState() == Thread.State.WAITING);
        assertThat(flusher.isAlive()).as("still waiting after the interrupt").isTrue();
        release.countDown();
        join(flusher);
        assertThat(releasedBeforeReturn).as("returned only once the item finished").isTrue();
        assertThat(interruptedOnReturn).as("interrupt status kept").isTrue();
    }

    @Test
    @DisplayName("work.flush() is not interruptible: it waits on and returns with the interrupt status set")
    void workFlushKeepsWaitingAndKeepsTheInterrupt() {
        WorkQueue q = t.queue("o").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        Work w = new Work("w", () -> { });
        q.queue(w);
        AtomicBoolean interruptedOnReturn = new AtomicBoolean();
        AtomicBoolean waited = new AtomicBoolean();
        // its barrier linked: a thread state would not tell (a wait for a pool lock on the way in), and w may run first
        Thread flusher = TestRuntime.startAndAwaitAt("flusher", () -> {
            waited.set(w.flush());
            interruptedOnReturn.set(Thread.currentThread().isInterrupted());
        }, "flush.barrierLinked");
        flusher.interrupt();
        release.countDown();
        join(flusher);
        assertThat(waited).isTrue();
        assertThat(interruptedOnReturn).isTrue();
        assertThat(w.isPending()).isFalse();
    }

    @Test
    @DisplayName("queue.flushInterruptibly() throws InterruptedException; the queue is unaffected and the next flush still waits")
    void queueFlushInterruptiblyGivesUpTheWaitOnly() throws Exception {
        WorkQueue q = t.queue("o").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        q.queue(w);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread flusher = TestRuntime.startAndAwaitParked("flusher", () -> {
            try {
                q.flushInterruptibly();
                outcome.set(new AssertionError("returned normally"));
            } catch (InterruptedException e) {
                outcome.set(e);
            }
        });
        flusher.interrupt();
        join(flusher);
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        assertThat(w.isPending()).as("the item is still queued").isTrue();
        assertThat(runs).hasValue(0);

        // A later flush (which waits first for the abandoned colour) still covers the item.
        AtomicBoolean ranBeforeFlushReturned = new AtomicBoolean();
        Thread second = TestRuntime.startAndAwaitParked("second", () -> {
            q.flush();
            ranBeforeFlushReturned.set(runs.get() == 1);
        });
        release.countDown();
        join(second);
        assertThat(ranBeforeFlushReturned).isTrue();
        assertThat(runs).hasValue(1);
        q.flush(); // and the queue's flush machinery is in order afterwards
    }

    @Test
    @DisplayName("queue.flushInterruptibly() interrupted while waiting for another flusher leaves no trace")
    void queueFlushInterruptiblyWhileWaitingForTheFlushMutex() throws Exception {
        WorkQueue q = t.queue("o").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        Thread first = TestRuntime.startAndAwaitParked("first", q::flush); // holds the flush mutex, waiting
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread second = TestRuntime.startAndAwaitParked("second", () -> {
            try {
                q.flushInterruptibly();
            } catch (InterruptedException e) {
                outcome.set(e);
            }
        });
        second.interrupt();
        join(second);
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        assertThat(first.isAlive()).isTrue();
        release.countDown();
        join(first);
        q.flush();
    }

    @Test
    @DisplayName("work.flushInterruptibly() throws InterruptedException; the item still runs once")
    void workFlushInterruptiblyGivesUpTheWaitOnly() throws Exception {
        WorkQueue q = t.queue("o").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        q.queue(w);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread flusher = TestRuntime.startAndAwaitParked("flusher", () -> {
            try {
                w.flushInterruptibly();
            } catch (InterruptedException e) {
                outcome.set(e);
            }
        });
        flusher.interrupt();
        join(flusher);
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        assertThat(w.isPending()).isTrue();
        release.countDown();
        w.flush(); // may find it done already: the abandoned barrier does not hold it up
        assertThat(runs).hasValue(1);
        q.flush();
        assertThat(t.errors).isEmpty();
    }

    @Test
    @DisplayName("DelayedWork.flushInterruptibly() fires the armed timer; interrupted, the item still runs")
    void delayedFlushInterruptiblyFiresTheTimer() throws Exception {
        WorkQueue q = t.queue("o").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        q.queueDelayed(dw, HOUR);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread flusher = TestRuntime.startAndAwaitAt("flusher", () -> {
            try {
                dw.flushInterruptibly();
            } catch (InterruptedException e) {
                outcome.set(e);
            }
        }, "flush.barrierLinked"); // behind the fired item: not a thread state (a wait for a pool lock looks the same)
        assertThat(dw.isTimerArmed()).as("fired, now queued behind the gate").isFalse();
        flusher.interrupt();
        join(flusher);
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        release.countDown();
        dw.flush();
        assertThat(runs).hasValue(1);
    }

    // ------------------------------------------------------------------------------- destroy, close

    @Test
    @DisplayName("destroy with delayed work still armed: the timer is cancelled and reported, the item is idle")
    void destroyWithDelayedWorkArmed() {
        WorkQueue q = t.queue("dying").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("late", runs::incrementAndGet);
        q.queueDelayed(dw, HOUR);

        q.destroy();

        assertThat(dw.isPending()).isFalse();
        assertThat(dw.isTimerArmed()).isFalse();
        assertThat(runs).hasValue(0);
        assertThat(t.errorWork).containsExactly("dying/late");
        assertThat(t.errors).singleElement().isInstanceOf(IllegalStateException.class)
                .satisfies(e -> assertThat(e.getMessage()).contains("'dying'", "'late'", "armed"));
        WorkQueue other = t.queue("other").build();
        assertThat(other.queue(dw)).as("free to queue elsewhere").isTrue();
        other.flush();
        assertThat(runs).hasValue(1);
    }

    @Test
    @DisplayName("WorkQueues.close() while work runs: waits for it and for pending items, then refuses and ends every thread")
    void closeWhileWorkIsRunning() {
        TestRuntime rt = new TestRuntime();
        WorkQueue q = rt.queue("busy").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        q.queue(new Work("long", () -> {
            started.countDown();
            awaitLatch(release);
            finished.set(true);
        }));
        AtomicInteger queuedBefore = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            q.queue(new Work("p" + i, queuedBefore::incrementAndGet));
        }
        awaitLatch(started);
        AtomicBoolean finishedWhenCloseReturned = new AtomicBoolean();
        // closing and draining (its flush covered by a flip), not merely WAITING (a pool lock on the way in looks the same)
        Thread closer = TestRuntime.startAndAwaitAt("closer", () -> {
            rt.close();
            finishedWhenCloseReturned.set(finished.get());
        }, "flush.waiting");
        assertThat(closer.isAlive()).as("close waits for the running item").isTrue();
        assertThatThrownBy(() -> q.queue(new Work("late", () -> { })))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("'busy'").hasMessageContaining("'late'");
        release.countDown();
        join(closer);
        assertThat(finishedWhenCloseReturned).isTrue();
        assertThat(queuedBefore).as("pending items ran, none lost").hasValue(10);
        assertThat(rt.rt.isClosed()).isTrue();
        assertThat(rt.threads).allSatisfy(th -> assertThat(th.isAlive()).as(th.getName()).isFalse());
        assertThat(rt.errors).isEmpty();
    }

    @Test
    @DisplayName("queueing on a closed runtime's queue throws, naming the queue and item")
    void queueAfterCloseThrows() {
        TestRuntime rt = new TestRuntime();
        WorkQueue q = rt.queue("gone").build();
        rt.close();
        Work w = new Work("w", () -> { });
        assertThatThrownBy(() -> q.queue(w)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'gone'").hasMessageContaining("'w'");
        assertThat(w.isPending()).isFalse();
        List<Throwable> none = new CopyOnWriteArrayList<>(rt.errors);
        assertThat(none).isEmpty();
    }
}
