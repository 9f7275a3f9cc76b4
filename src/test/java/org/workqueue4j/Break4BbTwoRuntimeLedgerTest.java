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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Delayed items moved between queues of two runtimes (queueDelayed, modDelayed) while one
 * runtime is closed and replaced. Ledger: every accepted instance ends in one run, one cancel
 * that returned true, or one report.
 */
@Timeout(120)
class Break4BbTwoRuntimeLedgerTest {
    static final class Item {
        final DelayedWork work;
        final AtomicLong accepted = new AtomicLong();
        final AtomicLong runs = new AtomicLong();
        final AtomicLong cancels = new AtomicLong();
        final AtomicLong reports = new AtomicLong();
        final AtomicInteger running = new AtomicInteger();
        final AtomicLong overlaps = new AtomicLong();

        Item(String name) {
            work = new DelayedWork(name, () -> {
                if (running.incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                }
                runs.incrementAndGet();
                running.decrementAndGet();
            });
        }
    }

    @Test
    void ledgerAcrossTwoRuntimesWithCloses() throws Exception {
        ConcurrentHashMap<Work, Item> byWork = new ConcurrentHashMap<>();
        List<Throwable> strange = new CopyOnWriteArrayList<>();
        UncaughtWorkHandler h = (q, w, e) -> {
            Item it = w == null ? null : byWork.get(w);
            if (it == null) {
                strange.add(e);
            } else {
                it.reports.incrementAndGet();
            }
        };
        java.util.function.IntFunction<WorkQueues> make = i -> WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                .name("ledger-" + i).closeTimeout(Duration.ofSeconds(20)).uncaughtWorkHandler(h).build());
        AtomicReferenceArray<WorkQueue> qs = new AtomicReferenceArray<>(4);
        List<WorkQueues> all = new CopyOnWriteArrayList<>();
        WorkQueues a = make.apply(0);
        WorkQueues b = make.apply(1);
        all.add(a);
        all.add(b);
        qs.set(0, a.queueBuilder("a0").build());
        qs.set(1, a.queueBuilder("a1").unbound().build());
        qs.set(2, b.queueBuilder("b0").build());
        qs.set(3, b.queueBuilder("b1").ordered().build());
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Item it = new Item("x" + i);
            items.add(it);
            byWork.put(it.work, it);
        }
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        int producers = 3;
        CountDownLatch done = new CountDownLatch(producers + 1);
        for (int p = 0; p < producers; p++) {
            long seed = 100 + p;
            new Thread(() -> {
                SplittableRandom r = new SplittableRandom(seed);
                try {
                    for (int op = 0; op < 15000; op++) {
                        Item it = items.get(r.nextInt(items.size()));
                        WorkQueue q = qs.get(r.nextInt(4));
                        Duration dl = Duration.ofNanos(r.nextInt(3) == 0 ? 0 : r.nextInt(1_000_000));
                        try {
                            switch (r.nextInt(6)) {
                                case 0, 1 -> {
                                    if (q.queueDelayed(it.work, dl)) {
                                        it.accepted.incrementAndGet();
                                    }
                                }
                                case 2, 3 -> {
                                    if (!q.modDelayed(it.work, dl)) {
                                        it.accepted.incrementAndGet();
                                    }
                                }
                                case 4 -> {
                                    if (it.work.cancel()) {
                                        it.cancels.incrementAndGet();
                                    }
                                }
                                default -> it.work.flush(); // no cancelSync: it disables, and a false modDelayed is then ambiguous
                            }
                        } catch (IllegalStateException refused) {
                            // destroyed / closed / pending or running elsewhere: state unchanged, or reported
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
            try {
                for (int round = 2; round < 12; round++) {
                    Thread.sleep(20); // pacing only, not synchronisation
                    int which = round % 2; // close runtime a or b
                    WorkQueues old = all.get(which);
                    WorkQueues fresh = make.apply(round);
                    WorkQueue f0 = fresh.queueBuilder("n0-" + round).build();
                    WorkQueue f1 = fresh.queueBuilder("n1-" + round).unbound().build();
                    qs.set(which * 2, f0);
                    qs.set(which * 2 + 1, f1);
                    all.set(which, fresh);
                    old.close();
                }
            } catch (Throwable e) {
                failures.add(e);
            } finally {
                done.countDown();
            }
        }, "closer").start();
        assertTrue(done.await(90, SECONDS), "did not finish");
        for (Item it : items) {
            it.work.flush();
        }
        for (WorkQueues rt : all) {
            rt.close();
        }
        assertTrue(failures.isEmpty(), "" + failures);
        assertTrue(strange.isEmpty(), "" + strange);
        StringBuilder bad = new StringBuilder();
        long acc = 0;
        for (Item it : items) {
            acc += it.accepted.get();
            long out = it.runs.get() + it.cancels.get() + it.reports.get();
            if (out != it.accepted.get() || it.overlaps.get() != 0 || it.work.isPending()) {
                bad.append(String.format("%n  %s: accepted %d, ran %d, cancelled %d, reported %d, overlaps %d, pending %b",
                        it.work.name(), it.accepted.get(), it.runs.get(), it.cancels.get(), it.reports.get(),
                        it.overlaps.get(), it.work.isPending()));
            }
        }
        System.out.println("two-runtime ledger: accepted " + acc);
        assertEquals("", bad.toString(), "every accepted instance must end in exactly one run, cancel or report");
    }
}
