package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code WorkQueue.flush(Duration.ZERO)} of a queue whose only item has finished (its
 * {@code Work.flush()} returned; nothing else was ever queued) returns false, when an earlier
 * zero-time flush gave up while that item ran.
 *
 * <p>Contract ({@code WorkQueue.flush(Duration)}): "@return true if every item queued before
 * the call has finished, false if the timeout elapsed first"; "zero or negative: do not wait".
 * Every item queued before the call has finished: the answer must be true. The README row of
 * the zero-time change: "a wait with no time left cannot block", results unchanged.
 *
 * <p>Expected: true every time. Actual: false in some rounds of 300 (2 to 36 rounds in each of
 * 5 runs here), and a second zero-time flush right after is false too. Found by a Break7HeldTest
 * probe in a suite run. Not caused by the zero-time change: it fails the same way at 68e37f7
 * (before it). A likely cause, not verified: the {@code Work.flush()} barrier wakes its waiter
 * from its own run, before the pwq's in-flight count for the queue's flush colour drops, so a
 * queue flush that cannot wait sees the round unfinished for a moment after the item has
 * finished (the barrier is an engine node, not an item the contract counts).
 */
@Timeout(60)
class Break7ZeroFlushIdleTest {
    private WorkQueues rt;

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    @Test
    @org.junit.jupiter.api.Disabled("open: the item flush's barrier wakes its waiter when it runs, before its worker drops"
            + " the barrier's count in its colour (as the kernel's barrier completes before pwq_dec_nr_in_flight), so a"
            + " zero-time queue flush made right after Work.flush() returned can find the older round one decrement short."
            + " Documented in the README's faults table")
    void aZeroTimeFlushOfAQueueWhoseItemsAllFinishedReturnsTrue() throws Exception {
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build());
        List<String> wrong = new ArrayList<>();
        for (int round = 0; round < 300; round++) {
            WorkQueue q = rt.queueBuilder("q" + round).build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            Work w = new Work("w", () -> { started.countDown(); WorkQueueCoreTest.await(go); });
            q.queue(w);
            started.await();
            boolean whileRunning = q.flush(Duration.ZERO); // false: w runs
            go.countDown();
            w.flush();
            boolean after = q.flush(Duration.ZERO);
            if (whileRunning || !after) {
                wrong.add("round " + round + ": while running " + whileRunning + ", after " + after
                        + ", a second zero flush " + q.flush(Duration.ZERO));
            }
            q.destroy();
        }
        assertThat(wrong).as("of 300 rounds").isEmpty();
    }
}
