package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * close(): "Items still queued run on the remaining (daemon) threads after their current items
 * end." An item accepted by queue() before close() timed out, landed in a pool whose idle workers
 * were woken for it but had not yet taken it (held at hook {@code worker.spin}) when close()
 * stopped the pool. Before: the woken worker saw the pool dying and exited at once, leaving the item in a pool with no worker, never run and never
 * reported (its flushes waiting for ever; seen in 4 closes of 40 with flushAsync loops racing a
 * 3 ms close timeout). Now a dying pool's worker lands every inbox and runs what is left first.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break10ItemsLeftAtCloseTimeoutTest {
    @AfterEach
    void noHook() {
        TestHooks.install(null);
    }

    @Test
    void anItemLeftInAnIdlePoolAtACloseTimeoutStillRuns() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofMillis(300))
                .reportListener(reports::add).build());
        WorkQueue q = rt.queueBuilder("q").build();
        // pool 0's workers (its first and its spare): each is held where it first spins before
        // parking, once idle after the warm-up item, until close() has returned; the item lands
        // in pool 0 meanwhile
        CountDownLatch closeReturned = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("worker.spin") && Thread.currentThread().getName().contains("/kworker/0:")) {
                try {
                    closeReturned.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        // pool 0 gets its worker, idle from now on
        assertThat(q.queueOn(0, new Work("warm-up", () -> { }))).isTrue();
        assertThat(q.flush(Duration.ofSeconds(30))).isTrue();
        // pool 1: an item that outlasts the close timeout (it keeps waiting through the interrupt)
        CountDownLatch blockerStarted = new CountDownLatch(1);
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        assertThat(q.queueOn(1, new Work("blocker", () -> {
            blockerStarted.countDown();
            boolean done = false;
            while (!done) {
                try {
                    done = releaseBlocker.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    // close()'s timeout interrupts it: it goes on waiting
                }
            }
        }))).isTrue();
        assertThat(blockerStarted.await(30, TimeUnit.SECONDS)).isTrue();
        CountDownLatch ran = new CountDownLatch(1);
        Work item = new Work("item", ran::countDown);
        boolean[] accepted = {q.queueOn(0, item)};
        rt.close(); // times out on the blocker: queues refuse new items, pools stop
        closeReturned.countDown();
        TestHooks.install(null);
        assertThat(accepted[0]).as("queue() accepted the item").isTrue();
        boolean itemRan = ran.await(30, TimeUnit.SECONDS);
        releaseBlocker.countDown();
        assertThat(itemRan).as("the accepted item ran after close() timed out (reports: %s)", reports).isTrue();
    }
}
