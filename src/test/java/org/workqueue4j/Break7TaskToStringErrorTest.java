package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code WorkQueue.taskName} now catches what a task's {@code toString} throws, but only
 * {@code RuntimeException}: a {@code toString} that overflows the stack (a task that holds a
 * collection containing itself: {@code AbstractCollection.toString} recurses through the
 * task's own {@code toString}; JDK collections guard only direct self-containment) still
 * refuses the task with the {@code StackOverflowError}.
 *
 * <p>Contract: the javadoc of {@code taskName}, "also when that toString throws or returns null
 * or an empty string: naming a task never refuses it"; README faults row "A task whose
 * {@code toString()} throws or returns null, given to execute, submit or schedule of a view (or
 * to {@code WorkQueue.execute}) | The task is accepted and named {@code <queue>/task-<n>}".
 * A {@code ThreadPoolExecutor} never calls it and runs the task.
 *
 * <p>Expected: {@code submit}/{@code execute} accept the task and it runs. Actual: they throw
 * {@code StackOverflowError} and the task never runs.
 */
@Timeout(60)
class Break7TaskToStringErrorTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    /** A task that keeps a list of the tasks it relates to, itself included. */
    static final class SelfListing implements Runnable {
        final CountDownLatch ran = new CountDownLatch(1);
        final List<Object> related = new ArrayList<>();

        SelfListing() {
            related.add(List.of(this)); // nested: ArrayList guards direct self-containment only
        }

        @Override
        public void run() {
            ran.countDown();
        }

        @Override
        public String toString() {
            return "SelfListing" + related;
        }
    }

    @Test
    void aViewAcceptsATaskWhoseToStringOverflowsTheStack() throws Exception {
        ExecutorService view = t.queue("v").build().asExecutorService();
        SelfListing task = new SelfListing();
        Object outcome;
        try {
            Future<?> f = view.submit(task);
            f.get(10, SECONDS);
            outcome = "accepted";
        } catch (Throwable e) {
            outcome = e;
        }
        assertThat(outcome).as("submit of a task whose toString overflows").isEqualTo("accepted");
        assertThat(task.ran.await(10, SECONDS)).isTrue();
    }

    @Test
    void workQueueExecuteAcceptsATaskWhoseToStringOverflowsTheStack() throws Exception {
        WorkQueue q = t.queue("q").build();
        SelfListing task = new SelfListing();
        Object outcome;
        try {
            q.execute(task);
            outcome = "accepted";
        } catch (Throwable e) {
            outcome = e;
        }
        assertThat(outcome).as("WorkQueue.execute of a task whose toString overflows").isEqualTo("accepted");
        assertThat(task.ran.await(10, SECONDS)).isTrue();
    }
}
