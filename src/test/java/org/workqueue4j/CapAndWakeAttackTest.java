package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.workqueue4j.LifecycleTest.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.internal.WqRuntime;

/**
 * Attacks on the worker cap's slot accounting (a leaving worker keeps its slot until its thread
 * has ended) and on the inbox landing wake-up: thread factories whose threads linger, end late,
 * throw, or are started by the factory itself; many pools under a small cap; long idle timeouts
 * that make a lost wake-up visible as an item that never runs.
 */
class CapAndWakeAttackTest {
    private static final long BOUND_S = LifecycleTest.BOUND_S;

    @AfterEach
    void noHooks() {
        TestHooks.install(null);
    }

    /** True for the runnable of a pool worker (not the timer, monitor, manager or a rescuer's). */
    private static boolean isPoolWorker(Runnable r) {
        return r.getClass().getName().equals("org.workqueue4j.internal.Worker")
                && !r.toString().contains("kworker/R-");
    }

    private static Thread quiet(Thread t) {
        t.setUncaughtExceptionHandler((th, e) -> { });
        return t;
    }

    /** Every thread in {@code threads} ends (bounded wait): close() has returned. */
    private static void assertAllEnded(List<Thread> threads) throws InterruptedException {
        for (Thread th : threads) {
            th.join(TimeUnit.SECONDS.toMillis(BOUND_S));
            assertThat(th.isAlive()).as("%s (%s) after close()", th, th.getState()).isFalse();
        }
    }

    /** A factory that starts (the user's mistake) the threads it returns for {@code which}, recorded in {@code started}. */
    private static ThreadFactory startingItself(List<Thread> started, java.util.function.Predicate<Runnable> which) {
        return r -> {
            Thread t = new Thread(r);
            if (which.test(r)) {
                t.setDaemon(true); // a failing run must not keep the test JVM alive
                started.add(t);
                t.start();
            }
            return t;
        };
    }

    // ------------------------------------------------------------------ factory abuse

    /**
     * A factory that starts the thread it returns: the worker's loop runs on a thread the pool
     * never attached (newThread's setDaemon on it throws, so the creation fails). Before the fix
     * that loop ran anyway: it took items, went idle on the pool's idle list with no thread to
     * unpark (a kick "woke" it and counted it seeking, so producers woke no one) and parked for
     * the idle timeout; close() neither woke nor joined it, and it was not a daemon.
     */
    @Test
    @DisplayName("a factory that starts its threads leaves no unattached worker running, and close() ends every thread")
    void aFactoryThatStartsItsThreadLeavesNoGhostWorker() throws Exception {
        List<Thread> started = new CopyOnWriteArrayList<>();
        ThreadFactory selfStarting = startingItself(started, CapAndWakeAttackTest::isPoolWorker);
        TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(Duration.ofMinutes(10))
                .closeTimeout(Duration.ofSeconds(2)), selfStarting);
        try {
            WorkQueue q = t.queue("self-started").unbound().build();
            q.queue(new Work("a", () -> { }));
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> !started.isEmpty()
                    && t.reports.stream().anyMatch(s -> s.contains("failed to create a worker")));
            // Whatever the started thread does, let it get there (run, then park; or end).
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> started.stream().allMatch(th ->
                    th.getState() == Thread.State.TIMED_WAITING || th.getState() == Thread.State.WAITING
                            || th.getState() == Thread.State.TERMINATED));
        } finally {
            t.close();
        }
        assertAllEnded(started);
        assertThat(t.reports).anySatisfy(s -> assertThat(s).contains("failed to create a worker")
                .contains("already started"));
    }

    /**
     * The same mistake for a memReclaim queue's rescuer: newThread refuses the started thread
     * (the queue's build() throws), but the rescuer's loop already runs on it. Before the fix
     * that loop waited on the rescuer's condition for ever: nothing stops or joins it.
     */
    @Test
    @DisplayName("a factory that starts a rescuer's thread: the refused rescuer's loop does not run on past close()")
    void aFactoryThatStartsARescuerThreadLeavesNoGhostRescuer() throws Exception {
        List<Thread> started = new CopyOnWriteArrayList<>();
        ThreadFactory selfStarting = startingItself(started, r -> r.toString().contains("kworker/R-"));
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(2)), selfStarting);
        try {
            assertThatThrownBy(() -> t.queue("ghost-rescuer").memReclaim().build())
                    .hasMessageContaining("already started");
            assertThat(started).hasSize(1);
        } finally {
            t.close();
        }
        assertAllEnded(started);
    }

    /**
     * The same mistake for the runtime's own threads (timer, monitor, manager): their bodies run
     * unattached on the started thread; the manager's parks with no one to unpark it.
     */
    @Test
    @DisplayName("a factory that starts every thread: no runtime body runs on an unattached thread past close()")
    void aFactoryThatStartsEveryThreadLeavesNoGhostRuntimeThread() throws Exception {
        List<Thread> started = new CopyOnWriteArrayList<>();
        ThreadFactory selfStarting = startingItself(started, r -> true);
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(2)), selfStarting);
        try {
            try {
                t.queue("ghost-unbound").unbound().build().queue(new Work("w", () -> { }));
            } catch (RuntimeException refused) {
                assertThat(refused).hasMessageContaining("already started");
            }
            assertThat(started).isNotEmpty();
        } finally {
            t.close();
        }
        assertAllEnded(started);
    }

    /**
     * A Thread whose start() starts it and then throws: createWorker took the failure as "never
     * started" and gave the slot back while the worker's loop ran on that thread, outside the
     * pool's list (so outside the cap, stop() and the pool's join list).
     */
    @Test
    @DisplayName("a thread whose start() throws after starting is not a worker outside the cap")
    void aStartThatThrowsAfterStartingLeavesNoWorkerOutsideTheCap() throws Exception {
        AtomicInteger alive = new AtomicInteger();
        AtomicInteger maxAlive = new AtomicInteger();
        AtomicInteger madeWorkers = new AtomicInteger();
        List<Thread> all = new CopyOnWriteArrayList<>();
        ThreadFactory lateThrow = r -> {
            if (!isPoolWorker(r)) {
                return new Thread(r);
            }
            boolean throwing = madeWorkers.getAndIncrement() == 0; // the first worker's start() fails late
            Thread th = new Thread(() -> {
                maxAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
                try {
                    r.run();
                } finally {
                    alive.decrementAndGet();
                }
            }) {
                @Override
                public synchronized void start() {
                    super.start();
                    if (throwing) {
                        throw new IllegalStateException("start() failed after starting");
                    }
                }
            };
            all.add(th);
            return th;
        };
        TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).idleTimeout(Duration.ofMinutes(10))
                .closeTimeout(Duration.ofSeconds(5)), lateThrow);
        try {
            WorkQueue u = t.queue("late-throw").unbound().build();
            CountDownLatch ran = new CountDownLatch(1);
            u.queue(new Work("a", ran::countDown)); // its first worker's start() throws after starting
            await(ran);
            // Three pools with an item each that blocks until released: two slots, so two run at once.
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch twoStarted = new CountDownLatch(2);
            CountDownLatch done = new CountDownLatch(3);
            Runnable blocking = () -> {
                twoStarted.countDown();
                await(release);
                done.countDown();
            };
            WorkQueue p = t.queue("late-throw-cpu").build();
            p.queueOn(0, new Work("b0", blocking));
            p.queueOn(1, new Work("b1", blocking));
            u.queue(new Work("bu", blocking));
            await(twoStarted);
            release.countDown();
            await(done);
        } finally {
            t.rt.close();
        }
        assertThat(maxAlive.get()).as("live pool-worker threads at once, cap 2").isLessThanOrEqualTo(2);
        assertAllEnded(all);
    }

    // ------------------------------------------------------------------ lingering threads

    /**
     * Cap 2, and the first worker that leaves its loop lingers in the factory's code until the
     * test ends: one slot stays taken. Items of three pools (two per-CPU, one unbound) still run
     * one after another in the other slot (retirement moves it between pools); a memReclaim
     * queue's items run through its rescuer; close() returns within closeTimeout, false, and
     * names the lingering thread.
     */
    @Test
    @DisplayName("cap 2 with one exited thread that never ends: items still run in the other slot, close() reports it")
    void aThreadThatNeverEndsTakesOneSlotOnly() throws Exception {
        CountDownLatch testOver = new CountDownLatch(1);
        AtomicReference<Thread> lingerer = new AtomicReference<>();
        AtomicInteger alive = new AtomicInteger();
        AtomicInteger maxAlive = new AtomicInteger();
        ThreadFactory f = r -> {
            if (!isPoolWorker(r)) {
                return new Thread(r);
            }
            return new Thread(() -> {
                maxAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
                try {
                    r.run();
                    if (lingerer.compareAndSet(null, Thread.currentThread())) {
                        await(testOver);
                    }
                } finally {
                    alive.decrementAndGet();
                }
            });
        };
        TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).idleTimeout(Duration.ofMinutes(10))
                .closeTimeout(Duration.ofSeconds(3)), f);
        try {
            WorkQueue cpu = t.queue("linger-cpu").build();
            WorkQueue unbound = t.queue("linger-u").unbound().build();
            WorkQueue reclaim = t.queue("linger-reclaim").memReclaim().build();
            for (int round = 0; round < 6; round++) {
                CountDownLatch ran = new CountDownLatch(3);
                cpu.queueOn(round % 2, new Work("c" + round, ran::countDown));
                unbound.queue(new Work("u" + round, ran::countDown));
                cpu.queueOn((round + 1) % 2, new Work("d" + round, ran::countDown));
                assertThat(ran.await(BOUND_S, TimeUnit.SECONDS)).as("round %d ran", round).isTrue();
                if (round == 1) {
                    Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> lingerer.get() != null);
                }
            }
            CountDownLatch rescued = new CountDownLatch(4);
            for (int i = 0; i < 4; i++) {
                reclaim.queueOn(i % 2, new Work("r" + i, rescued::countDown));
            }
            assertThat(rescued.await(BOUND_S, TimeUnit.SECONDS)).as("memReclaim items ran").isTrue();
            assertThat(maxAlive.get()).as("live pool-worker threads at once, cap 2").isLessThanOrEqualTo(2);
            long t0 = System.nanoTime();
            t.close();
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(tookMs).as("close() returned within closeTimeout (3 s) plus slack").isLessThan(BOUND_S * 1000);
            assertThat(t.reports).anySatisfy(s -> assertThat(s).contains("still alive")
                    .contains(lingerer.get().getName()));
        } finally {
            testOver.countDown();
            t.close();
        }
    }

    /**
     * Cap 2 and every pool-worker thread lingers in the factory's code after the loop until the
     * test ends: once two workers were retired for a starved pool, both slots are held by exited
     * threads and no pool has a worker; the starved pool's item cannot run (the cap counts live
     * threads). That must be said: before the fix the only reports were "worker cap reached: 2
     * workers" (sent at the first refusal, before any worker had left) and a watchdog lockup
     * whose dump showed no worker at all, so nothing named the threads that held the slots.
     */
    @Test
    @DisplayName("slots held by exited threads that never end: the lockup report names them")
    void slotsHeldByExitedThreadsAreNamedInTheReport() throws Exception {
        CountDownLatch testOver = new CountDownLatch(1);
        List<Thread> lingering = new CopyOnWriteArrayList<>();
        ThreadFactory f = r -> {
            if (!isPoolWorker(r)) {
                return new Thread(r);
            }
            return new Thread(() -> {
                r.run();
                lingering.add(Thread.currentThread());
                try {
                    testOver.await(2, TimeUnit.MINUTES); // the factory's code after the loop, until the test ends
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        };
        TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).idleTimeout(Duration.ofMinutes(10))
                .watchdogThreshold(Duration.ofMillis(500)).closeTimeout(Duration.ofSeconds(1)), f);
        try {
            // Three pools want a worker; at most two threads are ever made (no slot comes back), so
            // some pool stays starved and the monitor retires both threads once they are idle.
            WorkQueue cpu = t.queue("held-cpu").build();
            cpu.queueOn(0, new Work("c0", () -> { }));
            cpu.queueOn(1, new Work("c1", () -> { }));
            t.queue("held-u").unbound().build().queue(new Work("u", () -> { }));
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> lingering.size() == 2);
            // A pool that stalls from now on: its lockup report comes with both threads lingering.
            t.queue("held-hi").highPriority().build().queueOn(1, new Work("starved", () -> { }));
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).untilAsserted(() ->
                    assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("lockup")
                            .contains("exited worker(s) whose threads have not ended")
                            .contains(lingering.get(0).getName()).contains(lingering.get(1).getName())));
        } finally {
            testOver.countDown();
            t.close();
        }
    }

    /**
     * Both slots of a cap of 2 busy with items blocked outside the library; a memReclaim queue's
     * items (unbound and per-CPU) run through its rescuer, and its destroy() (a drain) returns
     * while the slots are still held; a plain queue's drain() completes once the slots free.
     */
    @Test
    @DisplayName("cap 2, both slots blocked: memReclaim items run through the rescuer, destroy() and drain() complete")
    void rescuerAndDestroyWhileEverySlotIsBlocked() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).idleTimeout(Duration.ofMinutes(10)))) {
            WorkQueue blocker = t.queue("slots-block").build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch blocking = new CountDownLatch(2);
            try {
                for (int cpu = 0; cpu < 2; cpu++) {
                    blocker.queueOn(cpu, new Work("block" + cpu, () -> {
                        blocking.countDown();
                        await(release);
                    }));
                }
                await(blocking);
                WorkQueue reclaimU = t.queue("slots-reclaim-u").memReclaim().unbound().build();
                WorkQueue reclaim = t.queue("slots-reclaim").memReclaim().build();
                WorkQueue plain = t.queue("slots-plain").unbound().build();
                CountDownLatch rescued = new CountDownLatch(20);
                AtomicInteger plainRan = new AtomicInteger();
                for (int i = 0; i < 10; i++) {
                    reclaimU.queue(new Work("ru" + i, rescued::countDown));
                    reclaim.queueOn(i % 2, new Work("rc" + i, rescued::countDown));
                    plain.queue(new Work("p" + i, plainRan::incrementAndGet));
                }
                assertThat(rescued.await(BOUND_S, TimeUnit.SECONDS)).as("rescued items ran with every slot blocked").isTrue();
                reclaimU.queue(new Work("late", () -> { }));
                Thread destroyer = new Thread(reclaimU::destroy, "destroyer");
                destroyer.start();
                destroyer.join(TimeUnit.SECONDS.toMillis(BOUND_S));
                assertThat(destroyer.isAlive()).as("destroy() of a memReclaim queue with every slot blocked returned").isFalse();
                assertThat(plainRan.get()).as("a plain unbound queue's items wait for a slot").isZero();
                Thread drainer = new Thread(plain::drain, "drainer");
                drainer.start();
                release.countDown();
                drainer.join(TimeUnit.SECONDS.toMillis(BOUND_S));
                assertThat(drainer.isAlive()).as("drain() returned once the slots freed").isFalse();
                assertThat(plainRan.get()).isEqualTo(10);
            } finally {
                release.countDown();
            }
        }
    }

    /**
     * Cap 2, 10-minute idle timeout, and a factory that throws an Error for every other pool
     * worker: the failed creations give their slots back (workerCount() equals the live worker
     * threads afterwards), items of four pools still run without a flush (after the retry
     * cooldown), and close() leaves workerCount() at zero.
     */
    @Test
    @DisplayName("cap 2 with a factory that throws an Error every other worker: no slot leaks, every item runs")
    void aFactoryThrowingErrorsAtTheCapLeaksNoSlot() throws Exception {
        Counted counted = new Counted(0);
        AtomicInteger calls = new AtomicInteger();
        ThreadFactory f = r -> {
            if (isPoolWorker(r) && calls.incrementAndGet() % 2 == 0) {
                throw new OutOfMemoryError("unable to create native thread (test)");
            }
            return counted.newThread(r);
        };
        AtomicReference<WqRuntime> engine = new AtomicReference<>();
        TestHooks.install((point, subject) -> {
            if (point.equals("monitor.scan") && subject instanceof WqRuntime) {
                engine.compareAndSet(null, (WqRuntime) subject);
            }
        });
        TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).idleTimeout(Duration.ofMinutes(10)), f);
        try {
            List<WorkQueue> qs = List.of(t.queue("e-cpu").build(), t.queue("e-u").unbound().build(),
                    t.queue("e-hi").highPriority().build(), t.queue("e-ord").ordered().build());
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < qs.size(); i++) {
                    CountDownLatch ran = new CountDownLatch(1);
                    assertThat(qs.get(i).queueOn(round % 2, new Work("e" + round + "-" + i, ran::countDown))).isTrue();
                    assertThat(ran.await(BOUND_S, TimeUnit.SECONDS)).as("round %d, queue %s", round, qs.get(i).name()).isTrue();
                }
            }
            assertThat(calls.get()).as("creations tried, half of them failed").isGreaterThanOrEqualTo(2);
            assertThat(counted.maxAlive.get()).isLessThanOrEqualTo(2);
            WqRuntime e = engine.get();
            assertThat(e).isNotNull();
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                    .untilAsserted(() -> assertThat(e.workerCount()).isEqualTo(counted.alive.get()));
        } finally {
            t.close();
        }
        assertAllEnded(counted.made);
        assertThat(engine.get().workerCount()).as("workerCount() after close()").isZero();
    }

    /**
     * Many pools under a cap of 3 with a 1 ms idle timeout; every worker thread lingers a random
     * while after the loop and some die by throwing; items block outside the library. Every
     * accepted item runs exactly once without a flush; live worker threads (counted exactly by
     * the factory's wrapper) never exceed the cap; once quiet, workerCount() equals the live
     * worker threads; close() ends every thread.
     */
    @Test
    @DisplayName("hammer: many pools, cap 3, lingering and throwing threads, 1 ms idle timeout: exactly once, cap holds")
    void hammerUnderASmallCapWithLingeringThreads() throws Exception {
        Counted f = new Counted(2000, true);
        AtomicInteger alive = f.alive;
        AtomicInteger maxAlive = f.maxAlive;
        List<Thread> made = f.made;
        AtomicReference<WqRuntime> engine = new AtomicReference<>();
        TestHooks.install((point, subject) -> {
            if (point.equals("monitor.scan") && subject instanceof WqRuntime) {
                engine.compareAndSet(null, (WqRuntime) subject);
            }
        });
        TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(3).idleTimeout(Duration.ofMillis(1))
                .cpuIntensiveThreshold(Duration.ofMillis(5)), f);
        try {
            List<WorkQueue> qs = List.of(
                    t.queue("h-cpu").build(),
                    t.queue("h-hi").highPriority().build(),
                    t.queue("h-u").unbound().build(),
                    t.queue("h-ord").ordered().build(),
                    t.queue("h-one").maxActive(1).build(),
                    t.queue("h-rec").memReclaim().build());
            int perProducer = 1500;
            int producers = 2;
            AtomicIntegerArray runs = new AtomicIntegerArray(perProducer * producers);
            CountDownLatch all = new CountDownLatch(perProducer * producers);
            List<Thread> ps = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int base = p * perProducer;
                Thread th = new Thread(() -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < perProducer; i++) {
                        int id = base + i;
                        WorkQueue q = qs.get(rnd.nextInt(qs.size()));
                        boolean block = rnd.nextInt(50) == 0;
                        Work w = new Work("h" + id, () -> {
                            runs.incrementAndGet(id);
                            if (block) {
                                LockSupportSleep.micros(500); // blocked outside the library
                            }
                            if (id % 97 == 0) {
                                all.countDown();
                                throw new AssertionError("an Error from a work item");
                            }
                            all.countDown();
                        });
                        boolean ok = rnd.nextBoolean() ? q.queue(w) : q.queueOn(rnd.nextInt(2), w);
                        if (!ok) {
                            throw new AssertionError("a fresh Work was refused");
                        }
                    }
                }, "producer-" + p);
                ps.add(th);
                th.start();
            }
            for (Thread th : ps) {
                th.join();
            }
            assertThat(all.await(60, TimeUnit.SECONDS)).as("every accepted item ran without a flush (%d left)",
                    all.getCount()).isTrue();
            for (int i = 0; i < runs.length(); i++) {
                assertThat(runs.get(i)).as("runs of item %d", i).isEqualTo(1);
            }
            assertThat(maxAlive.get()).as("live pool-worker threads at once, cap 3").isLessThanOrEqualTo(3);
            WqRuntime e = engine.get();
            assertThat(e).isNotNull();
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                    .untilAsserted(() -> assertThat(e.workerCount()).isEqualTo(alive.get()));
        } finally {
            t.close();
        }
        for (Thread th : made) {
            assertThat(th.isAlive()).as("%s after close()", th).isFalse();
        }
        assertThat(engine.get().workerCount()).as("workerCount() after close()").isZero();
    }

    /** Per-runtime bookkeeping of the factory's pool-worker threads. */
    private static final class Counted implements ThreadFactory {
        final AtomicInteger alive = new AtomicInteger();
        final AtomicInteger maxAlive = new AtomicInteger();
        final List<Thread> made = new CopyOnWriteArrayList<>();
        final int lingerMicros;
        final boolean throwAfter;

        Counted(int lingerMicros) {
            this(lingerMicros, false);
        }

        /**
         * @param lingerMicros the factory's code after the loop takes up to this long (0: none)
         * @param throwAfter   a quarter of the threads then end by throwing
         */
        Counted(int lingerMicros, boolean throwAfter) {
            this.lingerMicros = lingerMicros;
            this.throwAfter = throwAfter;
        }

        @Override
        public Thread newThread(Runnable r) {
            if (!isPoolWorker(r)) {
                return new Thread(r);
            }
            Thread th = quiet(new Thread(() -> {
                maxAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
                try {
                    r.run();
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    if (lingerMicros > 0) {
                        LockSupportSleep.micros(rnd.nextInt(lingerMicros)); // the factory's code after the loop
                    }
                    if (throwAfter && rnd.nextInt(4) == 0) {
                        throw new IllegalStateException("factory code after the loop failed");
                    }
                } finally {
                    alive.decrementAndGet();
                }
            }));
            made.add(th);
            return th;
        }
    }

    /**
     * Two runtimes in one JVM, each with a cap of 2, seven kinds of queue and a 10-minute idle
     * timeout (a parked worker wakes only when signalled), threads lingering after the loop.
     * One item at a time per pinger, each awaited without a flush, while a chaos thread
     * interrupts every worker thread, toggles maxActive and freezes and thaws the runtime: a
     * lost wake-up shows as an item that does not run within the bound.
     */
    @Test
    @DisplayName("two runtimes, cap 2, 10-minute idle timeout, interrupts and setMaxActive/freeze churn: every item runs promptly")
    void pingEveryPoolUnderTheCapWithChaos() throws Exception {
        List<TestRuntime> rts = new ArrayList<>();
        List<Counted> factories = new ArrayList<>();
        AtomicReference<String> failure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int k = 0; k < 2; k++) {
                Counted f = new Counted(k == 0 ? 300 : 0);
                factories.add(f);
                TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).idleTimeout(Duration.ofMinutes(10))
                        .cpuIntensiveThreshold(Duration.ofMillis(5)), f);
                rts.add(t);
                WorkQueue limited = t.queue("p-one").maxActive(1).build();
                WorkQueue frozen = t.queue("p-frz").freezable().unbound().build();
                List<WorkQueue> qs = List.of(t.queue("p-cpu").build(), t.queue("p-hi").highPriority().build(),
                        t.queue("p-u").unbound().build(), t.queue("p-ord").ordered().build(), limited,
                        t.queue("p-rec").memReclaim().build(), t.queue("p-int").cpuIntensive().build());
                for (int pinger = 0; pinger < 2; pinger++) {
                    threads.add(new Thread(() -> {
                        ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        for (int i = 0; i < 300 && failure.get() == null; i++) {
                            WorkQueue q = qs.get(rnd.nextInt(qs.size()));
                            CountDownLatch ran = new CountDownLatch(1);
                            int blockUs = rnd.nextInt(4) == 0 ? rnd.nextInt(3000) : 0;
                            Work w = new Work("ping" + i, () -> {
                                ran.countDown();
                                LockSupportSleep.micros(blockUs);
                            });
                            boolean ok = rnd.nextBoolean() ? q.queue(w) : q.queueOn(rnd.nextInt(2), w);
                            try {
                                if (!ok) {
                                    failure.compareAndSet(null, "refused " + w.name() + " on " + q.name());
                                } else if (!ran.await(BOUND_S, TimeUnit.SECONDS)) {
                                    failure.compareAndSet(null, w.name() + " on " + q.name() + " did not run in "
                                            + BOUND_S + " s\n" + t.rt.dump());
                                }
                            } catch (InterruptedException e) {
                                failure.compareAndSet(null, "interrupted");
                            }
                        }
                    }, "pinger-" + k + "-" + pinger));
                }
                threads.add(new Thread(() -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    while (!stop.get()) {
                        switch (rnd.nextInt(4)) {
                            case 0 -> f.made.forEach(Thread::interrupt);
                            case 1 -> limited.setMaxActive(1 + rnd.nextInt(2));
                            case 2 -> {
                                t.rt.freeze();
                                frozen.queue(new Work("frozen", () -> { }));
                                t.rt.thaw();
                            }
                            default -> t.queue("p-new-" + rnd.nextInt(1_000_000)).unbound().build()
                                    .queue(new Work("new-queue", () -> { }));
                        }
                        LockSupportSleep.micros(rnd.nextInt(2000));
                    }
                }, "chaos-" + k));
            }
            threads.forEach(Thread::start);
            for (Thread th : threads) {
                if (th.getName().startsWith("pinger")) {
                    th.join(TimeUnit.MINUTES.toMillis(4));
                    assertThat(th.isAlive()).as("%s finished", th.getName()).isFalse();
                }
            }
            stop.set(true);
            for (Thread th : threads) {
                th.join(TimeUnit.SECONDS.toMillis(BOUND_S));
            }
            assertThat(failure.get()).isNull();
            for (Counted f : factories) {
                assertThat(f.maxAlive.get()).as("live pool-worker threads at once, cap 2").isLessThanOrEqualTo(2);
            }
        } finally {
            stop.set(true);
            for (TestRuntime t : rts) {
                t.close();
            }
        }
        for (Counted f : factories) {
            for (Thread th : f.made) {
                assertThat(th.isAlive()).as("%s (%s) after close()", th, th.getState()).isFalse();
            }
        }
        for (TestRuntime t : rts) {
            assertThat(t.errors).isEmpty();
        }
    }

    /**
     * close() racing producers under a cap of 2 with lingering threads, over and over: every
     * item whose queue() returned true has run exactly once when close() returns, close()
     * returns, and every thread the runtime made has ended.
     */
    @Test
    @DisplayName("close() racing producers at the cap: every accepted item ran once, every thread ended")
    void closeRacingProducersAtTheCap() throws Exception {
        for (int round = 0; round < 15; round++) {
            Counted f = new Counted(round % 2 == 0 ? 500 : 0);
            long idleMs = round % 3 == 0 ? 1 : 600_000;
            TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).idleTimeout(Duration.ofMillis(idleMs))
                    .closeTimeout(Duration.ofSeconds(BOUND_S)), f);
            List<WorkQueue> qs = List.of(t.queue("c-cpu").build(), t.queue("c-u").unbound().build(),
                    t.queue("c-ord").ordered().build(), t.queue("c-rec").memReclaim().build(),
                    t.queue("c-hi").highPriority().build());
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            AtomicInteger twice = new AtomicInteger();
            List<Thread> ps = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                Thread th = new Thread(() -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    while (true) {
                        AtomicInteger once = new AtomicInteger();
                        Work w = new Work("c", () -> {
                            if (once.incrementAndGet() > 1) {
                                twice.incrementAndGet();
                            }
                            ran.incrementAndGet();
                            if (rnd.nextInt(20) == 0) {
                                LockSupportSleep.micros(200);
                            }
                        });
                        WorkQueue q = qs.get(rnd.nextInt(qs.size()));
                        try {
                            if (rnd.nextBoolean() ? q.queue(w) : q.queueOn(rnd.nextInt(2), w)) {
                                accepted.incrementAndGet();
                            } else if (q.isDestroyed()) {
                                return;
                            }
                        } catch (IllegalStateException closed) {
                            return;
                        }
                    }
                });
                ps.add(th);
                th.start();
            }
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> accepted.get() > 200);
            Thread closer = new Thread(t::close, "closer");
            closer.start();
            closer.join(TimeUnit.SECONDS.toMillis(BOUND_S * 2));
            assertThat(closer.isAlive()).as("round %d: close() returned", round).isFalse();
            for (Thread th : ps) {
                th.join(TimeUnit.SECONDS.toMillis(BOUND_S));
                assertThat(th.isAlive()).as("producer ended").isFalse();
            }
            assertThat(twice.get()).as("round %d: items that ran twice", round).isZero();
            assertThat(ran.get()).as("round %d: items run when close() returned, of %d accepted", round, accepted.get())
                    .isEqualTo(accepted.get());
            for (Thread th : f.made) {
                assertThat(th.isAlive()).as("round %d: %s (%s) after close()", round, th, th.getState()).isFalse();
            }
            assertThat(f.maxAlive.get()).as("live pool-worker threads at once, cap 2").isLessThanOrEqualTo(2);
            assertThat(t.reports).noneMatch(r -> r.contains("close()") && r.contains("still alive"));
        }
    }

    /** Blocking the calling thread for a while, as an item blocked outside the library would. */
    static final class LockSupportSleep {
        static void micros(long us) {
            long end = System.nanoTime() + us * 1000;
            long left;
            while ((left = end - System.nanoTime()) > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(left);
            }
        }
    }
}
