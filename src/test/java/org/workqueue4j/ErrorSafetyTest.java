package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.AcquireMode;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;

/**
 * An {@code Error} thrown inside the library's own code (issue 12 defect 9; README "Faults and
 * bad input") leaves every engine lock released and every claimed state restored, and the
 * runtime threads survive it.
 *
 * <p>{@link StackOverflowError}s are injected deterministically at every stack depth: the
 * probe recurses until the stack overflows, then tries the operation once in every frame on the
 * way back, so the overflow strikes at each point of the library's code in turn (wherever a
 * call needs more stack than is left). Every path is run once at normal depth first, so that
 * class initialisation and call-site linkage (which remember a failure forever) are done.
 */
@Timeout(120)
class ErrorSafetyTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        assertTimeoutPreemptively(BOUND, t::close, "close() blocked: a lock or a claim was left behind");
    }

    /** Overflows the stack, then runs {@code op} once per frame while unwinding; returns the attempts. */
    private static int probeEveryDepth(IntConsumer op) {
        int[] attempts = {0};
        descend(op, attempts);
        return attempts[0];
    }

    /** The overflow each attempt died of, by attempt index (null if it completed). */
    private static final StackOverflowError[] STRUCK = new StackOverflowError[200_000];

    private static void descend(IntConsumer op, int[] attempts) {
        try {
            descend(op, attempts);
        } catch (StackOverflowError deepest) {
            // the bottom: start trying on the way back
        }
        try {
            op.accept(attempts[0]++);
        } catch (StackOverflowError expected) {
            // struck somewhere inside the library: what this test is about
            if (attempts[0] - 1 < STRUCK.length) {
                STRUCK[attempts[0] - 1] = expected;
            }
        }
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside queue() leaves no item pending and no lock held")
    void stackOverflowInsideQueue() {
        WorkQueue q = t.queue("soe-queue").build();
        AtomicInteger runs = new AtomicInteger();
        q.queue(new Work("warm-up", runs::incrementAndGet)); // link every call site at normal depth
        q.flush();
        List<Work> items = new ArrayList<>();
        List<Boolean> queued = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            items.add(new Work("w" + i, runs::incrementAndGet));
            queued.add(Boolean.FALSE);
        }
        int attempts = probeEveryDepth(i -> {
            if (i < items.size() && q.queue(items.get(i))) {
                queued.set(i, Boolean.TRUE);
            }
        });
        assertThat(attempts).isLessThan(items.size());
        assertTimeoutPreemptively(BOUND, () -> { q.flush(); }, "flush() blocked after overflows inside queue()");
        for (int i = 0; i < attempts; i++) {
            if (items.get(i).isPending()) {
                // The one case Java leaves open: the overflow struck the release of the claim
                // itself (library code gets no reserved stack), within a few frames of the end.
                assertThat(struckTheRelease(STRUCK[i]))
                        .as("item %d left pending (claimed, never queued) by an overflow elsewhere: %s", i,
                                STRUCK[i] == null ? "none" : java.util.Arrays.toString(STRUCK[i].getStackTrace()))
                        .isTrue();
            }
        }
        assertQueueStillWorks(q);
    }

    @Test
    // By hand (tag "long"): an overflow probed at every depth can strike a finally's own
    // unlock or count-down, which Java gives library code no reserved stack to protect; such a
    // run hangs instead of failing. The CI set keeps the probes that can recognise that case.
    @org.junit.jupiter.api.Tag("long")
    @DisplayName("a StackOverflowError anywhere inside a queue flush leaves later flushes working")
    void stackOverflowInsideFlush() {
        WorkQueue q = t.queue("soe-flush").build();
        q.flush();
        probeEveryDepth(i -> q.flush()); // idle queue: each flush marks, counts down and returns
        assertTimeoutPreemptively(BOUND, () -> { q.flush(); }, "queue flush blocked after overflows inside flush()");
        assertQueueStillWorks(q);
    }

    @Test
    // By hand (tag "long"): an overflow probed at every depth can strike a finally's own
    // unlock or count-down, which Java gives library code no reserved stack to protect; such a
    // run hangs instead of failing. The CI set keeps the probes that can recognise that case.
    @org.junit.jupiter.api.Tag("long")
    @DisplayName("a StackOverflowError anywhere inside queueDelayed, modDelayed and cancel leaves the item consistent")
    void stackOverflowInsideDelayedPaths() {
        WorkQueue q = t.queue("soe-delayed").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        q.queueDelayed(d, Duration.ofHours(1));
        q.modDelayed(d, Duration.ofHours(2));
        d.cancel();
        probeEveryDepth(i -> {
            switch (i % 3) {
                case 0 -> q.queueDelayed(d, Duration.ofHours(1));
                case 1 -> q.modDelayed(d, Duration.ofHours(1));
                default -> d.cancel();
            }
        });
        assertDelayedItemRecovers(q, d, runs, BOUND);
        assertQueueStillWorks(q);
    }

    @Test
    @DisplayName("the timer thread survives an Error thrown while firing an item")
    void timerSurvivesAnErrorWhileFiring() {
        WorkQueue q = t.queue("timer-error").build();
        // An Error inside TimerQueue.fire, on the timer thread, between taking the item off the
        // timer and queueing it (a draining queue used to be the way in: its refusal message
        // called a throwing name(); a drain now accepts an expired timer).
        java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean(true);
        org.workqueue4j.internal.TestHooks.install((point, subject) -> {
            if (point.equals("timer.fire") && armed.compareAndSet(true, false)) {
                throw new AssertionError("exploded inside the timer");
            }
        });
        try {
            DelayedWork bomb = new DelayedWork("bomb", () -> { });
            assertThat(q.queueDelayed(bomb, Duration.ofMillis(1))).isTrue();
            await().atMost(BOUND).until(() -> !bomb.isPending());
            assertThat(armed.get()).isFalse();
        } finally {
            org.workqueue4j.internal.TestHooks.install(null);
        }

        AtomicInteger runs = new AtomicInteger();
        DelayedWork later = new DelayedWork("later", runs::incrementAndGet);
        q.queueDelayed(later, Duration.ofMillis(1));
        await().atMost(BOUND).until(() -> runs.get() == 1); // the timer still fires
    }

    @Test
    @DisplayName("a validator whose hooks throw an Error: queue, flush and close still work; workers survive")
    void throwingValidatorHooks() {
        AtomicInteger mode = new AtomicInteger(); // 0 quiet, 1 throw from every hook
        LockDependencyValidator bad = new LockDependencyValidator() {
            private void maybeThrow() {
                if (mode.get() == 1) {
                    throw new AssertionError("validator hook exploded");
                }
            }

            @Override
            public boolean isEnabled() {
                return true;
            }

            @Override
            public void acquire(LockMap map, AcquireMode m, boolean trylock) {
                maybeThrow();
            }

            @Override
            public void release(LockMap map) {
                maybeThrow();
            }

            @Override
            public void touch(LockMap map) {
                maybeThrow();
            }

            @Override
            public void initialize(LockMap map) {
            }

            @Override
            public boolean isHeld(LockMap map) {
                return false;
            }
        };
        try (TestRuntime v = new TestRuntime(2, b -> b.validator(bad))) {
            WorkQueue q = v.queue("validated").build();
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("w", runs::incrementAndGet);
            mode.set(1);
            assertThat(q.queue(w)).isTrue();
            await().atMost(BOUND).until(() -> runs.get() == 1 && !w.isPending());
            assertThatThrownBy(q::flush).isInstanceOf(AssertionError.class);
            assertThatThrownBy(w::flush).isInstanceOf(AssertionError.class);
            assertThat(q.queue(w)).as("the worker survived its validator's Error").isTrue();
            await().atMost(BOUND).until(() -> runs.get() == 2 && !w.isPending());
            mode.set(0);
            assertTimeoutPreemptively(BOUND, () -> {
                q.flush();
                assertThat(q.queue(w)).isTrue();
                w.flush();
            });
            assertThat(runs).hasValue(3);
            assertQueueStillWorks(q);
            assertThat(v.errors).anyMatch(e -> e.getMessage().contains("validator hook exploded"));
        }
    }

    /**
     * The overflow that escaped struck the claim's release in queue()'s handler: no library
     * frame but queue(), queueOnChecked() and the release (WorkNode.clearState) is on its stack,
     * so it was not thrown from inside insertClaimed (had the release run, the item would be idle).
     */
    private static boolean struckTheRelease(StackOverflowError e) {
        if (e == null) {
            return false;
        }
        for (StackTraceElement f : e.getStackTrace()) {
            String c = f.getClassName();
            if (c.startsWith("org.workqueue4j.") && !c.contains("ErrorSafetyTest")
                    && !(c.equals("org.workqueue4j.WorkQueue") && (f.getMethodName().equals("queue")
                            || f.getMethodName().equals("queueOnChecked")))
                    && !(c.equals("org.workqueue4j.internal.WorkqueueStruct") && (f.getMethodName().equals("queue")
                            || f.getMethodName().equals("claimAndInsert") || f.getMethodName().equals("insert")))
                    && !(c.equals("org.workqueue4j.internal.WorkNode") && f.getMethodName().equals("clearState"))) {
                return false;
            }
        }
        return true;
    }

    /** Queue, flush and cancel at normal depth complete in bounded time. */
    /**
     * After overflows struck {@code d}'s operations at every depth (it never ran): a cancel takes
     * it back wherever it was left, and queued at once it runs, exactly once.
     */
    static void assertDelayedItemRecovers(WorkQueue q, DelayedWork d, AtomicInteger runs, Duration bound) {
        assertTimeoutPreemptively(bound, () -> {
            d.cancel();
            assertThat(d.isPending()).as("cancel takes it back wherever the overflow struck").isFalse();
            assertThat(q.queueDelayed(d, Duration.ZERO)).isTrue();
            d.flush();
        }, "the delayed item was left in transit");
        assertThat(runs).hasValue(1);
    }

    private static void assertQueueStillWorks(WorkQueue q) {
        AtomicInteger ran = new AtomicInteger();
        Work probe = new Work("still-works", ran::incrementAndGet);
        assertTimeoutPreemptively(BOUND, () -> {
            assertThat(q.queue(probe)).isTrue();
            q.flush();
            assertThat(probe.cancelSync()).isFalse();
        });
        assertThat(ran).hasValue(1);
    }
}
