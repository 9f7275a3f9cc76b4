package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * A memReclaim queue's items run on its rescuer (the worker cap leaves their unbound pool with no
 * worker) when close() gives up. The pool was taken for deserted (stopped, no worker, none being
 * made) although the rescuer still ran items in it and would run those left: they were reported
 * as never run instead (close() says items still queued run on the threads left), and a flush
 * linked behind a pending instance of the item the rescuer ran returned while that run went on.
 * A pool is deserted now only once no rescuer may still come for one of its pwqs; the rescuer's
 * exit delivers what is left.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break11DesertedRescuerTest {
    private final CountDownLatch releaseX = new CountDownLatch(1);
    private final CountDownLatch releaseHog = new CountDownLatch(1);
    private final List<String> reported = new CopyOnWriteArrayList<>();

    @AfterEach
    void cleanUp() {
        TestHooks.install(null);
        releaseX.countDown();
        releaseHog.countDown();
    }

    private static void awaitIgnoringInterrupts(CountDownLatch l) {
        boolean done = false;
        while (!done) {
            try {
                done = l.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                // close()'s interrupt: keep waiting
            }
        }
    }

    /**
     * A runtime whose worker cap (2) is held by two CPU-intensive items that outlast close(): a
     * memReclaim unbound queue's items then run on its rescuer only.
     */
    private WorkQueues runtimeAtTheCap(String name) throws InterruptedException {
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().name(name).cpus(1).maxWorkers(2)
                .closeTimeout(Duration.ofMillis(300))
                .uncaughtWorkHandler((q, w, e) -> reported.add(w == null ? "?" : w.name())).build());
        WorkQueue hog = rt.queueBuilder("hog").cpuIntensive().build();
        CountDownLatch hogStarted = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            assertThat(hog.queue(new Work("hog" + i, () -> {
                hogStarted.countDown();
                awaitIgnoringInterrupts(releaseHog);
            }))).isTrue();
        }
        assertThat(hogStarted.await(30, TimeUnit.SECONDS)).isTrue();
        return rt;
    }

    @Test
    void flushOfAnItemStillRunningOnTheRescuerDoesNotReturnEarly() throws Exception {
        WorkQueues rt = runtimeAtTheCap("rescued");
        WorkQueue q = rt.queueBuilder("q").unbound().memReclaim().build();

        CountDownLatch xStarted = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work[] x = new Work[1];
        x[0] = new Work("X", () -> {
            if (runs.incrementAndGet() == 1) {
                assertThat(q.queue(x[0])).isTrue(); // chained: pending again while this run goes on
                xStarted.countDown();
                awaitIgnoringInterrupts(releaseX);
            }
        });
        assertThat(q.queue(x[0])).isTrue();
        assertThat(xStarted.await(30, TimeUnit.SECONDS)).as("X runs (on the rescuer)").isTrue();

        CountDownLatch linked = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.barrierLinked")) {
                linked.countDown();
            }
        });
        CountDownLatch flushReturned = new CountDownLatch(1);
        Thread flusher = new Thread(() -> {
            x[0].flush();
            flushReturned.countDown();
        }, "flusher");
        flusher.start();
        assertThat(linked.await(30, TimeUnit.SECONDS)).isTrue();

        rt.close(); // times out: the hog and X keep running
        // close()'s own delivery took X's pending instance (reported it) and ran the flush's
        // barrier, on this thread, before: the flush returned while the run it waited for went on
        assertThat(reported).as("nothing reported while the rescuer runs X").isEmpty();
        assertThat(flushReturned.getCount()).as("X.flush() still waits for the run that began before it").isEqualTo(1);
        releaseX.countDown();
        assertThat(flushReturned.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(runs).as("the pending instance ran on the rescuer too").hasValue(2);
    }

    /** Items queued behind X on the rescued pool before close(): close() says they run on the threads left (the rescuer is one). */
    @Test
    void itemsQueuedBehindTheRescuersItemStillRunOnIt() throws Exception {
        WorkQueues rt = runtimeAtTheCap("rescued2");
        WorkQueue q = rt.queueBuilder("q").unbound().memReclaim().build();
        CountDownLatch xStarted = new CountDownLatch(1);
        assertThat(q.queue(new Work("X1", () -> {
            xStarted.countDown();
            awaitIgnoringInterrupts(releaseX);
        }))).isTrue();
        assertThat(xStarted.await(30, TimeUnit.SECONDS)).isTrue();
        CountDownLatch x2Ran = new CountDownLatch(1);
        Work x2 = new Work("X2", x2Ran::countDown);
        assertThat(q.queue(x2)).isTrue();
        rt.close();
        releaseX.countDown();
        boolean ran = x2Ran.await(30, TimeUnit.SECONDS);
        assertThat(ran).as("X2, queued before close() behind X1 on the rescuer that is still alive, runs (reported instead: %s)", reported).isTrue();
    }

    /**
     * A plain queue's item in the pool where a memReclaim queue's rescuer is stuck in an item:
     * the rescuer never runs another queue's items, so the plain item is reported as never run
     * at close(), and its flushes return. The first version of the rescuer rule (the whole pool
     * left to a rescuer that may still come) held it, pending, with its flushes, until the
     * rescuer's item ended, for ever if it never did.
     */
    @Test
    void anotherQueuesItemInTheRescuersPoolIsReportedAtClose() throws Exception {
        WorkQueues rt = runtimeAtTheCap("shared");
        WorkQueue m = rt.queueBuilder("m").unbound().memReclaim().build();
        WorkQueue p = rt.queueBuilder("p").unbound().build();
        CountDownLatch xStarted = new CountDownLatch(1);
        assertThat(m.queue(new Work("X", () -> {
            xStarted.countDown();
            awaitIgnoringInterrupts(releaseX);
        }))).isTrue();
        assertThat(xStarted.await(30, TimeUnit.SECONDS)).as("X runs on m's rescuer").isTrue();
        AtomicInteger yRuns = new AtomicInteger();
        Work y = new Work("Y", yRuns::incrementAndGet);
        assertThat(p.queue(y)).isTrue();
        java.util.concurrent.CompletableFuture<Boolean> flushed = y.flushAsync();
        rt.close(); // times out; its own delivery takes Y
        assertThat(reported).as("Y reported by close() while X still runs").containsExactly("Y");
        assertThat(y.isPending()).isFalse();
        assertThat(flushed.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(y.flush(Duration.ofSeconds(30))).isTrue();
        assertThat(yRuns).hasValue(0);
    }
}
