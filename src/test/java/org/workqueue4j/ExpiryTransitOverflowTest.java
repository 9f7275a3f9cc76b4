package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A flush that fires a delayed item now lists the node in the timer's transit list until it
 * has landed or been released. A StackOverflowError anywhere on that path, at every depth of a
 * caller's stack, must not leave an entry behind (a destroy of the queue would wait for it for
 * ever) nor a firing mark (a cancelSync would wait for it for ever).
 */
@Timeout(300)
class ExpiryTransitOverflowTest {
    private static final int SWEEPS = 30;
    private static final Duration BOUND = Duration.ofSeconds(30);

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        assertTimeoutPreemptively(BOUND, t::close, "close() blocked");
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside a delayed item's flush that fires and lands it leaves no transit entry or firing mark")
    void firingFlushThatLandsLeavesNoTransitEntry() throws Exception {
        WorkQueue q = t.queue("soe-transit-land").build();
        DelayedWork d = new DelayedWork("d", () -> { });
        q.queueDelayed(d, Duration.ofHours(1));
        d.flush();
        sweepAll(i -> {
            q.queueDelayed(d, Duration.ofHours(1));
            flushNoWait(d);
        });
        assertClean(q, d);
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside a delayed item's flush whose expiry a draining queue refuses leaves no transit entry or firing mark")
    void firingFlushThatIsRefusedLeavesNoTransitEntry() throws Exception {
        WorkQueue q = t.queue("soe-transit-refused").build();
        DelayedWork d = new DelayedWork("d", () -> { });
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        q.queue(new Work("gate", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
        Thread drainer = new Thread(q::drain, "drainer");
        drainer.start();
        // the queue refuses an outside insert once its drain has begun
        assertTimeoutPreemptively(BOUND, () -> {
            Work probe = new Work("probe", () -> { });
            for (;;) {
                try {
                    q.queue(probe);
                    probe.flush(); // not draining yet: it ran (the gate holds one worker only)
                } catch (IllegalStateException draining) {
                    break;
                }
                Thread.yield();
            }
        });
        sweepAll(i -> {
            q.queueDelayed(d, Duration.ofHours(1));
            flushNoWait(d);
        });
        release.countDown();
        drainer.join(BOUND.toMillis());
        assertClean(q, d);
        assertThat(t.errors).as("some refused expiries were reported").isNotEmpty();
    }

    private static void flushNoWait(DelayedWork d) {
        try {
            d.flush(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sweepAll(IntConsumer op) throws InterruptedException {
        AtomicReference<StackOverflowError> last = new AtomicReference<>();
        for (int s = 0; s < SWEEPS; s++) {
            long stack = 192 * 1024 + s * 1032L;
            int[] attempts = {0};
            Thread th = new Thread(null, () -> StackProbeAttackTest.descend(op, attempts, last), "soe-prober", stack);
            th.start();
            th.join(BOUND.toMillis());
            assertThat(th.isAlive()).as("sweep %d returned", s).isFalse();
        }
    }

    /** No transit entry and no firing mark left; a destroy of the queue and a cancelSync of the item return. */
    private void assertClean(WorkQueue q, DelayedWork d) throws Exception {
        // A bounded flush's refused fire is reported by the timer thread, which holds the item's
        // mark until then: a blocking flush waits for those reports (a mark left behind for good
        // would keep it waiting: the timeout fails the test).
        assertTimeoutPreemptively(BOUND, () -> {
            d.flush();
        }, "flush() did not return");
        Object timer = StackProbeAttackTest.field(t.rt.engine(), "timer");
        assertThat((int) StackProbeAttackTest.field(timer, "transitCount")).as("transit entries left behind").isZero();
        assertThat(d.node.firedElsewhere()).as("a firing mark left behind").isFalse();
        assertTimeoutPreemptively(BOUND, () -> {
            d.cancelSync();
            Thread destroyer = new Thread(q::destroy, "destroyer");
            destroyer.start();
            destroyer.join();
        }, "cancelSync() or destroy() did not return");
        assertThat(d.isPending()).isFalse();
    }
}
