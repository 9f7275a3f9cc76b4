package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * A task submitted through an ExecutorCompletionService over an executor view (which is also
 * how AbstractExecutorService.invokeAny submits) that the engine will never run (here: close()
 * gave up while the worker cap held the task back; the same path, TaskWork.neverRuns, serves a
 * queue destroyed with an armed task or an expiry refused by a drain): before (README faults
 * table), the view failed the
 * task's future (neverRuns -> future.fail) but never ran the completion service's wrapper
 * (QueueingFuture), so the completion service was never told. ExecutorCompletionService's
 * contract: every submitted task's future is queued "upon completion". The cancel path
 * (takeBack) delivered; the never-runs path did not.
 *
 * Correct behaviour: once the task's future is done (failed), ecs.poll() returns it.
 * Consequence: invokeAny over such tasks waits in ecs.take() for good although every future is done.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break12ExCompletionServiceNeverRunsTest {
    private final CountDownLatch releaseBlocker = new CountDownLatch(1);

    @AfterEach
    void cleanUp() {
        TestHooks.install(null);
        releaseBlocker.countDown();
    }

    private Work blocker(CountDownLatch started) {
        return new Work("blocker-" + started.getCount(), () -> {
            started.countDown();
            boolean done = false;
            while (!done) {
                try {
                    done = releaseBlocker.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    // close()'s timeout interrupts it: it goes on waiting
                }
            }
        });
    }

    /** The cap-held setup: returns {rt, u} with the runtime's worker cap used up by two blockers. */
    private Object[] capHeld(AtomicInteger capRefused) throws Exception {
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().name("ecs-never").cpus(1).maxWorkers(2)
                .closeTimeout(Duration.ofMillis(300)).uncaughtWorkHandler((q, w, e) -> { }).build());
        WorkQueue q = rt.queueBuilder("q").cpuIntensive().build();
        WorkQueue u = rt.queueBuilder("u").unbound().build();
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.capRefused") && subject.toString().contains("flags=0x4")) {
                capRefused.incrementAndGet();
            }
        });
        CountDownLatch started = new CountDownLatch(2);
        assertThat(q.queueOn(0, blocker(started))).isTrue();
        assertThat(q.queueOn(0, blocker(started))).isTrue();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        return new Object[] {rt, u};
    }

    /**
     * invokeAny over the view: every task's future ends (failed: never runs), but invokeAny
     * never returns. Correct: ExecutionException (no task completed successfully).
     */
    @Test
    void invokeAnyReturnsOnceEveryTaskIsFailedAsNeverRun() throws Exception {
        AtomicInteger capRefused = new AtomicInteger();
        Object[] s = capHeld(capRefused);
        WorkQueues rt = (WorkQueues) s[0];
        ExecutorService view = ((WorkQueue) s[1]).asExecutorService();
        java.util.concurrent.atomic.AtomicReference<Object> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                outcome.set(view.invokeAny(List.of(() -> "a")));
            } catch (Throwable e) {
                outcome.set(e);
            }
        }, "invokeAny-caller");
        caller.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> capRefused.get() > 0);
        rt.close(); // times out on the blockers: the held-back task is failed as never run
        caller.join(TimeUnit.SECONDS.toMillis(30));
        boolean hung = caller.isAlive();
        caller.interrupt(); // hang guard: let the thread go
        assertThat(hung).as("invokeAny still waiting although its only task's future is done (outcome %s)", outcome.get()).isFalse();
        assertThat(outcome.get()).isInstanceOf(ExecutionException.class);
    }

    @Test
    void aCompletionServiceIsToldOfATaskTheViewFailsAsNeverRun() throws Exception {
        AtomicInteger capRefused = new AtomicInteger();
        Object[] s = capHeld(capRefused);
        WorkQueues rt = (WorkQueues) s[0];
        WorkQueue u = (WorkQueue) s[1];
        ExecutorService view = u.asExecutorService();
        ExecutorCompletionService<String> ecs = new ExecutorCompletionService<>(view);
        Future<String> task = ecs.submit(() -> "ran");
        await().atMost(Duration.ofSeconds(30)).until(() -> capRefused.get() > 0);
        rt.close(); // times out on the blockers: the held-back task is failed as never run
        try {
            task.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException expected) {
            // IllegalStateException: never runs
        }
        assertThat(task.isDone()).as("the view failed the task's future").isTrue();
        Future<String> delivered = ecs.poll(10, TimeUnit.SECONDS);
        assertThat(delivered).as("the completion service receives the completed (failed) future").isSameAs(task);
    }
}
