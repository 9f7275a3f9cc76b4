package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code awaitTermination} of a view that owns its queue now takes the queued destroy back from
 * {@code system_unbound} ({@code helpTerminate}) and runs {@code destroyOwned} on the waiting
 * thread: an untimed, uninterruptible destroy, run from whatever thread waits, with none of the
 * waiter's bound and none of the checks that the system queue's worker made unnecessary.
 *
 * <p>Common setup: a runtime capped at three workers. A task given to the owned view's
 * {@code execute} throws; the task has ended for the view ({@code afterRun} took it out of
 * {@code live}), but its item's run goes on: the uncaught-work handler, "the last part of the
 * item's run, on its worker", holds the report. Two long items of another unbound queue then
 * hold the other two workers, so the owned queue's destroy, queued by {@code shutdown()} on
 * {@code system_unbound}, waits for a worker: exactly the case the change was made for.
 */
@Timeout(60)
class Break7OwnedViewHelpTerminateTest {
    private final CountDownLatch releaseBusy = new CountDownLatch(1);
    private final CountDownLatch releaseHandler = new CountDownLatch(1);
    private final CountDownLatch handlerEntered = new CountDownLatch(1);
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final List<String> reports = new CopyOnWriteArrayList<>();
    /** Run by the handler for the "boom" report, on the owned queue's worker, once released. */
    private volatile Runnable inHandler = () -> { };
    private WorkQueues rt;

    @AfterEach
    void close() {
        releaseHandler.countDown();
        releaseBusy.countDown();
        if (rt != null) {
            rt.close();
        }
    }

    private void build(int maxWorkers, boolean validate) {
        WorkQueuesConfig.Builder b = WorkQueuesConfig.builder().cpus(2).maxWorkers(maxWorkers)
                .reportListener(reports::add)
                .uncaughtWorkHandler((q, w, e) -> {
                    errors.add(e);
                    if ("boom".equals(e.getMessage())) {
                        handlerEntered.countDown();
                        await(releaseHandler);
                        inHandler.run();
                    }
                });
        rt = WorkQueues.create(b.build());
    }

    private static void await(CountDownLatch l) {
        try {
            if (!l.await(40, SECONDS)) {
                throw new AssertionError("latch not released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The owned view, with one task that threw and whose report the handler holds. */
    private ExecutorService ownedWithHeldReport() throws InterruptedException {
        ExecutorService owned = rt.queueBuilder("owned").unbound().buildExecutorService();
        owned.execute(new Runnable() {
            @Override
            public void run() {
                throw new IllegalArgumentException("boom");
            }

            @Override
            public String toString() {
                return "boom-task";
            }
        });
        assertThat(handlerEntered.await(10, SECONDS)).as("the handler holds the task's report").isTrue();
        return owned;
    }

    /** Holds the other two workers of the runtime's cap with long items of another queue. */
    private void holdTheOtherWorkers() throws InterruptedException {
        WorkQueue busy = rt.queueBuilder("busy").unbound().build();
        CountDownLatch started = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            busy.queue(new Work("long-" + i, () -> {
                started.countDown();
                await(releaseBusy);
            }));
        }
        assertThat(started.await(10, SECONDS)).as("both other workers busy").isTrue();
    }

    private WorkQueue queueNamed(String name) {
        return rt.queues().stream().filter(q -> q.name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * The handler told that the view's last task threw (on the owned queue's own worker, the
     * last part of that item's run) shuts the view down and waits for its termination.
     *
     * <p>Expected: either {@code awaitTermination} returns false (the view cannot be terminated
     * while its queue still runs that item: before the change it returned false at its timeout,
     * and the destroy then ran once the handler returned), or, if it returns true, the queue is
     * destroyed: the builder's javadoc "once the executor has terminated (shutdown, and its last
     * task finished) the queue is destroyed". Either way the owned queue is destroyed once the
     * handler has returned, and the handler is told of no failure but the task's own.
     *
     * <p>Actual: the handler's {@code awaitTermination} takes the destroy back and runs it on the
     * owned queue's own worker, where a destroy of the queue is refused ("cannot destroy its own
     * queue ... it would wait for itself"); the refusal is reported as the destroy item's
     * failure, {@code markTerminated} runs in the finally: {@code awaitTermination} returns true,
     * {@code isTerminated()} is true, and the owned queue is never destroyed (still alive after
     * the handler returned and every worker is free again; nothing will destroy it but the
     * runtime's close).
     */
    @Test
    void awaitTerminationFromTheHandlerOfTheLastTasksFailureNeverLeavesTheOwnedQueueUndestroyed() throws Exception {
        build(3, false);
        AtomicReference<Object> result = new AtomicReference<>();
        CountDownLatch handlerDone = new CountDownLatch(1);
        AtomicReference<ExecutorService> view = new AtomicReference<>();
        inHandler = () -> {
            try {
                view.get().shutdown();
                boolean r = view.get().awaitTermination(2, SECONDS);
                result.set(r);
            } catch (Throwable e) {
                result.set(e);
            } finally {
                handlerDone.countDown();
            }
        };
        view.set(ownedWithHeldReport());
        WorkQueue ownedQueue = queueNamed("owned");
        holdTheOtherWorkers();
        releaseHandler.countDown();
        assertThat(handlerDone.await(20, SECONDS)).isTrue();
        releaseBusy.countDown(); // every worker free again: a destroy still queued can run now
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).pollInterval(java.time.Duration.ofMillis(20))
                .until(() -> view.get().isTerminated());
        // give a queued destroy every chance: flush the system queue it would be on
        rt.systemUnbound().flush(java.time.Duration.ofSeconds(10));
        boolean destroyedInTime = false;
        long end = System.nanoTime() + SECONDS.toNanos(5);
        while (System.nanoTime() < end && !(destroyedInTime = ownedQueue.isDestroyed())) {
            Thread.sleep(20); // polling a state with no event to wait on
        }
        assertThat(destroyedInTime).as("owned queue destroyed once the view terminated (handler's awaitTermination: %s;"
                + " failures reported: %s)", result.get(), errors).isTrue();
        assertThat(errors).as("failures reported").hasSize(1);
    }

    /**
     * An item of a {@code memReclaim} queue waits for the termination of an owned view over an
     * ordinary queue (shut down with no task).
     *
     * <p>Expected: no flush-dependency warning. {@code awaitTermination} is not a flush of the
     * owned queue for that check (the README lists what records a flush dependency; the view's
     * waits are recorded for the lock validator only), and before the change the destroy ran on
     * a {@code system_unbound} worker, which is not {@code memReclaim}: no report, whatever the
     * timing. Whether the warning appears must not depend on whether a system worker happened
     * to be free.
     *
     * <p>Actual: the waiting item takes the destroy back and runs it on its own thread; the
     * destroy's drain flushes the owned queue from the memReclaim item, and the report listener
     * receives "workqueue: WQ_MEM_RECLAIM reclaim:R is flushing !WQ_MEM_RECLAIM owned:0x0 (the
     * rescuer's forward-progress guarantee does not reach this queue)" — for the library's own
     * destroy of an empty queue, which the caller never asked to flush.
     */
    @Test
    void awaitTerminationFromAMemReclaimItemReportsNoFlushDependencyForTheLibrarysOwnDestroy() throws Exception {
        build(3, false);
        ExecutorService owned = rt.queueBuilder("owned").unbound().buildExecutorService();
        WorkQueue reclaim = rt.queueBuilder("reclaim").unbound().memReclaim().build();
        CountDownLatch rStarted = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch rDone = new CountDownLatch(1);
        AtomicReference<Object> result = new AtomicReference<>();
        reclaim.queue(new Work("R", () -> {
            rStarted.countDown();
            await(go);
            try {
                result.set(owned.awaitTermination(2, SECONDS));
            } catch (Throwable e) {
                result.set(e);
            } finally {
                rDone.countDown();
            }
        }));
        assertThat(rStarted.await(10, SECONDS)).isTrue();
        holdTheOtherWorkers();
        owned.shutdown(); // the destroy waits on system_unbound for a worker
        go.countDown();
        assertThat(rDone.await(20, SECONDS)).isTrue();
        releaseBusy.countDown();
        assertThat(owned.awaitTermination(20, SECONDS)).isTrue();
        assertThat(reports.stream().filter(r -> r.contains("WQ_MEM_RECLAIM")).toList())
                .as("flush-dependency reports (R's awaitTermination: %s)", result.get()).isEmpty();
    }
}
