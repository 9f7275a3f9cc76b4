package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lost wake-up safety nets (a producer's signal re-sets the pool's hint after a failed
 * retry; a flush kicks the pools it waits on; the monitor's scan kicks a pool with pending
 * items and no worker running): an Error between "item pushed" and "worker woken" must not leave
 * an item that a flush of that very item waits for in vain. The Error is a StackOverflowError at
 * every depth of a producer's stack (one fresh item per depth), and the runtime's monitor is
 * idle (it parks up to the watchdog threshold, 30 s, when nothing is busy): each item that is
 * still pending afterwards must be run within a bound by its own {@code Work.flush}, which
 * must not count on a monitor tick.
 *
 * <p>Held on the code it was written against (the signal's failed wake, with the deeper stack
 * probe, overflows before the pool lock, leaving the item in the inbox with the hint set, and
 * the item's flush lands the inbox and wakes a worker). It can fail: with Barrier's landing made
 * silent ({@code landHintedInboxes()} instead of {@code landInboxesFor(n)}) the item's flush
 * waited in vain.
 */
@Timeout(120)
class SafetyNetAttackTest {
    private static final int SWEEPS = 20;
    private static final Duration ITEM_BOUND = Duration.ofSeconds(5);

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), t::close, "close() blocked");
    }

    @Test
    @DisplayName("after a StackOverflowError at any point of queue()'s signal, the item's own flush runs it")
    void itemFlushRunsAnItemWhoseWakeAnOverflowCutShort() throws InterruptedException {
        WorkQueue q = t.queue("soe-signal").build();
        AtomicInteger runs = new AtomicInteger();
        q.queue(new Work("warm-up", runs::incrementAndGet));
        q.flush();
        List<String> stranded = new ArrayList<>();
        int queued = 0;
        for (int s = 0; s < SWEEPS; s++) {
            List<Work> items = new ArrayList<>();
            for (int i = 0; i < 6000; i++) {
                items.add(new Work("s" + s + "-" + i, runs::incrementAndGet));
            }
            boolean[] ok = new boolean[items.size()];
            sweep(i -> {
                if (i < ok.length && q.queue(items.get(i))) {
                    ok[i] = true;
                }
            }, 192 * 1024 + s * 1032L);
            for (int i = 0; i < ok.length; i++) {
                Work w = items.get(i);
                if (ok[i]) {
                    queued++;
                }
                if (w.isPending() && !w.flush(ITEM_BOUND)) {
                    stranded.add(w.name());
                    break; // one is enough: each costs the whole bound
                }
            }
            if (!stranded.isEmpty()) {
                break;
            }
            q.flush(); // the queue flush's own safety net kicks the pool: the next sweep starts clean
        }
        assertThat(queued).as("items queued by the sweeps").isPositive();
        assertThat(stranded).as("items whose own flush waited %s in vain (pending, on the worklist, no worker woken)",
                ITEM_BOUND).isEmpty();
    }

    private static void sweep(IntConsumer op, long stackSize) throws InterruptedException {
        Thread th = new Thread(null, () -> StackProbeAttackTest.descend(op, new int[1], new AtomicReference<>()), "soe-producer",
                stackSize);
        th.start();
        th.join(30_000);
        assertThat(th.isAlive()).as("the producer's sweep returned").isFalse();
    }
}
