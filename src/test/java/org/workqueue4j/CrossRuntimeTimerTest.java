package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * One item re-armed between two runtimes' timers ({@code modDelayed} on a queue of the other
 * runtime) while another caller holds the item's old timer binding: that caller must act on the
 * timer whose heap holds the item, and never on a place in another heap.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CrossRuntimeTimerTest {
    private final TestRuntime a = new TestRuntime(2);
    private final TestRuntime b = new TestRuntime(2);

    @AfterEach
    void close() {
        TestHooks.install(null);
        a.close();
        b.close();
    }

    /**
     * A cancel reads the item's timer (runtime A's); before it takes that timer's lock, the item
     * is re-armed onto runtime B's timer. The cancel then found the item's index, a place in B's
     * heap, and removed whatever sat at that place in A's heap: a bystander armed for hours on A
     * was left pending on no heap (its own cancel spun for ever), and the moved item, whose TIMER
     * bit the cancel cleared, stayed in B's heap.
     */
    @Test
    void aCancelHoldingTheOldTimerLeavesTheOtherHeapAlone() throws Exception {
        WorkQueue qa = a.queue("qa").build();
        WorkQueue qb = b.queue("qb").build();
        List<DelayedWork> bystanders = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            DelayedWork x = new DelayedWork("onA" + i, () -> { });
            assertThat(qa.queueDelayed(x, Duration.ofHours(1 + i))).isTrue();
            bystanders.add(x);
        }
        for (int i = 0; i < 2; i++) {
            DelayedWork y = new DelayedWork("onB" + i, () -> { });
            assertThat(qb.queueDelayed(y, Duration.ofHours(1 + i))).isTrue();
            bystanders.add(y);
        }
        DelayedWork m = new DelayedWork("mover", () -> { });
        assertThat(qa.queueDelayed(m, Duration.ofHours(9))).isTrue(); // last in A's heap (index 6)
        // moved, it is last in B's heap: index 2, a bystander's place in A's heap
        AtomicBoolean moved = new AtomicBoolean();
        TestHooks.install((p, s) -> {
            if (p.equals("grab.timerRead") && moved.compareAndSet(false, true)) {
                // the cancel holds A's timer; the item moves to B's (a re-arm, on this thread)
                assertThat(qb.modDelayed(m, Duration.ofHours(10))).isTrue();
            }
        });
        assertThat(m.cancel()).as("the moved item was pending on B: cancelled").isTrue();
        TestHooks.install(null);
        assertThat(moved).isTrue();
        assertThat(m.isPending()).isFalse();
        for (DelayedWork x : bystanders) {
            assertThat(x.isPending()).as("%s still pending", x.name()).isTrue();
            FutureTask<Boolean> c = new FutureTask<>(x::cancel);
            Thread th = new Thread(c, "cancel-" + x.name());
            th.setDaemon(true); // a cancel of an item lost from every heap spins for ever
            th.start();
            assertThat(c.get(10, TimeUnit.SECONDS)).as("%s was armed: cancel() says so", x.name()).isTrue();
        }
        assertThat(a.errorWork).isEmpty();
        assertThat(b.errorWork).isEmpty();
    }

    /** The same with the two runtimes' roles reversed and the item moving back and forth. */
    @Test
    void itemsMovedBackAndForthLeaveEveryBystanderArmed() throws Exception {
        WorkQueue qa = a.queue("qa").build();
        WorkQueue qb = b.queue("qb").build();
        List<DelayedWork> bystanders = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            DelayedWork x = new DelayedWork("onA" + i, () -> { });
            assertThat(qa.queueDelayed(x, Duration.ofHours(1 + i))).isTrue();
            bystanders.add(x);
            DelayedWork y = new DelayedWork("onB" + i, () -> { });
            assertThat(qb.queueDelayed(y, Duration.ofHours(1 + i))).isTrue();
            bystanders.add(y);
        }
        DelayedWork m = new DelayedWork("mover", () -> { });
        assertThat(qb.queueDelayed(m, Duration.ofHours(9))).isTrue();
        int[] moves = {0};
        TestHooks.install((p, s) -> {
            if (p.equals("grab.timerRead") && s == m && moves[0] < 5) {
                moves[0]++;
                WorkQueue other = moves[0] % 2 == 1 ? qa : qb;
                other.modDelayed(m, Duration.ofHours(10 + moves[0])); // re-enters: a nested move, up to 5 deep
            }
        });
        assertThat(m.cancel()).isTrue();
        TestHooks.install(null);
        assertThat(m.isPending()).isFalse();
        for (DelayedWork x : bystanders) {
            FutureTask<Boolean> c = new FutureTask<>(x::cancel);
            Thread th = new Thread(c, "cancel-" + x.name());
            th.setDaemon(true);
            th.start();
            assertThat(c.get(10, TimeUnit.SECONDS)).as("%s was armed: cancel() says so", x.name()).isTrue();
        }
    }
}
