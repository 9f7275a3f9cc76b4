package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An executor that owns its queue, shut down while its last task runs, when the runtime is
 * closed before that task ends: the task's end reaches {@code tryTerminate}, which asks the
 * runtime for {@code systemUnbound()} (to queue the destroy of the owned queue) before it
 * checks {@code isClosing()}. A runtime that never used {@code events_unbound} refuses to make
 * it once closed ({@code WorkQueues.systemUnbound}: "@throws IllegalStateException if the
 * runtime is closed and the queue was never used"), so the {@code IllegalStateException} is
 * thrown out of the task's end: the executor is never marked terminated, the thread already
 * in {@code awaitTermination} is never woken, and the uncaught-work handler is told that the
 * user's task (which completed normally) failed.
 *
 * <p>Contract: {@code ExecutorService.awaitTermination} "blocks until all tasks have completed
 * execution after a shutdown request, or the timeout occurs"; the README: a view made by
 * {@code buildExecutorService()} is terminated once shut down with its last task finished,
 * then its queue is destroyed ({@code WorkQueue.Builder.buildExecutorService}: "once the
 * executor has terminated (shutdown, and its last task finished) the queue is destroyed"), and
 * {@code tryTerminate}'s own comment: "runtime closing: it destroys the queue itself".
 *
 * <p>Actual: {@code awaitTermination(20 s)}, called before the close, returns false 20 s later,
 * although the task ended within a few milliseconds and the runtime's close returned; and the
 * handler received {@code IllegalStateException: workqueue runtime is closed; cannot create
 * queue 'events_unbound'} for the task.
 */
@Timeout(60)
class Break6ExOwnedCloseTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void anOwnedExecutorWhoseLastTaskEndsWhileTheRuntimeClosesTerminates() throws Exception {
        ExecutorService owned = t.queue("owned").unbound().buildExecutorService();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<String> task = owned.submit(() -> {
            started.countDown();
            release.await();
            return "done";
        });
        assertThat(started.await(10, SECONDS)).isTrue();
        owned.shutdown();

        AtomicReference<Object> awaited = new AtomicReference<>();
        CountDownLatch awaitReturned = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            try {
                awaited.set(owned.awaitTermination(20, SECONDS));
            } catch (Throwable e) {
                awaited.set(e);
            }
            awaitReturned.countDown();
        }, "awaiter");
        waiter.start();

        // close() marks the runtime closed first, then drains the owned queue: it waits for the task.
        Thread closer = TestRuntime.startAndAwaitParked("closer", t.rt::close);
        assertThat(t.rt.isClosed()).isTrue();
        release.countDown();
        assertThat(task.get(10, SECONDS)).isEqualTo("done");
        closer.join(20_000);
        assertThat(closer.isAlive()).as("close returned").isFalse();

        assertThat(awaitReturned.await(10, SECONDS)).as("awaitTermination returned within 10 s of the last task's end (handler got " + t.errors + ")").isTrue();
        assertThat(awaited.get()).as("awaitTermination's result").isEqualTo(Boolean.TRUE);
        assertThat(t.errors).as("failures reported for the view's tasks").isEmpty();
    }

    /**
     * The same ordering, on the timer's side: an owned scheduled executor, shut down with a
     * delayed one-shot task still armed (which the default policy keeps), whose runtime is then
     * closed. The close strands the task (its future fails, as documented) and the view stops
     * counting it; the view should then terminate, but {@code tryTerminate} again asks the
     * closed runtime for {@code systemUnbound()} first, and a thread already in
     * {@code awaitTermination} waits out its timeout.
     */
    @Test
    void anOwnedScheduledExecutorWhoseArmedTaskTheCloseStrandsTerminates() throws Exception {
        java.util.concurrent.ScheduledExecutorService owned = t.queue("owned").unbound().buildScheduledExecutorService();
        java.util.concurrent.ScheduledFuture<String> task = owned.schedule(() -> "late", 1, java.util.concurrent.TimeUnit.HOURS);
        owned.shutdown();
        AtomicReference<Object> awaited = new AtomicReference<>();
        CountDownLatch awaitReturned = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            try {
                awaited.set(owned.awaitTermination(20, SECONDS));
            } catch (Throwable e) {
                awaited.set(e);
            }
            awaitReturned.countDown();
        }, "awaiter");
        waiter.start();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> waiter.getState() == Thread.State.TIMED_WAITING); // in awaitTermination before the close
        t.rt.close();
        assertThat(task.isDone()).as("the stranded task's future").isTrue();
        assertThat(awaitReturned.await(10, SECONDS)).as("awaitTermination returned within 10 s of the close (reported: " + reported() + ")").isTrue();
        assertThat(awaited.get()).as("awaitTermination's result").isEqualTo(Boolean.TRUE);
    }

    /** What the uncaught-work handler received, with what each report carries as suppressed. */
    private String reported() {
        StringBuilder b = new StringBuilder();
        for (Throwable e : t.errors) {
            b.append(e).append(java.util.Arrays.toString(e.getSuppressed())).append(' ');
        }
        return b.toString();
    }
}
