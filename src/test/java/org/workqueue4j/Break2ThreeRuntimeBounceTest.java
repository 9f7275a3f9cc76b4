package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * Items moved between three runtimes' queues (three timers) by several threads with every
 * call that reads an item's timer binding, while bystanders stay armed on every timer and one
 * runtime closes meanwhile. README faults table: a caller holding an old binding "acts only on a
 * timer whose own heap holds the item"; a bystander stays armed and cancellable.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break2ThreeRuntimeBounceTest {
    private final TestRuntime a = new TestRuntime(2);
    private final TestRuntime b = new TestRuntime(2);
    private final TestRuntime c = new TestRuntime(2);

    @AfterEach
    void close() {
        a.close();
        b.close();
        c.close();
    }

    private static boolean cancelWithin(DelayedWork x) throws Exception {
        FutureTask<Boolean> f = new FutureTask<>(x::cancel);
        Thread th = new Thread(f, "cancel-" + x.name());
        th.setDaemon(true); // a cancel of an item lost from every heap spins for ever
        th.start();
        return f.get(20, TimeUnit.SECONDS);
    }

    /** An instance a refused modDelayed took back (a destroy, or a run elsewhere, began meanwhile). */
    private static boolean refusedModDelayed(Throwable e) {
        return e instanceof IllegalStateException
                && java.util.Arrays.stream(e.getStackTrace()).anyMatch(f -> f.getMethodName().equals("modDelayed"));
    }

    @RepeatedTest(5)
    void bystandersOnEveryTimerSurviveMoversAndAClose() throws Exception {
        WorkQueue qa = a.queue("qa").build();
        WorkQueue qb = b.queue("qb").build();
        WorkQueue qc = c.queue("qc").build();
        WorkQueue[] qs = {qa, qb, qc};
        List<DelayedWork> byA = new ArrayList<>();
        List<DelayedWork> byB = new ArrayList<>();
        List<DelayedWork> byC = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            for (int r = 0; r < 3; r++) {
                DelayedWork x = new DelayedWork("by" + "ABC".charAt(r) + i, () -> { });
                assertThat(qs[r].queueDelayed(x, Duration.ofHours(2 + i))).isTrue();
                (r == 0 ? byA : r == 1 ? byB : byC).add(x);
            }
        }
        int nMovers = 4;
        DelayedWork[] movers = new DelayedWork[nMovers];
        AtomicInteger[] runs = new AtomicInteger[nMovers];
        for (int i = 0; i < nMovers; i++) {
            AtomicInteger n = runs[i] = new AtomicInteger();
            movers[i] = new DelayedWork("mover" + i, n::incrementAndGet);
            assertThat(qs[i % 3].queueDelayed(movers[i], Duration.ofHours(1))).isTrue();
        }
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        int threads = 5;
        int ops = 20000;
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch half = new CountDownLatch(threads);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                try {
                    start.await();
                    for (int i = 0; i < ops; i++) {
                        if (i == ops / 2) {
                            half.countDown();
                        }
                        DelayedWork m = movers[rnd.nextInt(nMovers)];
                        WorkQueue q = qs[rnd.nextInt(3)];
                        try {
                            switch (rnd.nextInt(9)) {
                                case 0, 1, 2 -> q.modDelayed(m, rnd.nextBoolean() ? Duration.ofHours(1) : Duration.ofMillis(rnd.nextInt(3)));
                                case 3 -> m.cancel();
                                case 4 -> m.flush();
                                case 5 -> m.flush(Duration.ofSeconds(5));
                                case 6 -> m.flushAsync();
                                case 7 -> m.cancelSync();
                                default -> q.queueDelayed(m, Duration.ofMinutes(30 + rnd.nextInt(30)));
                            }
                        } catch (IllegalStateException e) {
                            // documented: a refusal by the closed runtime, pending or running on another queue
                        }
                    }
                } catch (Throwable e) {
                    unexpected.add(e);
                }
            }, "mover-thread-" + t);
            th.setDaemon(true);
            ts.add(th);
            th.start();
        }
        start.countDown();
        assertThat(half.await(60, TimeUnit.SECONDS)).as("movers reached half way").isTrue();
        c.close(); // destroys qc while items move in and out of it
        for (Thread th : ts) {
            th.join(60_000);
            assertThat(th.isAlive()).as("%s returned (stack: %s)", th.getName(), List.of(th.getStackTrace())).isFalse();
        }
        assertThat(unexpected).as("no exception but a documented IllegalStateException").isEmpty();
        for (DelayedWork m : movers) {
            FutureTask<Boolean> f = new FutureTask<>(m::cancelSync);
            Thread th = new Thread(f, "cancelSync-" + m.name());
            th.setDaemon(true);
            th.start();
            f.get(20, TimeUnit.SECONDS);
            assertThat(m.isPending()).as("%s pending after cancelSync", m.name()).isFalse();
            int before = runs[java.util.Arrays.asList(movers).indexOf(m)].get();
            assertThat(qa.queue(m)).as("%s usable", m.name()).isTrue();
            qa.flush();
            assertThat(runs[java.util.Arrays.asList(movers).indexOf(m)].get()).isEqualTo(before + 1);
        }
        for (DelayedWork x : byA) {
            assertThat(x.isPending()).as("%s still pending", x.name()).isTrue();
            assertThat(cancelWithin(x)).as("%s was armed: cancel() says so", x.name()).isTrue();
        }
        for (DelayedWork x : byB) {
            assertThat(x.isPending()).as("%s still pending", x.name()).isTrue();
            assertThat(cancelWithin(x)).as("%s was armed: cancel() says so", x.name()).isTrue();
        }
        for (DelayedWork x : byC) {
            assertThat(x.isPending()).as("%s reported by the close, idle", x.name()).isFalse();
            assertThat(c.errorWork.stream().filter(s -> s.equals("qc/" + x.name())).count())
                    .as("%s reported exactly once: %s", x.name(), c.errorWork).isEqualTo(1);
        }
        // A and B report only an instance a refused modDelayed took back
        assertThat(a.errors).as("A's reports: %s", a.errorWork)
                .allMatch(Break2ThreeRuntimeBounceTest::refusedModDelayed);
        assertThat(b.errors).as("B's reports: %s", b.errorWork)
                .allMatch(Break2ThreeRuntimeBounceTest::refusedModDelayed);
        assertThat(a.errorWork).allMatch(s -> s.startsWith("qa/mover"));
        assertThat(b.errorWork).allMatch(s -> s.startsWith("qb/mover"));
        assertThat(c.errorWork).as("only qc items reported by C").allMatch(s -> s.startsWith("qc/"));
    }
}
