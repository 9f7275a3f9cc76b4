package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * "Nothing lost": every accepted instance ends in exactly one run, one cancel that said so, or
 * one report to the uncaught-work handler. Producers race queue/queueOn/queueDelayed/modDelayed/
 * cancel/cancelSync/disable/flush while a controller freezes and thaws, changes maxActive (0 and
 * 2048 included, clamped), drains and destroys and rebuilds a disposable queue.
 */
@Timeout(120)
class Break4BbLedgerHammerTest {
    static final class Boom extends RuntimeException {
        Boom() {
            super("boom", null, false, false);
        }
    }

    static final class Item {
        final int id;
        final int slot;
        final Work work;
        final AtomicLong accepted = new AtomicLong();
        final AtomicLong runs = new AtomicLong();
        final AtomicLong cancels = new AtomicLong();
        final AtomicLong reports = new AtomicLong();
        final AtomicInteger running = new AtomicInteger();
        final AtomicLong overlaps = new AtomicLong();
        volatile int requeues;

        Item(int id, int slot, boolean delayed, Runnable body) {
            this.id = id;
            this.slot = slot;
            this.work = delayed ? new DelayedWork("h" + id, body) : new Work("h" + id, body);
        }
    }

    @Test
    void ledgerUnderFreezeMaxActiveDrainAndDestroy() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            runOnce(seed);
        }
    }

    private void runOnce(long seed) throws Exception {
        List<Throwable> strange = new CopyOnWriteArrayList<>();
        ConcurrentHashMap<Work, Item> byWork = new ConcurrentHashMap<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(20))
                .uncaughtWorkHandler((q, w, e) -> {
                    Item it = w == null ? null : byWork.get(w);
                    if (it == null) {
                        strange.add(e);
                        return;
                    }
                    if (e instanceof Boom) {
                        return; // the run was counted
                    }
                    it.reports.incrementAndGet();
                }).build());
        int slots = 4;
        WorkQueue[] qs = new WorkQueue[slots];
        qs[0] = rt.queueBuilder("frz-max2").freezable().maxActive(2).build();
        qs[1] = rt.queueBuilder("ord-frz").ordered().freezable().build();
        qs[2] = rt.queueBuilder("unb-reclaim").unbound().memReclaim().maxActive(1).build();
        qs[3] = rt.queueBuilder("disposable-0").freezable().build();
        Object[] qlock = new Object[slots];
        for (int i = 0; i < slots; i++) {
            qlock[i] = new Object();
        }
        List<Item> items = new ArrayList<>();
        int perSlot = 6;
        for (int s = 0; s < slots; s++) {
            for (int k = 0; k < perSlot; k++) {
                int id = items.size();
                boolean delayed = k % 2 == 1;
                Item[] self = new Item[1];
                int slot = s;
                Runnable body = () -> {
                    Item it = self[0];
                    if (it.running.incrementAndGet() != 1) {
                        it.overlaps.incrementAndGet();
                    }
                    it.runs.incrementAndGet();
                    try {
                        int r = (int) (it.runs.get() % 7);
                        if (r == 3) {
                            throw new Boom();
                        }
                        if (r == 5 && it.requeues < 200) {
                            WorkQueue q = qs[slot];
                            try {
                                boolean ok = it.work instanceof DelayedWork d ? q.queueDelayed(d, Duration.ZERO) : q.queue(it.work);
                                if (ok) {
                                    it.requeues++;
                                    it.accepted.incrementAndGet();
                                }
                            } catch (IllegalStateException e) {
                                // destroyed queue: not accepted
                            }
                        }
                    } finally {
                        it.running.decrementAndGet();
                    }
                };
                Item it = new Item(id, s, delayed, body);
                self[0] = it;
                items.add(it);
                byWork.put(it.work, it);
            }
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        int producers = 3;
        CountDownLatch done = new CountDownLatch(producers + 1);
        for (int p = 0; p < producers; p++) {
            long ps = seed * 31 + p;
            new Thread(() -> {
                SplittableRandom r = new SplittableRandom(ps);
                try {
                    for (int op = 0; op < 20000 && !stop.get(); op++) {
                        Item it = items.get(r.nextInt(items.size()));
                        WorkQueue q;
                        synchronized (qlock[it.slot]) {
                            q = qs[it.slot];
                        }
                        try {
                            step(r, it, q);
                        } catch (IllegalStateException e) {
                            // refused (destroyed / draining / armed): state unchanged per javadoc
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    done.countDown();
                }
            }, "producer-" + p).start();
        }
        new Thread(() -> {
            SplittableRandom r = new SplittableRandom(seed * 7);
            try {
                for (int op = 0; op < 1500 && !stop.get(); op++) {
                    switch (r.nextInt(6)) {
                        case 0 -> {
                            rt.freeze();
                            Thread.yield();
                            rt.thaw();
                        }
                        case 1 -> qs[0].setMaxActive(new int[] {0, 1, 2, 5, 2048, 5000}[r.nextInt(6)]);
                        case 2 -> qs[2].setMaxActive(r.nextInt(3));
                        case 3 -> {
                            if (!qs[3].drain(Duration.ofSeconds(10))) {
                                failures.add(new AssertionError("drain of disposable did not finish in 10 s"));
                            }
                        }
                        case 4 -> {
                            WorkQueue old = qs[3];
                            old.destroy();
                            synchronized (qlock[3]) {
                                qs[3] = rt.queueBuilder("disposable-" + op).freezable().build();
                            }
                        }
                        default -> {
                            if (!qs[r.nextInt(3)].flush(Duration.ofSeconds(10))) {
                                failures.add(new AssertionError("queue flush did not finish in 10 s"));
                            }
                        }
                    }
                }
            } catch (Throwable e) {
                failures.add(e);
            } finally {
                done.countDown();
            }
        }, "controller").start();
        boolean finished = done.await(60, SECONDS);
        stop.set(true);
        assertTrue(finished, "producers did not finish in 60 s; dump:\n" + rt.dump());
        // let armed items (at most 2 ms delays) fire, then finish everything
        for (Item it : items) {
            if (it.work instanceof DelayedWork d) {
                d.flush();
            } else {
                it.work.flush();
            }
        }
        for (WorkQueue q : qs) {
            assertTrue(q.flush(Duration.ofSeconds(10)), "final flush of " + q.name() + " did not finish: " + rt.dump());
        }
        rt.close();
        assertTrue(failures.isEmpty(), "seed " + seed + ": " + failures);
        assertTrue(strange.isEmpty(), "seed " + seed + ": unexpected reports " + strange);
        StringBuilder bad = new StringBuilder();
        for (Item it : items) {
            long out = it.runs.get() + it.cancels.get() + it.reports.get();
            if (out != it.accepted.get() || it.overlaps.get() != 0 || it.work.isPending()) {
                bad.append(String.format("%n  %s (slot %d): accepted %d, ran %d, cancelled %d, reported %d, overlaps %d, pending %b",
                        it.work.name(), it.slot, it.accepted.get(), it.runs.get(), it.cancels.get(), it.reports.get(),
                        it.overlaps.get(), it.work.isPending()));
            }
        }
        System.out.printf("hammer seed %d: accepted %d runs %d cancels %d reports %d%n", seed,
                items.stream().mapToLong(i -> i.accepted.get()).sum(), items.stream().mapToLong(i -> i.runs.get()).sum(),
                items.stream().mapToLong(i -> i.cancels.get()).sum(), items.stream().mapToLong(i -> i.reports.get()).sum());
        assertEquals("", bad.toString(), "seed " + seed + ": every accepted instance must end in exactly one run, cancel or report");
    }

    private static void step(SplittableRandom r, Item it, WorkQueue q) throws Exception {
        int op = r.nextInt(10);
        if (it.work instanceof DelayedWork d) {
            switch (op) {
                case 0, 1 -> {
                    if (q.queueDelayed(d, Duration.ofNanos(r.nextInt(2_000_000)))) {
                        it.accepted.incrementAndGet();
                    }
                }
                case 2, 3 -> {
                    if (!q.modDelayed(d, Duration.ofNanos(r.nextInt(2) == 0 ? 0 : r.nextInt(2_000_000)))) {
                        if (d.disableDepth() == 0) {
                            // false: idle and now queued (or disabled and so not queued). We do not
                            // disable in a way that races here except case 7/8 below, which enable right away.
                            it.accepted.incrementAndGet();
                        }
                    }
                }
                case 4 -> {
                    if (d.cancel()) {
                        it.cancels.incrementAndGet();
                    }
                }
                case 5 -> {
                    // Not cancelSync(): while it waits the item counts as disabled, and a
                    // modDelayed meanwhile returns false without queueing, which the ledger above
                    // could not tell from "was idle, now queued" (the kernel's return is the same).
                    if (d.cancel()) {
                        it.cancels.incrementAndGet();
                    }
                    d.flush();
                }
                case 6 -> d.flush();
                case 7 -> {
                    if (q.queueDelayed(d, Duration.ZERO)) {
                        it.accepted.incrementAndGet();
                    }
                }
                default -> d.flush(Duration.ofMillis(1));
            }
        } else {
            switch (op) {
                case 0, 1, 2 -> {
                    if (q.queue(it.work)) {
                        it.accepted.incrementAndGet();
                    }
                }
                case 3 -> {
                    if (q.queueOn(r.nextInt(2), it.work)) {
                        it.accepted.incrementAndGet();
                    }
                }
                case 4 -> {
                    if (it.work.cancel()) {
                        it.cancels.incrementAndGet();
                    }
                }
                case 5 -> {
                    if (it.work.cancelSync()) {
                        it.cancels.incrementAndGet();
                    }
                }
                case 6 -> it.work.flush();
                case 7 -> {
                    if (it.work.disable()) {
                        it.cancels.incrementAndGet();
                    }
                    it.work.enable();
                }
                default -> it.work.flush(Duration.ofMillis(1));
            }
        }
    }
}
