package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
/**
 * {@code close()} while another thread's {@code destroy()} of a frozen freezable queue waits for
 * the thaw.
 *
 * <p>Steps: {@code freeze()}; {@code queue(held)} on the freezable queue returns true (held by
 * the freeze); a thread calls {@code q.destroy()}, which waits for the thaw (documented:
 * "A frozen queue's destroy drains it, so it returns only after thaw()"); then
 * {@code rt.close()}.
 *
 * <p>Expected (README "Lifecycle and operations" / {@code WorkQueues.close()} javadoc, faults table
 * row "WorkQueues.close() while work is running": close "drains and destroys every queue ... nothing
 * lost"; {@code WorkQueue.drain()} javadoc: "WorkQueues.close() thaws first"; {@code destroy()}
 * javadoc: "a call made while another thread's destroy() runs waits for that one to end"): close
 * thaws, the held item runs once, the other thread's {@code destroy()} returns, close returns.
 *
 * <p>Actual: {@code close()} returns at once (0 ms, far inside its 3 s timeout, no timeout report),
 * the runtime reads not frozen, yet the accepted item never runs and is never reported (still
 * pending), and the other thread's {@code destroy()} stays parked in its drain for good.
 * A plain {@code thaw()} instead of {@code close()} releases the same destroy (second test,
 * which passes).
 */
class Break6BbCloseDuringFrozenDestroyTest {

    private static String stack(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) sb.append("\n  ").append(e);
        return sb.toString();
    }

    /** Up to five rounds (the defect shows in about four runs of five); fails at the first round that shows it. */
    @Test
    void destroyOfAFrozenQueueWaitingForTheThawEndsWhenCloseThaws() throws Exception {
        for (int round = 0; round < 5; round++) {
            oneRound(round);
        }
    }

    private void oneRound(int round) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        List<String> reports = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(3))
                .reportListener(reports::add)
                .uncaughtWorkHandler((q, w, e) -> errors.add(e)).build());
        WorkQueue q = rt.queueBuilder("frz").freezable().build();
        AtomicInteger runs = new AtomicInteger();
        Work held = new Work("held", runs::incrementAndGet);
        rt.freeze();
        assertTrue(q.queue(held));
        Thread destroyer = TestRuntime.startAndAwaitParked("destroyer", q::destroy);
        assertTrue(destroyer.isAlive(), "destroy of a frozen queue waits for the thaw");
        long t0 = System.nanoTime();
        rt.close();
        long closeMs = (System.nanoTime() - t0) / 1_000_000;
        destroyer.join(4_000);
        String where = destroyer.isAlive() ? stack(destroyer) : "";
        String state = "round " + round + ": close took " + closeMs + " ms, held item ran " + runs.get()
                + " times, reported " + errors.size() + ", pending=" + held.isPending() + ", frozen=" + rt.isFrozen();
        assertAll(
            () -> assertFalse(destroyer.isAlive(), "destroy() still blocked 4 s after close() returned (" + state + "):" + where),
            () -> assertEquals(1, runs.get() + errors.size(), "the accepted item neither ran nor was reported (" + state + ")"));
    }

    @Test
    void destroyOfAFrozenQueueWaitingForTheThawEndsAtTheThaw() throws Exception {
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(3)).build());
        try {
            WorkQueue q = rt.queueBuilder("frz").freezable().build();
            AtomicInteger runs = new AtomicInteger();
            Work held = new Work("held", runs::incrementAndGet);
            rt.freeze();
            assertTrue(q.queue(held));
            Thread destroyer = TestRuntime.startAndAwaitParked("destroyer", q::destroy);
            assertTrue(destroyer.isAlive(), "destroy of a frozen queue waits for the thaw");
            rt.thaw();
            destroyer.join(8_000);
            String where = destroyer.isAlive() ? stack(destroyer) : "";
            assertFalse(destroyer.isAlive(), "destroy() still blocked 8 s after thaw() (held item ran " + runs.get()
                    + " times, pending=" + held.isPending() + "):" + where);
            assertEquals(1, runs.get());
        } finally {
            rt.close();
        }
    }
}
