package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * modDelayed racing disable()/cancel() on an armed item. Every armed instance ends in a run, a
 * cancel or disable that returned true, or a report; modDelayed returning true keeps the instance
 * (re-armed); modDelayed returning false says "it was idle and is now queued (or disabled, and
 * so not queued)".
 */
@Timeout(120)
class Break4BbModDelayedVsDisableTest {
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5))
            .uncaughtWorkHandler((q, w, e) -> reports.add((w == null ? "null" : w.name()) + ": " + e)).build());

    @AfterEach
    void close() {
        rt.close();
    }

    private static final class Spin {
        final AtomicInteger go = new AtomicInteger();
        final AtomicInteger arrived = new AtomicInteger();

        void await(int round) {
            arrived.incrementAndGet();
            while (go.get() != round) {
                Thread.onSpinWait();
            }
        }
    }

    private void race(boolean useDisable) throws Exception {
        WorkQueue q = rt.queueBuilder("mvd-" + useDisable).build();
        AtomicInteger runs = new AtomicInteger();
        int rounds = 1000;
        DelayedWork[] items = new DelayedWork[rounds];
        for (int i = 0; i < rounds; i++) {
            items[i] = new DelayedWork("m" + i, runs::incrementAndGet);
        }
        Spin spin = new Spin();
        AtomicReference<Throwable> err = new AtomicReference<>();
        boolean[] r1 = new boolean[rounds];
        Thread a = new Thread(() -> {
            try {
                for (int i = 1; i < rounds; i++) {
                    spin.await(i);
                    r1[i] = q.modDelayed(items[i], Duration.ofHours(1));
                }
            } catch (Throwable e) {
                err.set(e);
            }
        }, "moddelayed");
        a.start();
        StringBuilder lost = new StringBuilder();
        int lostCount = 0;
        for (int i = 1; i < rounds; i++) {
            DelayedWork d = items[i];
            assertTrue(q.queueDelayed(d, Duration.ofHours(1)));
            while (spin.arrived.get() < i) {
                Thread.onSpinWait();
            }
            spin.go.set(i);
            boolean r2 = useDisable ? d.disable() : d.cancel();
            a.join(0, 1); // no-op; ordering comes from the loop below
            while (a.isAlive() && spin.arrived.get() == i && a.getState() == Thread.State.RUNNABLE && !doneRound(spin, i)) {
                Thread.onSpinWait();
            }
            // wait for A to finish round i: it arrives at round i+1 (or ends)
            while (a.isAlive() && spin.arrived.get() <= i) {
                Thread.onSpinWait();
            }
            if (useDisable) {
                d.enable();
            }
            boolean c = d.cancel();
            int outcomes = (r2 ? 1 : 0) + (c ? 1 : 0);
            int accepted = 1 + (!r1[i] && !useDisable ? 1 : 0); // cancel: a false modDelayed queued a new instance
            if (!useDisable && !r1[i]) {
                // modDelayed found it idle (cancel took it) and armed a new instance: that one the later cancel takes
            }
            if (outcomes != accepted) {
                lostCount++;
                if (lost.length() < 600) {
                    lost.append(String.format("%n  round %d: modDelayed=%b, %s=%b, later cancel=%b", i, r1[i],
                            useDisable ? "disable" : "cancel", r2, c));
                }
            }
        }
        a.join(10000);
        assertNull(err.get());
        q.flush();
        assertEquals(0, runs.get());
        assertEquals(0, lostCount, lostCount + " of " + (rounds - 1) + " armed instances ended in no run, no true-returning "
                + "cancel/disable and no report (reports: " + reports.size() + ")" + lost);
    }

    private static boolean doneRound(Spin s, int i) {
        return s.arrived.get() > i;
    }

    @Test
    void modDelayedRacingDisable() throws Exception {
        race(true);
    }

    @Test
    void modDelayedRacingCancel() throws Exception {
        race(false);
    }
}
