package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Randomized hammering of the per-item flush paths of {@link DelayedWork} that the stress ledger
 * does not drive: {@code flushInterruptibly()}, {@code flush(Duration)}, {@code flushAsync()}
 * (whose barrier may re-link itself on a worker when its target is re-armed), together with
 * {@code flush()}, {@code modDelayed} with zero and non-zero delays, {@code cancel},
 * {@code cancelSync}, items that requeue themselves and runs that end with an {@link Error}, on one
 * queue kind per run. Checked, per item: no flush returns (no future completes) before every run
 * that had begun when the flush began has ended; no two runs overlap; nothing is lost or run
 * twice (ledger: every successful queue is matched by a run or a successful cancel); no flush
 * hangs (each wait is bounded, and a hang fails the test).
 */
class FlushHammerTest {
    private static final int ITEMS = 3;
    private static final int OPERATORS = 2;
    private static final int OPS = Integer.getInteger("workqueue4j.flushHammer.ops", 60_000);

    private static final List<Function<WorkQueue.Builder, WorkQueue.Builder>> KINDS = List.of(
            WorkQueue.Builder::unbound,
            b -> b,
            WorkQueue.Builder::ordered,
            b -> b.maxActive(1),
            WorkQueue.Builder::memReclaim);

    /** The Error some runs end with. */
    private static final class Boom extends Error {
        Boom() {
            super("boom", null, false, false);
        }
    }

    /** One item and its counters. */
    private static final class Item {
        final DelayedWork work;
        final AtomicLong started = new AtomicLong();
        final AtomicLong finished = new AtomicLong();
        final AtomicInteger inside = new AtomicInteger();
        final AtomicLong opened = new AtomicLong();
        final AtomicLong closed = new AtomicLong();
        final AtomicInteger overlaps = new AtomicInteger();
        /**
         * modDelayed (read) never overlaps cancelSync (write): cancelSync disables the item while
         * it waits, and a modDelayed of a disabled item returns false without queueing, which
         * the ledger could not tell from "was idle, now queued".
         */
        final ReentrantReadWriteLock modVsCancelSync = new ReentrantReadWriteLock();
        WorkQueue queue;

        Item(String name) {
            work = new DelayedWork(name, this::body);
        }

        private void body() {
            started.incrementAndGet();
            closed.incrementAndGet();
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            ThreadLocalRandom r = ThreadLocalRandom.current();
            for (int i = r.nextInt(200); i > 0; i--) {
                Thread.onSpinWait();
            }
            if (r.nextInt(10) == 0 && plainQueue(queue, work)) {
                opened.incrementAndGet(); // requeues itself
            }
            inside.decrementAndGet();
            finished.incrementAndGet();
            if (r.nextInt(50) == 0) {
                throw new Boom(); // an Error out of the function: the worker and every flush carry on
            }
        }
    }

    @ParameterizedTest(name = "queue kind {0}")
    @ValueSource(ints = {0, 1, 2, 3, 4})
    @Tag("stress")
    @DisplayName("DelayedWork flush variants against re-arms, cancels and requeues: contract kept, nothing lost")
    void hammer(int kind) throws Exception {
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        try (TestRuntime t = new TestRuntime(2)) {
            WorkQueue q = KINDS.get(kind).apply(t.rt.queueBuilder("hammer" + kind)).build();
            Item[] items = new Item[ITEMS];
            for (int i = 0; i < ITEMS; i++) {
                items[i] = new Item("h" + i);
                items[i].queue = q;
            }
            List<Thread> operators = new ArrayList<>();
            AtomicInteger done = new AtomicInteger();
            for (int o = 0; o < OPERATORS; o++) {
                Thread th = new Thread(() -> {
                    try {
                        operate(q, items, violations);
                    } catch (Throwable e) {
                        violations.add("operator failed: " + e);
                    } finally {
                        done.incrementAndGet();
                    }
                }, "operator-" + o);
                operators.add(th);
                th.start();
            }
            for (Thread th : operators) {
                th.join(TimeUnit.MINUTES.toMillis(3));
                if (th.isAlive()) {
                    violations.add(th.getName() + " hung:\n" + stack(th));
                }
            }
            assertThat(violations).as("violations").isEmpty();
            for (Item it : items) {
                if (it.work.cancelSync()) {
                    it.closed.incrementAndGet();
                }
                assertThat(it.work.isPending()).isFalse();
            }
            q.flush();
            for (Item it : items) {
                assertThat(it.overlaps.get()).as(it.work.name() + ": overlapping runs").isZero();
                assertThat(it.closed.get()).as(it.work.name() + ": runs + successful cancels = successful queues")
                        .isEqualTo(it.opened.get());
            }
            assertThat(t.errors).as("only the functions' own Errors reach the handler").allMatch(e -> e instanceof Boom);
        }
    }

    /** {@code q.queue(w)}; false also when refused because the timer is armed (documented: queue() does not re-arm). */
    private static boolean plainQueue(WorkQueue q, DelayedWork w) {
        try {
            return q.queue(w);
        } catch (IllegalStateException armed) {
            if (!armed.getMessage().contains("timer armed")) {
                throw armed;
            }
            return false;
        }
    }

    private static String stack(Thread th) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : th.getStackTrace()) {
            sb.append("  at ").append(e).append('\n');
        }
        return sb.toString();
    }

    private static void operate(WorkQueue q, Item[] items, ConcurrentLinkedQueue<String> violations) throws Exception {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int op = 0; op < OPS && violations.isEmpty(); op++) {
            Item it = items[r.nextInt(items.length)];
            DelayedWork w = it.work;
            switch (r.nextInt(14)) {
                case 0, 1 -> {
                    if (plainQueue(q, w)) {
                        it.opened.incrementAndGet();
                    }
                }
                case 2 -> {
                    if (q.queueDelayed(w, Duration.ofNanos(r.nextLong(200_000)))) {
                        it.opened.incrementAndGet();
                    }
                }
                case 3, 4 -> {
                    Duration d = r.nextBoolean() ? Duration.ZERO : Duration.ofNanos(r.nextLong(200_000));
                    it.modVsCancelSync.readLock().lock();
                    try {
                        if (!q.modDelayed(w, d)) {
                            it.opened.incrementAndGet(); // was idle: now armed or queued
                        }
                    } finally {
                        it.modVsCancelSync.readLock().unlock();
                    }
                }
                case 5 -> {
                    if (w.cancel()) {
                        it.closed.incrementAndGet();
                    }
                }
                case 6 -> {
                    if (r.nextInt(4) == 0) {
                        it.modVsCancelSync.writeLock().lock();
                        try {
                            if (w.cancelSync()) {
                                it.closed.incrementAndGet();
                            }
                        } finally {
                            it.modVsCancelSync.writeLock().unlock();
                        }
                    }
                }
                default -> flush(it, r.nextInt(4), violations);
            }
        }
    }

    private static void flush(Item it, int variant, ConcurrentLinkedQueue<String> violations) throws Exception {
        DelayedWork w = it.work;
        long startedBefore = it.started.get();
        String name;
        long finishedAfter;
        switch (variant) {
            case 0 -> {
                name = "flush()";
                w.flush();
                finishedAfter = it.finished.get();
            }
            case 1 -> {
                name = "flushInterruptibly()";
                w.flushInterruptibly();
                finishedAfter = it.finished.get();
            }
            case 2 -> {
                name = "flush(Duration)";
                if (!w.flush(Duration.ofMinutes(1))) {
                    violations.add(w.name() + ": flush(Duration) timed out after a minute");
                    return;
                }
                finishedAfter = it.finished.get();
            }
            default -> {
                name = "flushAsync()";
                AtomicLong atCompletion = new AtomicLong(-1);
                CompletableFuture<Boolean> f = w.flushAsync().whenComplete((x, e) -> atCompletion.set(it.finished.get()));
                f.get(1, TimeUnit.MINUTES);
                finishedAfter = atCompletion.get();
            }
        }
        if (finishedAfter < startedBefore) {
            violations.add(w.name() + ": " + name + " returned with " + startedBefore + " runs begun before it and only "
                    + finishedAfter + " ended");
        }
    }
}
