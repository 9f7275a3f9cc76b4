package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An executor that owns its queue ({@code WorkQueue.Builder.buildExecutorService()}) does not
 * report itself terminated when it is shut down and its last task has finished: it reports
 * so only after a {@code system_unbound} item has destroyed its queue
 * ({@code WorkQueueExecutorService.tryTerminate} queues the destroy; {@code markTerminated}
 * runs after {@code destroyOwned}). That item needs a free worker of the runtime, so the
 * executor's termination waits for unrelated work: with every worker busy (here the runtime's
 * {@code maxWorkers(2)} cap held by two long items of another queue) an executor that never
 * had a task stays un-terminated for as long as they run.
 *
 * <p>Contract: {@code ExecutorService.awaitTermination} "blocks until all tasks have completed
 * execution after a shutdown request"; {@code isTerminated} "returns true if all tasks have
 * completed following shut down". The builder's javadoc: "once the executor has terminated
 * (shutdown, and its last task finished) the queue is destroyed", and the README: the owned
 * queue "is destroyed ... once the executor has terminated" — termination first, the destroy
 * after, not the other way round. A {@code ThreadPoolExecutor} shut down with no task is
 * terminated at once.
 *
 * <p>Actual: {@code awaitTermination(5 s)} returns false (and {@code isTerminated()} stays
 * false) although the executor was shut down and never ran a task.
 */
@Timeout(60)
class Break6ExOwnedTerminationTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2));
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() {
        release.countDown();
        t.close();
    }

    @Test
    void anIdleOwnedExecutorTerminatesAtShutdownWhileOtherWorkKeepsTheWorkersBusy() throws Exception {
        ExecutorService reference = Executors.newFixedThreadPool(2);
        reference.shutdown();
        assertThat(reference.awaitTermination(5, SECONDS)).as("ThreadPoolExecutor").isTrue();

        WorkQueue busy = t.queue("busy").unbound().build();
        CountDownLatch started = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            busy.queue(new Work("long-" + i, () -> {
                started.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        assertThat(started.await(10, SECONDS)).as("both workers busy").isTrue();

        ExecutorService owned = t.queue("owned").unbound().buildExecutorService();
        owned.shutdown();
        assertThat(owned.awaitTermination(5, SECONDS)).as("owned executor, shut down with no task").isTrue();
        assertThat(owned.isTerminated()).isTrue();
    }
}
