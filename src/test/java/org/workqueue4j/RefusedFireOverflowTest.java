package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * A bounded or non-blocking flush of a delayed item whose early fire its (draining) queue
 * refuses, run at every depth of a thread's stack: a StackOverflowError anywhere on that path
 * must leave the timer's lock free and the refusal reported at most once.
 */
@Timeout(300)
class RefusedFireOverflowTest {
    private static final int SWEEPS = 60;

    @Test
    void aRefusedEarlyFireAtTheEndOfAStackLeavesTheTimerLockFreeAndReportsOnce() throws Exception {
        Map<String, AtomicInteger> reports = new ConcurrentHashMap<>();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1)
                .validator(LockDependencyValidator.disabled())
                .closeTimeout(Duration.ofSeconds(10))
                .uncaughtWorkHandler((q, w, e) -> reports.computeIfAbsent(w.name(), k -> new AtomicInteger()).incrementAndGet())
                .build())) {
            WorkQueue q = rt.queueBuilder("draining").build();
            CountDownLatch blockerRuns = new CountDownLatch(1);
            CountDownLatch blockerGo = new CountDownLatch(1);
            assertThat(q.queue(new Work("blocker", () -> {
                blockerRuns.countDown();
                FlushContractTest.awaitUninterruptibly(blockerGo);
            }))).isTrue();
            assertThat(blockerRuns.await(30, TimeUnit.SECONDS)).isTrue();
            // the timer exists before the sweep (its lock is looked at)
            DelayedWork first = new DelayedWork("first", () -> { });
            assertThat(q.queueDelayed(first, Duration.ofHours(1))).isTrue();
            Thread drainer = new Thread(q::drain, "drainer");
            drainer.setDaemon(true);
            drainer.start();
            for (int k = 0; ; k++) { // until the drain refuses
                try {
                    q.queue(new Work("probe" + k, () -> { }));
                } catch (IllegalStateException refused) {
                    break;
                }
                Thread.onSpinWait();
            }
            first.flushAsync().get(30, TimeUnit.SECONDS); // one refused early fire, reported by the timer thread
            assertThat(reports.get("first")).hasValue(1);

            ReentrantLock timerLock = (ReentrantLock) StackProbeAttackTest.field(StackProbeAttackTest.field(rt.engine(), "timer"), "lock");
            List<String> held = new CopyOnWriteArrayList<>();
            List<DelayedWork> items = new CopyOnWriteArrayList<>();
            for (int s = 0; s < SWEEPS; s++) {
                long stack = 192 * 1024 + s * 1032L;
                int sweep = s;
                DelayedWork[] made = new DelayedWork[20000];
                int[] attempts = {0};
                Thread th = new Thread(null, () -> {
                    descend(i -> {
                        DelayedWork d = made[i];
                        if (d == null) {
                            return;
                        }
                        if (q.queueDelayed(d, Duration.ofHours(1))) {
                            if ((i & 1) == 0) {
                                d.flushAsync();
                            } else {
                                try {
                                    d.flush(Duration.ZERO);
                                } catch (InterruptedException e) {
                                    throw new AssertionError(e);
                                }
                            }
                        }
                    }, attempts, timerLock, held, sweep);
                }, "prober", stack);
                for (int i = 0; i < made.length; i++) {
                    made[i] = new DelayedWork("s" + s + "-" + i, () -> { });
                }
                th.start();
                th.join(60_000);
                assertThat(th.isAlive()).as("sweep " + s + " returned").isFalse();
                for (int i = 0; i < Math.min(attempts[0], made.length); i++) {
                    items.add(made[i]);
                }
                if (!held.isEmpty()) {
                    break;
                }
            }
            assertThat(held).as("timer lock left held by an overflow").isEmpty();
            List<String> twice = new ArrayList<>();
            for (DelayedWork d : items) {
                if (!d.isTimerArmed()) {
                    d.flush(Duration.ofSeconds(10)); // after its report, if any
                }
                AtomicInteger n = reports.get(d.name());
                if (n != null && n.get() > 1) {
                    twice.add(d.name() + "=" + n.get());
                }
            }
            assertThat(twice).as("refusals reported more than once").isEmpty();
            assertThat(reports.size()).as("refusals reported over the sweeps (of " + items.size() + " attempts)").isGreaterThan(SWEEPS);
            blockerGo.countDown();
            drainer.join(30_000);
        }
    }

    private static void descend(java.util.function.IntConsumer op, int[] attempts, ReentrantLock timerLock,
                                List<String> held, int sweep) {
        try {
            descend(op, attempts, timerLock, held, sweep);
        } catch (StackOverflowError deepest) {
            // the bottom: try the operation in every frame on the way back
        }
        int i = attempts[0]++;
        try {
            op.accept(i);
        } catch (StackOverflowError struck) {
            if (timerLock.isHeldByCurrentThread()) {
                while (timerLock.isHeldByCurrentThread()) {
                    timerLock.unlock();
                }
                held.add("sweep " + sweep + " attempt " + i + ": " + Arrays.toString(Arrays.copyOf(struck.getStackTrace(), 8)));
            }
        }
    }
}
