package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/** freeze() waits for running items without interruption and never parks with an interrupt pending. */
class FreezeInterruptTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.rt.thaw();
        t.close();
    }

    /*
     * freeze() polls (parkNanos, 1 ms) until the frozen queues' running items have finished. A
     * caller with its interrupt status set made every park return at once: the poll spun on a
     * CPU for as long as the items ran. Before the fix the hook saw the interrupt pending at
     * every poll ([true, true, true]).
     */
    @Test
    void anInterruptedFreezeParksWithoutTheInterruptAndKeepsIt() throws InterruptedException {
        WorkQueue q = t.queue("freeze-interrupted").freezable().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("running", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
        List<Boolean> interruptAtPoll = new CopyOnWriteArrayList<>();
        TestHooks.install((point, subject) -> {
            if (point.equals("freeze.poll")) {
                interruptAtPoll.add(Thread.currentThread().isInterrupted());
                if (interruptAtPoll.size() == 3) {
                    release.countDown(); // three polls seen: let the running item end
                }
            }
        });
        AtomicBoolean interruptedOnReturn = new AtomicBoolean();
        Thread freezer = new Thread(() -> {
            Thread.currentThread().interrupt();
            t.rt.freeze();
            interruptedOnReturn.set(Thread.currentThread().isInterrupted());
        }, "freezer");
        freezer.start();
        freezer.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(freezer.isAlive()).as("freeze() returned").isFalse();
        assertThat(interruptAtPoll).as("the interrupt status at each poll's park").hasSizeGreaterThanOrEqualTo(3)
                .containsOnly(false);
        assertThat(interruptedOnReturn).as("the interrupt status is kept").isTrue();
    }
}
