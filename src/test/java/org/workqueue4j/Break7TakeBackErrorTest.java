package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * {@code helpTerminate} takes the owned queue's destroy item back with {@code Work.cancel()}.
 * An {@code Error} that strikes inside that cancel after the grab (test point
 * {@code cancel.grabbed}, where {@code Pending.cancel} documents that "only an asynchronous
 * Error can strike"; the project injects Errors at its test points to check exactly this) makes
 * the cancel report the taken instance to the uncaught-work handler instead of running it, and
 * throw. The destroy item is then neither pending nor run; {@code terminating} stays set, so
 * {@code tryTerminate} never queues another; every later {@code awaitTermination} finds nothing
 * to take back and waits for a {@code markTerminated} that nothing will call.
 *
 * <p>Contract: the README row of the change: "Exactly one thread runs the destroy (the item's
 * worker, or the waiter whose cancel took it back); an Error in it is reported as the destroy
 * item's failure ... the view is terminated all the same" (row "An Error in the destroy of an
 * owning executor view's queue": "The view is terminated all the same ... Before: ... the view
 * never terminated"); {@code ExecutorService}: a view shut down whose tasks have all completed
 * is terminated.
 *
 * <p>Expected: the Error may escape the first {@code awaitTermination} (it struck there), but
 * the view, shut down with no task, terminates: a later {@code awaitTermination(5 s)} returns
 * true once the long items end (before the change nothing took the item back: the destroy ran
 * on {@code system_unbound} once a worker was free). Actual: false, for good; the destroy item
 * was reported to the handler as "taken back", and the owned queue is never destroyed.
 */
@Timeout(60)
class Break7TakeBackErrorTest {
    @Test
    void anErrorInTheTakeBackOfTheDestroyDoesNotLeaveTheViewUnterminatedForGood() throws Exception {
        List<Throwable> handled = new CopyOnWriteArrayList<>();
        List<String> handledItems = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).maxWorkers(2)
                .uncaughtWorkHandler((q, w, e) -> {
                    handled.add(e);
                    handledItems.add(w == null ? "?" : w.name());
                }).build())) {
            ExecutorService ex = rt.queueBuilder("owned").unbound().buildExecutorService();
            WorkQueue busy = rt.queueBuilder("busy").unbound().build();
            CountDownLatch started = new CountDownLatch(2);
            for (int i = 0; i < 2; i++) {
                busy.queue(new Work("long-" + i, () -> {
                    started.countDown();
                    WorkQueueCoreTest.await(release);
                }));
            }
            assertThat(started.await(10, SECONDS)).as("both workers of the cap busy").isTrue();
            Thread caller = Thread.currentThread();
            ex.shutdown(); // the destroy waits on system_unbound for a worker
            Object first;
            TestHooks.install((p, s) -> {
                if (p.equals("cancel.grabbed") && Thread.currentThread() == caller) {
                    throw new InjectedThrows.Injected("injected in the take-back of the destroy");
                }
            });
            try {
                first = ex.awaitTermination(5, SECONDS);
            } catch (Throwable e) {
                first = e;
            } finally {
                TestHooks.install(null);
            }
            release.countDown(); // every worker free again
            boolean later = ex.awaitTermination(5, SECONDS);
            WorkQueue oq = rt.queues().stream().filter(x -> x.name().equals("owned")).findFirst().orElse(null);
            assertThat(later).as("view terminates after the Error (first awaitTermination: %s; handler told: %s %s;"
                    + " owned queue destroyed: %s)", first, handledItems, handled, oq == null || oq.isDestroyed()).isTrue();
        }
    }
}
