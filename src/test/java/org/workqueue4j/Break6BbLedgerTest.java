package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An independent random ledger over two runtimes: every true queue return is one future
 * outcome (run, cancel that said true, or report), checked exactly at quiescence; no item on
 * two threads at once; every flush returns only after what was queued before it ended.
 */
@Timeout(120)
class Break6BbLedgerTest {
    static final class Marker extends RuntimeException {
        Marker() { super("marker", null, false, false); }
    }
    static final class MarkerError extends Error {
        MarkerError() { super("marker-error", null, false, false); }
    }

    final List<String> violations = new CopyOnWriteArrayList<>();
    final Map<String, Item> byName = new ConcurrentHashMap<>();

    final class Item {
        final String name;
        final Work w;
        final boolean delayed;
        final ReentrantLock lock = new ReentrantLock();
        final AtomicLong accepted = new AtomicLong();
        final AtomicLong ran = new AtomicLong();
        final AtomicLong cancelled = new AtomicLong();
        final AtomicLong reported = new AtomicLong();
        final AtomicInteger cancelsInFlight = new AtomicInteger();
        final AtomicInteger running = new AtomicInteger();
        final int kind;
        // last accepted ordinal per queue slot (plain instance on that queue)
        final Map<WorkQueue, AtomicLong> lastOnQ = new ConcurrentHashMap<>();

        void mark(WorkQueue q, long o) {
            lastOnQ.computeIfAbsent(q, k -> new AtomicLong()).accumulateAndGet(o, Math::max);
        }

        long last(WorkQueue q) {
            AtomicLong a = lastOnQ.get(q);
            return a == null ? 0 : a.get();
        }

        Item(String name, boolean delayed, int kind, int slots) {
            this.name = name;
            this.delayed = delayed;
            this.kind = kind;
            Runnable fn = this::body;
            w = delayed ? new DelayedWork(name, fn) : new Work(name, fn);
            byName.put(name, this);
        }

        long outcomes() {
            return ran.get() + cancelled.get() + reported.get();
        }

        void body() {
            if (running.incrementAndGet() != 1) {
                violations.add(name + " runs on two threads at once");
            }
            try {
                if (kind == 1) {
                    long end = System.nanoTime() + 300_000;
                    while (System.nanoTime() < end) Thread.onSpinWait();
                }
                if (kind == 2 && (ran.get() % 3) == 0 && selfQueue != null) {
                    WorkQueue q = selfQueue;
                    if (lock.tryLock()) {
                        try {
                            int slot = slotOf(q);
                            if (!delayed && slot >= 0 && q.queue(w)) {
                                long o = accepted.incrementAndGet();
                                mark(q, o);
                            }
                        } catch (IllegalStateException ignored) {
                            // destroyed or running elsewhere: nothing queued
                        } finally {
                            lock.unlock();
                        }
                    }
                }
            } finally {
                running.decrementAndGet();
                ran.incrementAndGet();
            }
            if (kind == 3 && ran.get() % 5 == 0) throw new Marker();
            if (kind == 4 && ran.get() % 7 == 0) throw new MarkerError();
        }

        volatile WorkQueue selfQueue;
    }

    final AtomicReferenceArray<WorkQueue> queues = new AtomicReferenceArray<>(6);
    WorkQueues rtA, rtB;

    int slotOf(WorkQueue q) {
        for (int i = 0; i < queues.length(); i++) if (queues.get(i) == q) return i;
        return -1;
    }

    WorkQueues make(String name) {
        return WorkQueues.create(WorkQueuesConfig.builder().name(name).cpus(2)
                .closeTimeout(Duration.ofSeconds(10))
                .uncaughtWorkHandler((q, w, e) -> {
                    if (e instanceof Marker || e instanceof MarkerError) return;
                    Item it = w == null ? null : byName.get(w.name());
                    if (it == null) {
                        violations.add("report of unknown item " + w + ": " + e);
                        return;
                    }
                    it.reported.incrementAndGet();
                }).build());
    }

    WorkQueue build(int slot) {
        switch (slot) {
            case 0: return rtA.queueBuilder("a-percpu").build();
            case 1: return rtA.queueBuilder("a-ordered").ordered().build();
            case 2: return rtA.queueBuilder("a-frz").freezable().maxActive(2).build();
            case 3: return rtB.queueBuilder("b-unbound").unbound().maxActive(3).build();
            case 4: return rtB.queueBuilder("b-reclaim").memReclaim().build();
            default: return rtB.queueBuilder("b-disp-" + System.nanoTime()).build();
        }
    }

    @Test
    void ledger() throws Exception {
        long seed0 = Long.getLong("b6.seed", System.nanoTime());
        for (int round = 0; round < Integer.getInteger("b6.rounds", 3); round++) {
            runRound(seed0 + round);
        }
    }

    void runRound(long seed) throws Exception {
        violations.clear();
        byName.clear();
        rtA = make("A");
        rtB = make("B");
        for (int i = 0; i < 6; i++) queues.set(i, build(i));
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            items.add(new Item("p" + i, false, i % 5, 6));
            items.add(new Item("d" + i, true, i % 5, 6));
        }
        int threads = 4, ops = Integer.getInteger("b6.ops", 2500);
        List<Thread> ts = new ArrayList<>();
        AtomicInteger frozenBy = new AtomicInteger();
        for (int tn = 0; tn < threads; tn++) {
            SplittableRandom r = new SplittableRandom(seed * 31 + tn);
            Thread th = new Thread(() -> {
                for (int k = 0; k < ops && violations.size() < 5; k++) {
                    try {
                        step(r, items, frozenBy);
                    } catch (Throwable e) {
                        violations.add("op threw " + e);
                        e.printStackTrace();
                    }
                }
            }, "ledger-" + tn);
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join(90_000);
            if (th.isAlive()) {
                StringBuilder sb = new StringBuilder();
                for (StackTraceElement e : th.getStackTrace()) sb.append("\n  ").append(e);
                violations.add("thread hung: " + th.getName() + sb);
            }
        }
        if (rtA.isFrozen()) rtA.thaw();
        // quiescence: cancel every item (counted), then flush
        for (Item it : items) {
            it.lock.lock();
            try {
                it.cancelsInFlight.incrementAndGet();
                if (it.w.cancelSync()) it.cancelled.incrementAndGet();
                it.cancelsInFlight.decrementAndGet();
            } finally {
                it.lock.unlock();
            }
        }
        for (int i = 0; i < 6; i++) queues.get(i).flush();
        rtA.close();
        rtB.close();
        for (Item it : items) {
            if (it.accepted.get() != it.outcomes()) {
                violations.add(it.name + ": accepted " + it.accepted + " != ran " + it.ran + " + cancelled " + it.cancelled
                        + " + reported " + it.reported + " (pending=" + it.w.isPending() + ")");
            }
        }
        assertEquals(List.of(), violations, "seed " + seed);
    }

    /**
     * Whether a queue flush's deficit for {@code x} is an earlier instance's report still under
     * way: a delayed item's expiry refused by another queue (draining, or destroyed with it
     * armed) is released before it is reported, so a later instance may run on this queue, and
     * its flush return, before the handler counts the earlier one (UncaughtWorkHandler). The
     * mark is read first, then the outcomes again: a mark seen clear means every such report
     * has been counted, and the deficit must be gone.
     */
    static boolean reportUnderWay(Item x, long need, int inflightBefore) {
        if (x.w.node.firedElsewhere()) {
            return true;
        }
        return x.outcomes() + inflightBefore + x.cancelsInFlight.get() >= need;
    }

    void step(SplittableRandom r, List<Item> items, AtomicInteger frozenBy) throws Exception {
        Item it = items.get(r.nextInt(items.size()));
        int slot = r.nextInt(6);
        WorkQueue q = queues.get(slot);
        int op = r.nextInt(100);
        if (op < 30) { // queue / queueOn / delayed
            it.lock.lock();
            try {
                it.selfQueue = q;
                boolean ok;
                long delayNs = r.nextInt(4) == 0 ? 0 : r.nextInt(3) == 0 ? TimeUnit.HOURS.toNanos(1) : r.nextInt(3_000_000);
                if (it.delayed && r.nextBoolean()) {
                    DelayedWork d = (DelayedWork) it.w;
                    if (r.nextBoolean()) {
                        ok = r.nextBoolean() ? q.queueDelayed(d, Duration.ofNanos(delayNs))
                                : q.queueDelayedOn(r.nextInt(2), d, Duration.ofNanos(delayNs));
                        if (ok) it.accepted.incrementAndGet();
                        if (ok && delayNs == 0) it.mark(q, it.accepted.get());
                    } else {
                        it.cancelsInFlight.incrementAndGet();
                        try {
                            boolean was = q.modDelayed(d, Duration.ofNanos(delayNs));
                            // true: the pending instance was taken back (counted as a cancel) and a new one armed
                            if (was) it.cancelled.incrementAndGet();
                            it.accepted.incrementAndGet();
                            if (delayNs == 0) it.mark(q, it.accepted.get());
                        } finally {
                            it.cancelsInFlight.decrementAndGet();
                        }
                    }
                } else {
                    ok = r.nextBoolean() ? q.queue(it.w) : q.queueOn(r.nextInt(2), it.w);
                    if (ok) {
                        long o = it.accepted.incrementAndGet();
                        it.mark(q, o);
                    }
                }
            } catch (IllegalStateException e) {
                // documented refusals: destroyed, pending/running elsewhere, armed timer
            } finally {
                it.lock.unlock();
            }
        } else if (op < 40) { // lockless cancel
            it.cancelsInFlight.incrementAndGet();
            if (it.w.cancel()) it.cancelled.incrementAndGet();
            it.cancelsInFlight.decrementAndGet();
        } else if (op < 48) { // cancelSync / timed / disableSync+enable
            it.lock.lock();
            try {
                it.cancelsInFlight.incrementAndGet();
                int v = r.nextInt(3);
                if (v == 0) {
                    if (it.w.cancelSync()) it.cancelled.incrementAndGet();
                    if (it.w.busy() != 0) violations.add(it.name + " busy " + it.w.busy() + " after cancelSync");
                } else if (v == 1) {
                    if (it.w.cancel()) it.cancelled.incrementAndGet();
                    it.w.cancelSync(Duration.ofNanos(r.nextInt(2_000_000)));
                } else {
                    if (it.w.disableSync()) it.cancelled.incrementAndGet();
                    if (it.w.busy() != 0) violations.add(it.name + " busy " + it.w.busy() + " after disableSync");
                    if (!it.w.enable()) violations.add(it.name + " enable did not reach zero");
                }
                it.cancelsInFlight.decrementAndGet();
            } finally {
                it.lock.unlock();
            }
        } else if (op < 60) { // work flush check
            int inflight = it.cancelsInFlight.get();
            long need = it.accepted.get();
            boolean done;
            if (r.nextBoolean()) {
                it.w.flush();
                done = true;
            } else {
                done = it.w.flush(Duration.ofMillis(r.nextInt(5)));
            }
            if (done) {
                int inflight2 = it.cancelsInFlight.get();
                long have = it.outcomes() + Math.max(inflight, inflight2) + it.cancelsInFlight.get();
                // need counts instances accepted before the flush; an armed (not expired) one
                // is fired by a delayed flush; the last instance may still be pending only if
                // accepted after we read `need`
                if (have < need - 0 && !(it.w.isPending())) {
                    violations.add(it.name + " Work.flush returned with " + need + " accepted before and " + have + " ended");
                }
            }
        } else if (op < 72) { // queue flush check
            long[] need = new long[items.size()];
            int[] infl = new int[items.size()];
            for (int i = 0; i < need.length; i++) {
                infl[i] = items.get(i).cancelsInFlight.get();
                need[i] = items.get(i).last(q);
            }
            boolean done;
            if (r.nextInt(3) == 0) {
                done = q.flush(Duration.ofMillis(r.nextInt(5)));
            } else if (r.nextInt(3) == 0) {
                q.flushAsync().get(60, TimeUnit.SECONDS);
                done = true;
            } else {
                q.flush();
                done = true;
            }
            if (done) {
                for (int i = 0; i < need.length; i++) {
                    Item x = items.get(i);
                    long have = x.outcomes() + infl[i] + x.cancelsInFlight.get();
                    if (have < need[i] && !reportUnderWay(x, need[i], infl[i])) {
                        violations.add(x.name + " " + q.name() + " flush returned: instance #" + need[i] + " queued before, only " + have + " ended");
                    }
                }
            }
        } else if (op < 78) { // freeze, a few non-blocking ops, thaw
            synchronized (frozenBy) {
                rtA.freeze();
                try {
                    for (int k = 0; k < 3; k++) {
                        Item x = items.get(r.nextInt(items.size()));
                        WorkQueue fq = queues.get(r.nextInt(6));
                        x.lock.lock();
                        try {
                            if (!(x.w instanceof DelayedWork && ((DelayedWork) x.w).isTimerArmed()) && fq.queue(x.w)) {
                                long o = x.accepted.incrementAndGet();
                                x.mark(fq, o);
                            }
                        } catch (IllegalStateException ignored) {
                            // refusals
                        } finally {
                            x.lock.unlock();
                        }
                    }
                    queues.get(2).flush(Duration.ofMillis(1));
                } finally {
                    rtA.thaw();
                }
            }
        } else if (op < 84) { // setMaxActive
            if (!q.isOrdered()) {
                try {
                    q.setMaxActive(1 + r.nextInt(3));
                } catch (IllegalStateException ignored) {
                    // destroyed queue? not documented; record
                    violations.add("setMaxActive threw " + ignored);
                }
            }
        } else if (op < 90) { // timed drain of a live queue
            q.drain(Duration.ofMillis(r.nextInt(3)));
        } else if (op < 94) { // destroy & rebuild the disposable queue
            WorkQueue old = queues.get(5);
            synchronized (this) {
                if (queues.get(5) == old) {
                    old.destroy();
                    queues.set(5, build(5));
                }
            }
        } else { // busy check
            int b = it.w.busy();
            if ((b & ~3) != 0) violations.add("busy bits " + b);
        }
    }
}
