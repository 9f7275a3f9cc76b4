package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The executor views name each task's item by calling the task's own {@code toString()} on the
 * submitting thread, inside {@code execute}/{@code submit}/{@code schedule}
 * ({@code WorkQueue.taskName}). The user's {@code toString} is user code: when it throws, or
 * returns {@code null}, the submission itself throws, and the task is never accepted.
 *
 * <p>Contract: {@code Executor.execute} / {@code ExecutorService.submit} /
 * {@code ScheduledExecutorService.schedule} throw only {@code RejectedExecutionException} (the
 * task cannot be accepted) and {@code NullPointerException} (a null task); the views' javadoc
 * says the same ("@throws RejectedExecutionException if this view is shut down or its queue
 * destroyed", "@throws NullPointerException if command is null"). README "Task names" says a
 * task's item is <em>named</em> by its {@code toString}; nowhere that the task's
 * {@code toString} may veto its submission. A {@code ThreadPoolExecutor} and a
 * {@code ScheduledThreadPoolExecutor} never call it and run the same tasks.
 *
 * <p>Actual: {@code execute} throws the {@code toString}'s {@code UnsupportedOperationException};
 * {@code submit} of a task whose {@code toString} returns {@code null} throws
 * {@code NullPointerException} ({@code s.isEmpty()} in {@code WorkQueue.taskName}), although the
 * task is not null. The same holds for {@code WorkQueue.execute} (its {@code Executor} contract).
 * A realistic trigger: a {@code record} task over a list another thread mutates
 * ({@code ConcurrentModificationException} out of {@code execute}).
 */
@Timeout(60)
class Break6ExTaskToStringTest {
    private final TestRuntime t = new TestRuntime();
    private final ThreadPoolExecutor tpe = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
    private final ScheduledThreadPoolExecutor stpe = new ScheduledThreadPoolExecutor(1);

    @AfterEach
    void close() {
        tpe.shutdownNow();
        stpe.shutdownNow();
        t.close();
    }

    /** A task whose toString throws, or returns null. */
    static final class OddlyNamed implements Runnable, Callable<String> {
        final CountDownLatch ran = new CountDownLatch(1);
        private final boolean nullName;

        OddlyNamed(boolean nullName) {
            this.nullName = nullName;
        }

        @Override
        public void run() {
            ran.countDown();
        }

        @Override
        public String call() {
            ran.countDown();
            return "ran";
        }

        @Override
        public String toString() {
            if (nullName) {
                return null;
            }
            throw new UnsupportedOperationException("this task has no name");
        }
    }

    /** What {@code execute(task)} did: "accepted and ran", or the exception it threw. */
    private static String executeOutcome(java.util.concurrent.Executor e, OddlyNamed task) throws InterruptedException {
        try {
            e.execute(task);
        } catch (RuntimeException x) {
            return "threw " + x;
        }
        return task.ran.await(10, SECONDS) ? "accepted and ran" : "accepted, never ran";
    }

    private static String submitOutcome(ExecutorService e, OddlyNamed task) throws Exception {
        Future<String> f;
        try {
            f = e.submit((Callable<String>) task);
        } catch (RuntimeException x) {
            return "threw " + x;
        }
        return "accepted, result " + f.get(10, SECONDS);
    }

    @Test
    void executeOfATaskWhoseToStringThrowsIsAcceptedAndRuns() throws Exception {
        String reference = executeOutcome(tpe, new OddlyNamed(false));
        assertThat(reference).isEqualTo("accepted and ran");
        ExecutorService view = t.queue("named").unbound().build().asExecutorService();
        assertThat(executeOutcome(view, new OddlyNamed(false))).as("asExecutorService().execute").isEqualTo(reference);
    }

    @Test
    void submitOfACallableWhoseToStringIsNullIsAcceptedAndRuns() throws Exception {
        String reference = submitOutcome(tpe, new OddlyNamed(true));
        assertThat(reference).isEqualTo("accepted, result ran");
        ExecutorService view = t.queue("named").unbound().build().asExecutorService();
        assertThat(submitOutcome(view, new OddlyNamed(true))).as("asExecutorService().submit").isEqualTo(reference);
    }

    @Test
    void scheduleOfATaskWhoseToStringThrowsIsAcceptedAndRuns() throws Exception {
        OddlyNamed ref = new OddlyNamed(false);
        assertThat(stpe.schedule((Callable<String>) ref, 1, MILLISECONDS).get(10, SECONDS)).isEqualTo("ran");
        ScheduledExecutorService view = t.queue("named").unbound().build().asScheduledExecutorService();
        String outcome;
        try {
            outcome = "accepted, result " + view.schedule((Callable<String>) new OddlyNamed(false), 1, MILLISECONDS).get(10, SECONDS);
        } catch (RuntimeException x) {
            outcome = "threw " + x;
        }
        assertThat(outcome).as("asScheduledExecutorService().schedule").isEqualTo("accepted, result ran");
    }

    @Test
    void theQueuesOwnExecuteAcceptsATaskWhoseToStringThrows() throws Exception {
        WorkQueue q = t.queue("named").unbound().build();
        assertThat(executeOutcome(q, new OddlyNamed(false))).as("WorkQueue.execute (Executor)").isEqualTo("accepted and ran");
    }

    @Test
    void aRecordTaskOverAListAnotherThreadChangesIsAccepted() throws Exception {
        // toString of a record renders its list; the list's iterator throws while it changes.
        java.util.List<Integer> items = new java.util.AbstractList<>() {
            @Override
            public Integer get(int i) {
                throw new java.util.ConcurrentModificationException();
            }

            @Override
            public int size() {
                return 1;
            }
        };
        CountDownLatch ran = new CountDownLatch(1);
        record Job(java.util.List<Integer> items, CountDownLatch ran) implements Runnable {
            @Override
            public void run() {
                ran.countDown();
            }
        }
        tpe.execute(new Job(items, ran));
        assertThat(ran.await(10, SECONDS)).isTrue();
        ExecutorService view = t.queue("named").unbound().build().asExecutorService();
        CountDownLatch ran2 = new CountDownLatch(1);
        String outcome;
        try {
            view.execute(new Job(items, ran2));
            outcome = ran2.await(10, SECONDS) ? "accepted and ran" : "accepted, never ran";
        } catch (RuntimeException x) {
            outcome = "threw " + x;
        }
        assertThat(outcome).isEqualTo("accepted and ran");
    }
}
