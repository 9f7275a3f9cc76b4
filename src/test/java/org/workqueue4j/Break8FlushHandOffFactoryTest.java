package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * 0d0d53a: a bounded flusher hands other callers' finished {@code flushAsync()} futures to a new
 * runtime thread made by the user's {@code ThreadFactory}. Nothing checks that this thread runs
 * the {@code Runnable} it was given.
 *
 * <p>Contract (README, flushAsync): the future "completes when the condition of {@code flush()}
 * holds"; README faults row 1957: a factory whose thread ends without running the Runnable is
 * detected and worked around for workers (monitor reports and replaces), and for the runtime
 * threads (README 1415: "a factory's thread that never runs its body refuses the queue"); the
 * change's javadoc (FlushColors.completeElsewhere): "A thread that cannot be made or started
 * leaves them to this thread, rather than incomplete".
 *
 * <p>Expected: the future registered while an interruptible flusher held the flip mutex is
 * complete once that flusher and a later {@code flush()} of the (empty) queue have returned,
 * also with a factory whose thread ends without running its Runnable (as for every other thread
 * the runtime makes, the library does not leave work to it unchecked). Actual: the future never
 * completes: its completion was handed to a thread that ran nothing, and nothing looks again
 * (the factory made exactly one thread in the window: the flushAsync/q one). Failed 4/4 runs.
 */
@Timeout(60)
class Break8FlushHandOffFactoryTest {
    @Test
    void aFactoryThreadThatNeverRunsItsRunnableLeavesAFinishedFlushAsyncFutureIncompleteForGood() throws Exception {
        AtomicBoolean drop = new AtomicBoolean();
        AtomicInteger dropped = new AtomicInteger();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).threadFactory(r -> {
            if (drop.get()) {
                dropped.incrementAndGet();
                return new Thread(() -> { }); // ends without running r
            }
            return new Thread(r);
        }).build());
        try {
            WorkQueue q = rt.queueBuilder("q").build();
            CountDownLatch atFlip = new CountDownLatch(1);
            CountDownLatch goFlip = new CountDownLatch(1);
            TestHooks.install((point, subject) -> {
                if (point.equals("flush.flip") && Thread.currentThread().getName().equals("interruptible-flusher")) {
                    atFlip.countDown();
                    try {
                        goFlip.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            Thread b = new Thread(() -> {
                try {
                    q.flushInterruptibly();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "interruptible-flusher");
            CompletableFuture<Void> f;
            try {
                b.start();
                assertThat(atFlip.await(10, TimeUnit.SECONDS)).as("flusher at the flip").isTrue();
                f = q.flushAsync(); // registered while b holds the flip mutex: b finishes it
                drop.set(true);
            } finally {
                TestHooks.install(null);
                goFlip.countDown();
            }
            b.join(10_000);
            assertThat(b.isAlive()).isFalse();
            q.flush(); // the queue is empty: every flush condition holds
            q.flush(java.time.Duration.ofSeconds(1));
            boolean done;
            try {
                f.get(5, TimeUnit.SECONDS);
                done = true;
            } catch (TimeoutException e) {
                done = false;
            }
            assertThat(done).as("flushAsync() future of an empty queue whose flush finished (threads made by the"
                    + " factory meanwhile that ran nothing: " + dropped.get() + ")").isTrue();
        } finally {
            drop.set(false);
            rt.close();
        }
    }
}
