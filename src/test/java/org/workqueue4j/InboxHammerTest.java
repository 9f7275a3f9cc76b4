package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Randomized hammering of the lock-free insert path with a ledger: producers queue items to
 * unbound, per-CPU, ordered and memReclaim queues of a runtime whose idle workers are culled
 * quickly and whose worker cap is low, and wait (bounded) for every accepted instance to run,
 * with no flush: a lost wake-up shows as an item that never runs. Ordered queues are checked
 * for FIFO and for never running two items at once.
 */
class InboxHammerTest {
    private static final int ROUNDS = 3_000;

    /**
     * @param idleMillis the idle timeout: 1 ms culls idle workers all the time (and wakes parked
     *                   ones, which would hide a lost wake-up); 10 minutes makes a parked worker
     *                   wake only when signalled, so a lost wake-up shows as an item that never runs
     */
    // It found a lost wake-up: the worker manager's scan (and the cap's retirement scan, and a
    // rescuer) landed a pool's inboxes, clearing the hint a seeking worker was counted on to
    // see, without waking a worker for what it landed (InboxHandshakeTest pins it). A failure
    // message carries the runtime's dump and the library threads' stacks.
    @ParameterizedTest(name = "idle timeout {0} ms")
    @ValueSource(longs = {1, 600_000})
    void everyAcceptedItemRunsExactlyOnceWithoutAFlush(long idleMillis) throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(Duration.ofMillis(idleMillis)).maxWorkers(4))) {
            List<WorkQueue> queues = List.of(
                    t.queue("hammer-unbound").unbound().build(),
                    t.queue("hammer-percpu").build(),
                    t.queue("hammer-reclaim").memReclaim().build(),
                    t.queue("hammer-limited").maxActive(1).build());
            WorkQueue ordered = t.queue("hammer-ordered").ordered().build();
            AtomicReference<String> failure = new AtomicReference<>();
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                int id = p;
                producers.add(new Thread(() -> {
                    try {
                        produce(queues.get(id % queues.size()), queues, id, failure, t.rt::dump);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, "producer " + id + ": " + e);
                    }
                }, "producer-" + p));
            }
            producers.add(new Thread(() -> {
                try {
                    produceOrdered(ordered, failure);
                } catch (Throwable e) {
                    failure.compareAndSet(null, "ordered producer: " + e);
                }
            }, "producer-ordered"));
            producers.forEach(Thread::start);
            for (Thread th : producers) {
                th.join(TimeUnit.MINUTES.toMillis(3));
                assertThat(th.isAlive()).as("%s finished", th.getName()).isFalse();
            }
            assertThat(failure.get()).isNull();
            assertThat(t.errors).isEmpty();
        }
    }

    /** Queues a few items at a time to random queues, then waits (bounded, no flush) for each to run once. */
    private static void produce(WorkQueue home, List<WorkQueue> queues, int id, AtomicReference<String> failure,
                                java.util.function.Supplier<String> dump) {
        int batch = 4;
        AtomicInteger[] runs = new AtomicInteger[batch];
        Work[] items = new Work[batch];
        for (int i = 0; i < batch; i++) {
            AtomicInteger r = runs[i] = new AtomicInteger();
            boolean slow = i == 0;
            items[i] = new Work("p" + id + "-" + i, () -> {
                r.incrementAndGet();
                if (slow && ThreadLocalRandom.current().nextInt(8) == 0) {
                    LockSupport.parkNanos(200_000); // load only: lets producers meet a running worker
                }
            });
        }
        for (int round = 0; round < ROUNDS && failure.get() == null; round++) {
            int[] expected = new int[batch];
            for (int i = 0; i < batch; i++) {
                expected[i] = runs[i].get();
                WorkQueue q = ThreadLocalRandom.current().nextBoolean() ? home : queues.get(ThreadLocalRandom.current().nextInt(queues.size()));
                boolean ok = q.isUnbound() || ThreadLocalRandom.current().nextBoolean()
                        ? q.queue(items[i]) : q.queueOn(ThreadLocalRandom.current().nextInt(2), items[i]);
                if (!ok) {
                    failure.compareAndSet(null, "item " + items[i].name() + " idle but queue() returned false");
                    return;
                }
                expected[i]++;
            }
            for (int i = 0; i < batch; i++) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (runs[i].get() < expected[i] || items[i].isPending()) {
                    if (System.nanoTime() > deadline) {
                        failure.compareAndSet(null, "round " + round + ": item " + items[i].name() + " ran " + runs[i].get()
                                + " times, expected " + expected[i] + ", pending=" + items[i].isPending()
                                + " (lost wake-up: nothing ran it within 20 s)\n" + dump.get() + threads());
                        return;
                    }
                    Thread.onSpinWait();
                    Thread.yield();
                }
                if (runs[i].get() != expected[i]) {
                    failure.compareAndSet(null, "item " + items[i].name() + " ran " + runs[i].get() + " times, expected " + expected[i]);
                    return;
                }
            }
            // Let the next item wait until its last run has ended (busy() clear), so queue() is a fresh instance.
            for (Work w : items) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (w.busy() != 0) {
                    if (System.nanoTime() > deadline) {
                        failure.compareAndSet(null, "item " + w.name() + " still busy after 20 s");
                        return;
                    }
                    Thread.yield();
                }
            }
        }
    }

    private static String threads() {
        StringBuilder sb = new StringBuilder();
        Thread.getAllStackTraces().forEach((th, st) -> {
            if (th.getName().startsWith("wq-")) {
                sb.append('\n').append(th.getName()).append(' ').append(th.getState());
                for (int i = 0; i < Math.min(st.length, 6); i++) {
                    sb.append("\n    at ").append(st[i]);
                }
            }
        });
        return sb.toString();
    }

    /** One producer, an ordered queue: items run in queue order, one at a time. */
    private static void produceOrdered(WorkQueue q, AtomicReference<String> failure) {
        int n = 8;
        AtomicInteger inside = new AtomicInteger();
        int[] log = new int[ROUNDS * n];
        AtomicInteger next = new AtomicInteger();
        Work[] items = new Work[n];
        int[] seq = new int[n];
        for (int i = 0; i < n; i++) {
            int idx = i;
            items[i] = new Work("o" + i, () -> {
                if (inside.incrementAndGet() != 1) {
                    failure.compareAndSet(null, "ordered queue ran two items at once");
                }
                log[next.getAndIncrement()] = seq[idx];
                inside.decrementAndGet();
            });
        }
        int counter = 0;
        for (int round = 0; round < ROUNDS && failure.get() == null; round++) {
            for (int i = 0; i < n; i++) {
                while (items[i].busy() != 0) { // previous instance must end: one instance per item
                    Thread.yield();
                }
                seq[i] = counter++;
                if (!q.queue(items[i])) {
                    failure.compareAndSet(null, "ordered: idle item refused");
                    return;
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (next.get() < counter) {
            if (System.nanoTime() > deadline) {
                failure.compareAndSet(null, "ordered: " + next.get() + " of " + counter + " ran within 20 s (lost wake-up)");
                return;
            }
            Thread.yield();
        }
        for (int i = 1; i < counter; i++) {
            if (log[i] != log[i - 1] + 1) {
                failure.compareAndSet(null, "ordered queue out of order at " + i + ": " + log[i - 1] + " then " + log[i]);
                return;
            }
        }
    }
}
