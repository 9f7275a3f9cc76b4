package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * queue()'s lock-free fast path claimed PENDING with no stack probe. While its queue
 * drains (or is destroyed) the inbox is closed, so the claim goes on to insert(), whose pool-lock
 * probe overflows by design ("strikes here, with nothing claimed") -- but this claim is already
 * set, and the catch that releases it (clearState, a VarHandle call) overflows again at the
 * claiming frame. The item is left PENDING on no list for good: every later queue() returns
 * false, and cancel() spins in Pending.grab for ever. Chained work queued by an item of the
 * draining queue, at every depth of its worker's stack (failed 11 runs of 15). The fast path
 * now leaves a closed inbox to the locked path, which claims behind its probe.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class Break11FastPathOverflowTest {
    @AfterEach
    void cleanUp() {
        TestHooks.install(null);
    }

    @Test
    void chainedWorkAtEveryDepthDuringADrainLeavesNoItemInTransit() throws Exception {
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().name("fastpath-soe").cpus(1)
                .reportListener(s -> { }).uncaughtWorkHandler((queue, work, error) -> { }).build());
        WorkQueue q = rt.queueBuilder("q").build();
        Work w = new Work("chained", () -> { });
        // Warm: the queue, release and run paths' VarHandle call sites linked first (cold, the
        // catch's first release links getAndBitwiseAnd, far deeper: it fails every run then).
        Work warm = new Work("warm", () -> { });
        q.queue(warm);
        warm.flush();
        warm.cancel();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch draining = new CountDownLatch(1);
        CountDownLatch swept = new CountDownLatch(1);
        AtomicInteger overflows = new AtomicInteger();
        AtomicReference<StackOverflowError> stuckBy = new AtomicReference<>();
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.waiting")) {
                draining.countDown(); // drain() began: DRAINING set, inboxes closed, its flush waits for the sweeper
            }
        });
        assertThat(q.queue(new Work("sweeper", () -> {
            started.countDown();
            try {
                draining.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            StackProbeAttackTest.descend(i -> {
                boolean wasPending = w.isPending();
                try {
                    q.queue(w); // chained work: accepted while draining
                } catch (StackOverflowError e) {
                    overflows.incrementAndGet();
                    if (!wasPending && w.isPending() && stuckBy.get() == null) {
                        stuckBy.set(e); // this attempt's claim stayed set (an instance may still have landed: checked below)
                    }
                    throw e;
                }
            }, new int[1], new AtomicReference<>());
            swept.countDown();
        }))).isTrue();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        Thread drainer = new Thread(q::drain, "drainer");
        drainer.start();
        assertThat(swept.await(120, TimeUnit.SECONDS)).isTrue();
        drainer.join(30_000);
        Thread canceller = new Thread(w::cancel, "canceller");
        canceller.setDaemon(true);
        canceller.start();
        canceller.join(30_000);
        StackOverflowError e = stuckBy.get();
        assertThat(canceller.isAlive())
                .as("cancel() of the item spins in Pending.grab (%s overflows; the one that left it claimed struck at %s); cancel is at %s",
                        overflows, e == null ? "?" : Arrays.toString(Arrays.copyOf(e.getStackTrace(), Math.min(60, e.getStackTrace().length))),
                        Arrays.toString(Arrays.copyOf(canceller.getStackTrace(), 3)))
                .isFalse();
        assertThat(w.isPending()).isFalse();
        assertThat(q.queue(w)).as("the item can be queued again").isTrue();
        rt.close();
    }
}
