package org.workqueue4j;

import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code awaitTermination} of an owning view now runs the owned queue's destroy on the waiting
 * thread, at whatever depth that thread's stack is. Near the end of a stack the destroy
 * overflows (its own deep probe, as designed, strikes before it changes anything), but
 * {@code helpTerminate} has already taken the destroy item back and {@code markTerminated} runs
 * in the finally: the view is terminated, {@code awaitTermination} returns true, the
 * {@code StackOverflowError} is reported to the uncaught-work handler as the destroy item's
 * failure, and nothing ever destroys the queue again (until the runtime's close). Before the
 * change the destroy always ran on a {@code system_unbound} worker's shallow stack: the waiter's
 * depth could not matter.
 *
 * <p>Contract: {@code WorkQueue.Builder.buildExecutorService()}: "once the executor has
 * terminated (shutdown, and its last task finished) the queue is destroyed"; the README row of
 * this change: "awaitTermination ... takes the queued destroy of the owned queue back and runs
 * it on its own thread ... termination no longer waits for unrelated work" (the row for an
 * Error in the destroy leaves the queue to close() for an Error of the destroy itself, not for
 * one the library causes by choosing the caller's stack); the project's many deep-stack rows
 * ("an overflow strikes ... before anything changes, so a later call does the whole work").
 *
 * <p>Setup: the runtime's worker cap (2) is held by two long items, so each view's destroy
 * waits on {@code system_unbound}; for every depth in the last 400 frames of a 256 KiB stack a
 * new owned view is shut down (no task) and awaited there ({@code awaitTermination(1 ns)});
 * then the long items end, and each view is awaited from a shallow stack.
 *
 * <p>Expected: every view terminates and its queue is destroyed (before the change: all 401).
 * Actual: many depths (211 to 355 of 401 in runs here) leave a view terminated with its queue
 * alive for good, each with a {@code StackOverflowError} reported.
 */
@Timeout(120)
class Break7DeepAwaitTerminationTest {
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private WorkQueues rt;

    @AfterEach
    void close() {
        release.countDown();
        if (rt != null) {
            rt.close();
        }
    }

    private static Object deep(int n, ExecutorService v) {
        if (n > 0) {
            return deep(n - 1, v);
        }
        try {
            return v.awaitTermination(1, NANOSECONDS);
        } catch (Throwable e) {
            return e;
        }
    }

    @Test
    void awaitTerminationAtTheEndOfAStackNeverLeavesATerminatedViewsQueueAlive() throws Exception {
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).maxWorkers(2)
                .uncaughtWorkHandler((q, w, e) -> errors.add(e)).build());
        WorkQueue busy = rt.queueBuilder("busy").unbound().build();
        CountDownLatch started = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            busy.queue(new Work("long-" + i, () -> { started.countDown(); WorkQueueCoreTest.await(release); }));
        }
        assertThat(started.await(10, SECONDS)).isTrue();
        Map<ExecutorService, WorkQueue> views = new ConcurrentHashMap<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread th = new Thread(null, () -> {
            try {
                ExecutorService probe = rt.queueBuilder("probe").unbound().build().asExecutorService();
                int lo = 0;
                int hi = 1 << 20;
                while (lo + 1 < hi) { // deep(lo) returns, deep(hi) overflows on the way down
                    int mid = (lo + hi) >>> 1;
                    boolean over;
                    try {
                        deep(mid, probe);
                        over = false;
                    } catch (StackOverflowError e) {
                        over = true;
                    }
                    if (over) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                for (int d = Math.max(0, lo - 400); d <= lo; d++) {
                    String name = "owned-" + d;
                    ExecutorService v = rt.queueBuilder(name).unbound().buildExecutorService();
                    views.put(v, rt.queues().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow());
                    v.shutdown(); // its destroy waits on system_unbound for a worker
                    try {
                        deep(d, v);
                    } catch (StackOverflowError e) {
                        // on the way down: this depth tells nothing
                    }
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "deep", 256 * 1024);
        th.start();
        th.join(100_000);
        assertThat(failure.get()).isNull();
        release.countDown(); // system_unbound's workers free: every destroy still queued runs
        rt.systemUnbound().flush(); // a view's destroy follows its termination, from a system_unbound item
        List<String> notTerminated = new ArrayList<>();
        List<String> terminatedWithQueueAlive = new ArrayList<>();
        for (Map.Entry<ExecutorService, WorkQueue> e : views.entrySet()) {
            if (!e.getKey().awaitTermination(10, SECONDS)) {
                notTerminated.add(e.getValue().name());
            } else if (!e.getValue().isDestroyed()) {
                terminatedWithQueueAlive.add(e.getValue().name());
            }
        }
        long overflows = errors.stream().filter(x -> x instanceof StackOverflowError).count();
        assertThat(notTerminated).as("views never terminated").isEmpty();
        assertThat(terminatedWithQueueAlive).as("of %d views, %d terminated with the owned queue alive (StackOverflowErrors"
                + " reported: %d)", views.size(), terminatedWithQueueAlive.size(), overflows).isEmpty();
    }
}
