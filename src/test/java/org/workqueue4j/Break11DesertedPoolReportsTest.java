package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * Items left in a pool with no worker after close() gave up are reported as never run
 * (Break11DesertedPoolTest), several of them in one batch: the user code of one report (the
 * uncaught-work handler, a failed task's dependents) cancels, flushes or waits on another item
 * of the same batch, or flushes the queue. Before, the batch's items were released one by one,
 * each just before its own report: an item reported later was still pending on no list, which a
 * cancel or flush takes for a node in transit and spins on, so every one of these calls waited
 * for ever (close() too, when its own delivery ran the handler), and a flush of the queue from a
 * report waited for that report. Now each item of a batch is released, with its accounting,
 * before the batch's first report. Pool 0's first worker is held at hook pool.newWorker across
 * close(), so that the creation, given up then, delivers the batch.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break11DesertedPoolReportsTest {
    private final List<String> reported = new CopyOnWriteArrayList<>();
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private volatile BiConsumer<Work, Throwable> onReport = (w, e) -> { };

    @AfterEach
    void cleanUp() {
        TestHooks.install(null);
    }

    private WorkQueues runtime(String name) {
        return WorkQueues.create(WorkQueuesConfig.builder().name(name).cpus(2).closeTimeout(Duration.ofMillis(300))
                .reportListener(reports::add)
                .uncaughtWorkHandler((queue, work, error) -> {
                    reported.add(work == null ? null : work.name());
                    onReport.accept(work, error);
                }).build());
    }

    /** pool 0's first worker is held in creation until the returned latch is counted down (after close()). */
    private CountDownLatch holdPool0Creation(CountDownLatch creating) {
        return holdFirstWorkerCreation(pool -> pool.startsWith("pool 0 "), creating);
    }

    /**
     * Holds the first worker creation (hook {@code pool.newWorker}) of the first pool whose
     * description {@code pool} accepts: counts {@code creating} down there, then waits until the
     * returned latch is counted down (once close() has returned: the creation then finds the
     * pool stopped and gives the worker up).
     */
    static CountDownLatch holdFirstWorkerCreation(java.util.function.Predicate<String> pool, CountDownLatch creating) {
        CountDownLatch closeReturned = new CountDownLatch(1);
        AtomicBoolean held = new AtomicBoolean();
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.newWorker") && pool.test(subject.toString()) && held.compareAndSet(false, true)) {
                creating.countDown();
                try {
                    closeReturned.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        return closeReturned;
    }

    /**
     * Queues A (and B, if given) on pool 0 of {@code q} while the pool's first worker is held in
     * creation, closes the runtime (it times out: q cannot drain), then lets the creation go on:
     * given up, it delivers the batch.
     */
    private void closeLeavingInPool0(WorkQueues rt, WorkQueue q, Work a, Work b) throws InterruptedException {
        CountDownLatch creating = new CountDownLatch(1);
        CountDownLatch closeReturned = holdPool0Creation(creating);
        assertThat(q.queueOn(0, a)).isTrue();
        assertThat(creating.await(30, TimeUnit.SECONDS)).isTrue();
        if (b != null) {
            assertThat(q.queueOn(0, b)).isTrue();
        }
        rt.close();
        closeReturned.countDown();
    }

    /** The handler told that A never runs cancels B (also left in pool 0, reported after A): cancel() must not wait for its own thread. */
    @Test
    void handlerCancelsAnotherItemOfTheSameDesertedPool() throws Exception {
        WorkQueues rt = runtime("sibling-cancel");
        WorkQueue q = rt.queueBuilder("q").build();
        Work a = new Work("A", () -> { });
        Work b = new Work("B", () -> { });
        AtomicReference<Object> cancelResult = new AtomicReference<>();
        CountDownLatch handlerDone = new CountDownLatch(1);
        onReport = (w, e) -> {
            if (w == a) {
                try {
                    cancelResult.set(b.cancel());
                } catch (Throwable t) {
                    cancelResult.set(t);
                }
                handlerDone.countDown();
            }
        };
        closeLeavingInPool0(rt, q, a, b);
        assertThat(handlerDone.await(30, TimeUnit.SECONDS))
                .as("B.cancel() from A's handler returned (reported %s; B pending %s)", reported, b.isPending()).isTrue();
    }

    /** Same, with Work.flushAsync() of B, documented never to block. */
    @Test
    void handlerFlushAsyncOfAnotherItemDoesNotBlock() throws Exception {
        WorkQueues rt = runtime("sibling-flushAsync");
        WorkQueue q = rt.queueBuilder("q").build();
        Work a = new Work("A", () -> { });
        Work b = new Work("B", () -> { });
        AtomicReference<CompletableFuture<Boolean>> f = new AtomicReference<>();
        CountDownLatch handlerDone = new CountDownLatch(1);
        onReport = (w, e) -> {
            if (w == a) {
                f.set(b.flushAsync());
                handlerDone.countDown();
            }
        };
        closeLeavingInPool0(rt, q, a, b);
        assertThat(handlerDone.await(30, TimeUnit.SECONDS))
                .as("B.flushAsync() from A's handler returned (reported %s)", reported).isTrue();
        f.get().get(30, TimeUnit.SECONDS);
    }

    /** Another thread's cancel() of B while A's report is held by its handler: B should not wait for A's report. */
    @Test
    void cancelOfALaterItemDoesNotWaitForAnEarlierItemsReport() throws Exception {
        WorkQueues rt = runtime("other-thread-cancel");
        WorkQueue q = rt.queueBuilder("q").build();
        Work a = new Work("A", () -> { });
        Work b = new Work("B", () -> { });
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch releaseHandler = new CountDownLatch(1);
        onReport = (w, e) -> {
            if (w == a) {
                inHandler.countDown();
                try {
                    releaseHandler.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        closeLeavingInPool0(rt, q, a, b);
        try {
            assertThat(inHandler.await(30, TimeUnit.SECONDS)).isTrue();
            // A's report is under way (held): B, taken in the same batch, is released already
            assertThat(b.isPending()).as("B released before A's report").isFalse();
            assertThat(b.cancel()).as("B.cancel() from another thread: nothing pending to take").isFalse();
        } finally {
            releaseHandler.countDown();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> reported.contains("B"));
    }

    /** A's handler flushes A's queue: only A (being reported) is in flight; the flush waits for its own report. */
    @Test
    void handlerFlushingTheQueueDoesNotWaitForItself() throws Exception {
        WorkQueues rt = runtime("queue-flush");
        WorkQueue q = rt.queueBuilder("q").build();
        Work a = new Work("A", () -> { });
        AtomicReference<Object> result = new AtomicReference<>();
        CountDownLatch handlerDone = new CountDownLatch(1);
        onReport = (w, e) -> {
            if (w == a) {
                try {
                    result.set(q.flush(Duration.ofSeconds(3)));
                } catch (Throwable t) {
                    result.set(t);
                }
                handlerDone.countDown();
            }
        };
        closeLeavingInPool0(rt, q, a, null);
        assertThat(handlerDone.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(result.get()).as("q.flush(3 s) from A's handler returns true, not waiting for A's own report")
                .isEqualTo(Boolean.TRUE);
    }

    /** Executor view: task A's failure makes a dependent cancel task B's future (both left in pool 0). */
    @Test
    void dependentOfAFailedTaskCancelsAnotherTask() throws Exception {
        WorkQueues rt = runtime("executor");
        WorkQueue q = rt.queueBuilder("q").unbound().build();
        CountDownLatch creating = new CountDownLatch(1);
        CountDownLatch closeReturned = holdFirstWorkerCreation(pool -> pool.contains("flags=0x4"), creating); // the unbound pool
        var ex = q.asExecutorService();
        Future<?> taskA = ex.submit(() -> { });
        assertThat(creating.await(30, TimeUnit.SECONDS)).isTrue();
        Future<?> taskB = ex.submit(() -> { });
        AtomicReference<Object> cancelResult = new AtomicReference<>();
        CountDownLatch cancelled = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            try {
                taskA.get();
            } catch (Exception e) {
                // failed: nothing more here
            }
        });
        waiter.start();
        // cancel B from the handler told about A (the view's tasks are reported too)
        onReport = (w, e) -> {
            if (cancelResult.get() == null) {
                cancelResult.set("in");
                try {
                    cancelResult.set(taskB.cancel(false));
                } catch (Throwable t) {
                    cancelResult.set(t);
                }
                cancelled.countDown();
            }
        };
        rt.close();
        closeReturned.countDown();
        assertThat(cancelled.await(30, TimeUnit.SECONDS)).as("taskB.cancel() from the handler told about task A returned (%s)", reported).isTrue();
    }

    /** Same, with a bounded Work.flush(Duration) of B: its bound should hold. */
    @Test
    void handlerTimedFlushOfAnotherItemKeepsItsBound() throws Exception {
        WorkQueues rt = runtime("sibling-timed-flush");
        WorkQueue q = rt.queueBuilder("q").build();
        Work a = new Work("A", () -> { });
        Work b = new Work("B", () -> { });
        AtomicReference<Object> result = new AtomicReference<>();
        CountDownLatch handlerDone = new CountDownLatch(1);
        onReport = (w, e) -> {
            if (w == a) {
                try {
                    result.set(b.flush(Duration.ofSeconds(2)));
                } catch (Throwable t) {
                    result.set(t);
                }
                handlerDone.countDown();
            }
        };
        closeLeavingInPool0(rt, q, a, b);
        assertThat(handlerDone.await(30, TimeUnit.SECONDS))
                .as("B.flush(2 s) from A's handler returned (reported %s)", reported).isTrue();
        assertThat(result.get()).as("B was released before A's report: nothing to wait for").isEqualTo(Boolean.TRUE);
    }

    /**
     * A queue flushAsync() waits for A, left in the deserted pool: A's release finishes the
     * flush's colour, which queues an async flush step on the same worklist. Before, the same
     * batch took the step (off every list, counted in flight) and ran it only after A's report:
     * A's handler flushing the queue waited for it, for itself (a bounded flush returned false,
     * an unbounded one hung the delivery), and the flushAsync() future was not complete while A
     * was reported. Now the engine nodes run before the items are reported.
     */
    @Test
    void handlerFlushingTheQueueDoesNotWaitForAnAsyncStepOfTheSameBatch() throws Exception {
        WorkQueues rt = runtime("step");
        WorkQueue q = rt.queueBuilder("q").build();
        Work a = new Work("A", () -> { });
        AtomicReference<Object> result = new AtomicReference<>();
        AtomicReference<CompletableFuture<Void>> async = new AtomicReference<>();
        AtomicReference<Object> asyncDoneInReport = new AtomicReference<>();
        CountDownLatch handlerDone = new CountDownLatch(1);
        onReport = (w, e) -> {
            if (w == a) {
                asyncDoneInReport.set(async.get().isDone());
                try {
                    result.set(q.flush(Duration.ofSeconds(5)));
                    q.flush(); // unbounded: hung the delivery before
                } catch (Throwable t) {
                    result.set(t);
                }
                handlerDone.countDown();
            }
        };
        CountDownLatch creating = new CountDownLatch(1);
        CountDownLatch closeReturned = holdPool0Creation(creating);
        assertThat(q.queueOn(0, a)).isTrue();
        assertThat(creating.await(30, TimeUnit.SECONDS)).isTrue();
        async.set(q.flushAsync());
        rt.close();
        closeReturned.countDown();
        assertThat(handlerDone.await(30, TimeUnit.SECONDS)).as("A's handler's flushes of the queue returned").isTrue();
        assertThat(result.get()).as("q.flush(5 s) from A's handler: nothing of the batch left in flight").isEqualTo(Boolean.TRUE);
        assertThat(asyncDoneInReport.get()).as("the queue's flushAsync() future completed before A's report").isEqualTo(Boolean.TRUE);
    }

    /**
     * maxActive 1: A active, B and D inactive, a queue flushAsync() between A and B. Releasing A
     * activates B and finishes the flush's colour (a step queued behind B); releasing B activates
     * D behind the step. Before, the round ended at the step, D left on the deserted pool's
     * worklist while the step's run completed the future: a dependent flushing D waited for an
     * item only this thread's next round would release. Now every item is released, those the
     * releases activate included, before any engine node runs.
     */
    @Test
    void aFlushAsyncDependentFlushingALaterItemFindsItReleased() throws Exception {
        WorkQueues rt = runtime("dependent");
        WorkQueue q = rt.queueBuilder("q").maxActive(1).build();
        Work a = new Work("A", () -> { });
        Work b = new Work("B", () -> { });
        Work d = new Work("D", () -> { });
        AtomicReference<Object> result = new AtomicReference<>();
        CountDownLatch dependentDone = new CountDownLatch(1);
        CountDownLatch creating = new CountDownLatch(1);
        CountDownLatch closeReturned = holdPool0Creation(creating);
        assertThat(q.queueOn(0, a)).isTrue();
        assertThat(creating.await(30, TimeUnit.SECONDS)).isTrue();
        q.flushAsync().thenRun(() -> {
            try {
                result.set(d.flush(Duration.ofSeconds(5)));
            } catch (Throwable t) {
                result.set(t);
            }
            dependentDone.countDown();
        });
        assertThat(q.queueOn(0, b)).isTrue();
        assertThat(q.queueOn(0, d)).isTrue();
        rt.close();
        closeReturned.countDown();
        assertThat(dependentDone.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(result.get()).as("D.flush(5 s) from the flushAsync() dependent (reported so far: %s)", reported)
                .isEqualTo(Boolean.TRUE);
        await().atMost(Duration.ofSeconds(30)).until(() -> reported.containsAll(List.of("A", "B", "D")));
    }

    /** An item that outlasts any close timeout: it keeps waiting through close()'s interrupt. */
    private static Work blocker(CountDownLatch started, CountDownLatch release) {
        return new Work("blocker", () -> {
            started.countDown();
            boolean done = false;
            while (!done) {
                try {
                    done = release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    // close()'s timeout interrupts it: it goes on waiting
                }
            }
        });
    }

    /** The worker cap held A and B back; close()'s own delivery reports them; A's handler cancels B. */
    @Test
    void closeReturnsWhenAHandlerCancelsASiblingItem() throws Exception {
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        Work[] ab = new Work[2];
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().name("cap-held").cpus(1).maxWorkers(2)
                .closeTimeout(Duration.ofMillis(300)).reportListener(s -> { })
                .uncaughtWorkHandler((queue, work, error) -> {
                    reported.add(work == null ? null : work.name());
                    if (work == ab[0]) {
                        ab[1].cancel();
                    }
                }).build());
        WorkQueue q = rt.queueBuilder("q").cpuIntensive().build();
        WorkQueue u = rt.queueBuilder("u").unbound().build();
        AtomicInteger capRefused = new AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.capRefused") && subject.toString().contains("flags=0x4")) {
                capRefused.incrementAndGet();
            }
        });
        CountDownLatch started = new CountDownLatch(2);
        assertThat(q.queueOn(0, blocker(started, releaseBlocker))).isTrue();
        assertThat(q.queueOn(0, blocker(started, releaseBlocker))).isTrue();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        ab[0] = new Work("A", () -> { });
        ab[1] = new Work("B", () -> { });
        assertThat(u.queue(ab[0])).isTrue();
        assertThat(u.queue(ab[1])).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> capRefused.get() > 0);
        rt.close(); // its own delivery reports A and B (the cap held both back): it hung in A's handler
        assertThat(reported).contains("A", "B");
        assertThat(ab[1].isPending()).isFalse();
        releaseBlocker.countDown();
    }
}
