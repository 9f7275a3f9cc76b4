package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.workqueue4j.LifecycleTest.BOUND_S;
import static org.workqueue4j.LifecycleTest.await;
import static org.workqueue4j.LifecycleTest.join;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Attacks on three engine changes of the completion path: a pool worker no longer kicks the pool
 * for the inactive item its completion activates (it takes it next itself); a waiter that is not
 * a worker spins briefly before parking; the monitor reaps a worker whose thread ended without
 * running its loop. Idle timeouts are long (10 minutes) where a lost wake-up must show as an item
 * that never runs.
 */
class CompletionPathAttackTest {
    private static final Duration LONG_IDLE = Duration.ofMinutes(10);
    /** The name of a pool worker's thread (per-CPU, unbound, high priority). */
    private static final String POOL_WORKER = ".*/kworker/u?\\d+:\\d+H?";

    /**
     * A ThreadFactory with a common bug: the thread it makes returns without running the
     * Runnable it was given when {@code drop} holds for its name (the runtime's name, set after
     * the factory returns, as the thread starts).
     */
    private static ThreadFactory dropping(java.util.function.Predicate<String> drop) {
        return r -> new Thread(() -> {
            if (!drop.test(Thread.currentThread().getName())) {
                r.run();
            }
        });
    }

    // ------------------------------------------------------------------ no kick on activation

    /** Three ordered queues on one unbound pool, fed by producers, no flush: every item runs, FIFO, one at a time. */
    @Test
    void orderedQueuesDrainWithoutAFlushAtALongIdleTimeout() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE))) {
            int queues = 3;
            int perQueue = 2000;
            CountDownLatch all = new CountDownLatch(queues * perQueue);
            List<String> violations = new CopyOnWriteArrayList<>();
            List<Thread> producers = new ArrayList<>();
            for (int qi = 0; qi < queues; qi++) {
                WorkQueue q = t.queue("ordered-" + qi).ordered().build();
                AtomicInteger next = new AtomicInteger();
                AtomicInteger running = new AtomicInteger();
                int qid = qi;
                producers.add(new Thread(() -> {
                    for (int i = 0; i < perQueue; i++) {
                        int seq = i;
                        q.queue(new Work("o" + qid + "-" + i, () -> {
                            if (running.incrementAndGet() != 1) {
                                violations.add("two items of ordered-" + qid + " at once at " + seq);
                            }
                            if (next.getAndIncrement() != seq) {
                                violations.add("ordered-" + qid + " ran " + seq + " out of order");
                            }
                            running.decrementAndGet();
                            all.countDown();
                        }));
                    }
                }, "producer-" + qi));
            }
            producers.forEach(Thread::start);
            for (Thread p : producers) {
                join(p);
            }
            await(all);
            assertThat(violations).isEmpty();
        }
    }

    /** An ordered item that re-queues itself: each completion activates the next copy, nothing flushes. */
    @Test
    void aSelfRequeueingOrderedItemKeepsRunning() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE))) {
            WorkQueue q = t.queue("self").ordered().build();
            AtomicInteger left = new AtomicInteger(5000);
            CountDownLatch done = new CountDownLatch(1);
            Work[] self = new Work[1];
            self[0] = new Work("self", () -> {
                if (left.decrementAndGet() > 0) {
                    q.queue(self[0]); // pending again while it runs: inactive behind itself
                } else {
                    done.countDown();
                }
            });
            q.queue(self[0]);
            await(done);
        }
    }

    /**
     * A per-CPU queue limited to one active item on CPU 0 while another item of CPU 0 blocks
     * outside the library (never released during the test's first wait): the completing worker
     * does not keep working (two count as running), so the activated item waits for concurrency
     * management, which must still run it.
     */
    @Test
    void anActivatedPerCpuItemRunsWhileASiblingBlocksOutsideTheLibrary() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE)
                .cpuIntensiveThreshold(Duration.ofMillis(20)))) {
            WorkQueue limited = t.queue("limited").maxActive(1).build();
            WorkQueue other = t.queue("other").build();
            CountDownLatch blockerIn = new CountDownLatch(1);
            CountDownLatch releaseBlocker = new CountDownLatch(1);
            CountDownLatch firstIn = new CountDownLatch(1);
            CountDownLatch releaseFirst = new CountDownLatch(1);
            CountDownLatch secondRan = new CountDownLatch(1);
            limited.queueOn(0, new Work("first", () -> {
                firstIn.countDown();
                await(releaseFirst);
            }));
            await(firstIn);
            limited.queueOn(0, new Work("second", secondRan::countDown)); // inactive: the slot is taken
            other.queueOn(0, new Work("blocker", () -> {
                blockerIn.countDown();
                await(releaseBlocker);
            }));
            try {
                await(blockerIn);
                releaseFirst.countDown();
                await(secondRan); // while the blocker still blocks
            } finally {
                releaseBlocker.countDown();
            }
        }
    }

    /** Work.flush() of an inactive ordered item: the barrier is linked behind it; activation by completion must run both. */
    @Test
    void aBarrierLinkedBehindTheActivatedItemCompletes() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE))) {
            WorkQueue q = t.queue("ordered").ordered().build();
            for (int round = 0; round < 200; round++) {
                CountDownLatch release = new CountDownLatch(1);
                TestRuntime.blockOrdered(q, release);
                AtomicInteger ran = new AtomicInteger();
                Work y = new Work("y" + round, ran::incrementAndGet);
                q.queue(y);
                AtomicBoolean flushed = new AtomicBoolean();
                // linked, not a thread state (a wait for a pool lock on its way in looks the same): else y may run first
                Thread flusher = TestRuntime.startAndAwaitAt("flusher", () -> flushed.set(y.flush()), "flush.barrierLinked");
                release.countDown();
                join(flusher);
                assertThat(flushed).isTrue();
                assertThat(ran.get()).isEqualTo(1);
            }
        }
    }

    /**
     * The completing worker does not reach the worklist next when the non-reentrancy hand-off
     * gave it more: X of an unbound queue limited to two active items is queued again while it
     * runs (that instance is active and goes to X's worker), Y waits inactive behind both, and
     * X's second run waits, outside the library, for Y, which X's first completion activated.
     * Y must run on another worker meanwhile.
     */
    @Test
    void anItemHandedBackToTheCompletingWorkerDoesNotHoldUpTheActivatedOne() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE))) {
            WorkQueue q = t.queue("two").unbound().maxActive(2).build();
            for (int round = 0; round < 50; round++) {
                CountDownLatch firstIn = new CountDownLatch(1);
                CountDownLatch releaseFirst = new CountDownLatch(1);
                CountDownLatch yRan = new CountDownLatch(1);
                AtomicInteger runs = new AtomicInteger();
                Work x = new Work("x" + round, () -> {
                    if (runs.incrementAndGet() == 1) {
                        firstIn.countDown();
                        await(releaseFirst);
                    } else {
                        await(yRan); // Y was activated by X's first completion
                    }
                });
                q.queue(x);
                await(firstIn);
                assertThat(q.queue(x)).isTrue(); // active (2 of 2): handed to the worker running X
                Work y = new Work("y" + round, yRan::countDown);
                q.queue(y); // inactive: both slots are X's
                releaseFirst.countDown();
                await(yRan);
                assertThat(x.flush(Duration.ofSeconds(BOUND_S))).isTrue();
                assertThat(runs.get()).isEqualTo(2);
            }
            assertThat(t.errors).isEmpty();
        }
    }

    /** Items of several limited pwqs in one unbound pool, queued from inside items (chains), no flush. */
    @Test
    void chainsOfSeveralLimitedQueuesInOnePoolAllRun() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE))) {
            int chains = 4;
            int length = 3000;
            CountDownLatch done = new CountDownLatch(chains);
            for (int c = 0; c < chains; c++) {
                WorkQueue q = c % 2 == 0 ? t.queue("ord-" + c).ordered().build()
                        : t.queue("lim-" + c).unbound().maxActive(1).build();
                AtomicInteger left = new AtomicInteger(length);
                for (int k = 0; k < 3; k++) { // three items per queue, re-queueing each other
                    Work[] w = new Work[1];
                    w[0] = new Work("c" + c + "-" + k, () -> {
                        int l = left.decrementAndGet();
                        if (l > 0) {
                            q.queue(w[0]);
                        } else if (l == 0) {
                            done.countDown();
                        }
                    });
                    q.queue(w[0]);
                }
            }
            await(done);
        }
    }

    // ------------------------------------------------------------------ dead worker reaping

    /** A factory whose pool-worker threads never run the Runnable: reported, and close() returns. */
    @Test
    void aFactoryThatAlwaysDropsWorkersIsReportedAndCloseReturns() throws Exception {
        ThreadFactory dropsWorkers = dropping(n -> n.matches(POOL_WORKER));
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(5)), dropsWorkers);
        WorkQueue q = t.queue("never").build();
        q.queueOn(0, new Work("never-runs", () -> { }));
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                .until(() -> t.reports.stream().anyMatch(r -> r.contains("ended without running")));
        Thread closer = new Thread(t::close, "closer");
        closer.start();
        join(closer);
        assertThat(t.rt.engine().workerCount()).isZero();
    }

    /**
     * The monitor's own thread dropped by the factory. Dead pool workers are found by the
     * monitor (reapDeadWorkers), so a runtime without one would lose every item queued to a
     * dropped worker without a word. The runtime waits for each runtime thread it starts to run
     * its body: the first queue is refused with an exception naming the thread, nothing of the
     * queue exists, and the next build tries again.
     */
    @Test
    void aFactoryThatDropsTheMonitorRefusesTheQueueUntilItRunsIt() throws Exception {
        AtomicBoolean dropMonitor = new AtomicBoolean(true);
        AtomicBoolean workerDropped = new AtomicBoolean();
        ThreadFactory f = dropping(n -> n.endsWith("kworker/monitor") && dropMonitor.get()
                || n.contains("/kworker/0:") && workerDropped.compareAndSet(false, true));
        try (TestRuntime t = new TestRuntime(2, b -> { }, f)) {
            for (int attempt = 0; attempt < 2; attempt++) {
                assertThatThrownBy(() -> t.queue("q").build())
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("kworker/monitor")
                        .hasMessageContaining("ThreadFactory");
                assertThat(t.rt.queues()).isEmpty();
            }
            dropMonitor.set(false);
            WorkQueue q = t.queue("q").build();
            CountDownLatch ran = new CountDownLatch(1);
            q.queueOn(0, new Work("w", ran::countDown)); // its first worker is dropped: the monitor reaps it
            await(ran);
            assertThat(t.reports).anyMatch(r -> r.contains("ended without running"));
        }
    }

    /** Every thread the factory makes drops its Runnable: the first queue says so, at once, and close() returns. */
    @Test
    void aFactoryThatDropsEveryRunnableRefusesTheFirstQueue() throws Exception {
        ThreadFactory dropsAll = r -> new Thread(() -> { });
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(2)), dropsAll);
        assertThatThrownBy(() -> t.queue("q").build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kworker/")
                .hasMessageContaining("ended without running");
        assertThatThrownBy(() -> t.rt.system()).isInstanceOf(IllegalStateException.class);
        Thread closer = new Thread(t::close, "closer");
        closer.start();
        join(closer);
        assertThat(t.rt.engine().workerCount()).isZero();
    }

    /** The first build waits for its runtime threads to check in; an interrupt pending meanwhile is kept, not eaten. */
    @Test
    void theFirstBuildKeepsAPendingInterrupt() throws Exception {
        try (TestRuntime t = new TestRuntime(2)) {
            Object[] out = interruptedBefore(() -> t.queue("q").build());
            assertThat(out[0]).isInstanceOf(WorkQueue.class);
            assertThat(out[1]).as("interrupt status after build()").isEqualTo(true);
            CountDownLatch ran = new CountDownLatch(1);
            ((WorkQueue) out[0]).queue(new Work("w", ran::countDown));
            await(ran);
        }
    }

    /** The timer's thread dropped by the factory: the delayed item is refused, not armed on a timer that never fires. */
    @Test
    void aFactoryThatDropsTheTimerRefusesTheDelayedItem() throws Exception {
        AtomicBoolean dropTimer = new AtomicBoolean(true);
        ThreadFactory f = dropping(n -> n.endsWith("kworker/timer") && dropTimer.get());
        try (TestRuntime t = new TestRuntime(2, b -> { }, f)) {
            WorkQueue q = t.queue("q").build();
            CountDownLatch ran = new CountDownLatch(1);
            DelayedWork d = new DelayedWork("later", ran::countDown);
            assertThatThrownBy(() -> q.queueDelayed(d, Duration.ofMillis(1)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("kworker/timer");
            assertThat(d.isPending()).isFalse();
            dropTimer.set(false);
            assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
            await(ran);
        }
    }

    /**
     * The rescuer's thread of a memReclaim queue dropped by the factory. At the cap its maydays
     * would never be served: the queue's forward-progress guarantee gone, silently (later: a
     * monitor report, items still stuck). Now the queue is refused at build() with an exception
     * naming the thread; once the factory runs what it is given, the rescuer serves at the cap.
     */
    @Test
    void aDroppedRescuerRefusesTheMemReclaimQueue() throws Exception {
        AtomicBoolean drop = new AtomicBoolean(true);
        ThreadFactory f = dropping(n -> n.contains("R-reclaim") && drop.get());
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).closeTimeout(Duration.ofSeconds(2)), f)) {
            WorkQueue blockers = t.queue("blockers").unbound().build();
            assertThatThrownBy(() -> t.queue("reclaim").memReclaim().build())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("kworker/R-reclaim")
                    .hasMessageContaining("ThreadFactory");
            assertThat(t.rt.queues()).extracting(WorkQueue::name).containsExactly("blockers");
            drop.set(false);
            WorkQueue reclaim = t.queue("reclaim").memReclaim().build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch in = new CountDownLatch(1);
            CountDownLatch in2 = new CountDownLatch(1);
            blockers.queue(new Work("hold", () -> {
                in.countDown();
                awaitQuietly(release);
            }));
            blockers.queue(new Work("hold2", () -> {
                in2.countDown();
                awaitQuietly(release);
            }));
            try {
                await(in2);
                await(in);
                CountDownLatch ran = new CountDownLatch(1);
                reclaim.queueOn(0, new Work("needs-rescue", ran::countDown)); // no slot left: the rescuer runs it
                await(ran);
            } finally {
                release.countDown();
            }
        }
    }

    /** Once things settle, the cap's slot count equals the pool-worker threads alive: nothing counted twice or lost. */
    private static void awaitSlotsMatchLiveWorkers(TestRuntime t) {
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).untilAsserted(() -> {
            long alive = t.threads.stream().filter(Thread::isAlive)
                    .filter(th -> th.getName().matches(POOL_WORKER)).count();
            assertThat(t.rt.engine().workerCount()).as("cap slots vs live pool workers").isEqualTo((int) alive);
        });
    }

    private static void awaitQuietly(CountDownLatch l) {
        try {
            l.await(3 * BOUND_S, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Worker threads that die of an Error thrown by the factory's wrapper after run(), under retirement at a small cap. */
    @Test
    void workersKilledAfterTheirLoopByTheFactoryAreCountedOnce() throws Exception {
        ThreadFactory f = r -> {
            Thread th = new Thread(() -> {
                r.run();
                if (Thread.currentThread().getName().matches(POOL_WORKER)) {
                    throw new Error("the factory's wrapper fails after run()");
                }
            });
            th.setUncaughtExceptionHandler((x, e) -> { });
            return th;
        };
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(3).idleTimeout(Duration.ofMillis(1)), f)) {
            WorkQueue[] qs = {t.queue("pcpu").build(), t.queue("unb").unbound().build(),
                t.queue("hi").highPriority().build(), t.queue("ord").ordered().build()};
            for (int round = 0; round < 20; round++) {
                int n = 40;
                CountDownLatch all = new CountDownLatch(n);
                for (int i = 0; i < n; i++) {
                    qs[(i + round) % qs.length].queueOn(i % 2, new Work("i" + i, all::countDown));
                }
                await(all);
            }
            awaitSlotsMatchLiveWorkers(t);
        }
    }

    /**
     * The manager's thread dropped by the factory: a pool with no worker asks the manager for
     * one, and nothing else creates it (workers only make spares while they run), so the item
     * would never run. The first queue is refused instead, naming the thread; once the factory
     * runs what it is given, queues build and their items run.
     */
    @Test
    void aDroppedManagerRefusesTheQueueNamingIt() throws Exception {
        AtomicBoolean drop = new AtomicBoolean(true);
        ThreadFactory f = dropping(n -> n.endsWith("kworker/manager") && drop.get());
        try (TestRuntime t = new TestRuntime(2, b -> { }, f)) {
            assertThatThrownBy(() -> t.queue("q0").build())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("kworker/manager")
                    .hasMessageContaining("ThreadFactory");
            drop.set(false);
            for (int cpu = 0; cpu < 2; cpu++) {
                CountDownLatch ran = new CountDownLatch(1);
                t.queue("q" + cpu).build().queueOn(cpu, new Work("w" + cpu, ran::countDown));
                await(ran);
            }
            CountDownLatch unbound = new CountDownLatch(1);
            t.queue("u").unbound().build().queue(new Work("u", unbound::countDown));
            await(unbound);
        }
    }

    /** Some workers dropped at random under a small cap: every item runs, and slots are not double-freed. */
    @Test
    void randomlyDroppedWorkersUnderASmallCapLoseNothingAndCountNothingTwice() throws Exception {
        AtomicInteger made = new AtomicInteger();
        ThreadFactory f = dropping(n -> n.matches(POOL_WORKER) && made.incrementAndGet() % 3 == 1);
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(3).idleTimeout(Duration.ofMillis(1)), f)) {
            WorkQueue[] qs = {t.queue("pcpu").build(), t.queue("unb").unbound().build(),
                t.queue("hi").highPriority().build(), t.queue("ord").ordered().build()};
            int n = 200;
            CountDownLatch all = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                qs[i % qs.length].queue(new Work("i" + i, all::countDown));
            }
            assertThat(all.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("all ran; made %s", made.get()).isTrue();
            awaitSlotsMatchLiveWorkers(t);
            assertThat(t.rt.engine().workerCount()).isGreaterThanOrEqualTo(0).isLessThanOrEqualTo(3);
        }
    }

    // ------------------------------------------------------------------ waiter spin and interrupts

    interface Wait {
        Object run() throws Exception;
    }

    /** Runs {@code wait} on a new thread interrupted before the call; returns {result or exception, interrupt status after}. */
    private static Object[] interruptedBefore(Wait wait) throws InterruptedException {
        Object[] out = new Object[2];
        Thread th = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                out[0] = wait.run();
            } catch (Exception e) {
                out[0] = e;
            }
            out[1] = Thread.currentThread().isInterrupted();
        }, "interrupted-waiter");
        th.start();
        join(th);
        return out;
    }

    /** An interruptible wait with an interrupt pending and something to wait for throws at once, status cleared. */
    @Test
    void interruptibleWaitsWithAnInterruptPendingThrowAtOnce() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE))) {
            WorkQueue q = t.queue("gated").ordered().build();
            CountDownLatch release = new CountDownLatch(1);
            TestRuntime.blockOrdered(q, release);
            Work pending = new Work("pending", () -> { });
            q.queue(pending);
            try {
                List<Wait> waits = List.of(pending::flushInterruptibly, () -> pending.flush(Duration.ofSeconds(BOUND_S)),
                        () -> { q.flushInterruptibly(); return null; }, () -> q.flush(Duration.ofSeconds(BOUND_S)));
                for (Wait w : waits) {
                    Object[] r = interruptedBefore(w);
                    assertThat(r[0]).isInstanceOf(InterruptedException.class);
                    assertThat(r[1]).as("status cleared").isEqualTo(false);
                }
                assertThat(pending.isPending()).isTrue();
            } finally {
                release.countDown();
            }
            assertThat(pending.flush()).isIn(true, false);
        }
    }

    /** An uninterruptible wait with an interrupt pending waits to the end and sets the status again. */
    @Test
    void uninterruptibleWaitsWithAnInterruptPendingWaitAndKeepIt() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE))) {
            WorkQueue q = t.queue("gated").ordered().build();
            for (int round = 0; round < 4; round++) {
                CountDownLatch release = new CountDownLatch(1);
                TestRuntime.blockOrdered(q, release);
                AtomicInteger ran = new AtomicInteger();
                Work pending = new Work("pending", ran::incrementAndGet);
                q.queue(pending);
                int r0 = round;
                Object[] out = new Object[2];
                // inside the wait, by hook (WAITING alone may be a wait for a pool lock on the way in,
                // and pending would run before the flush's barrier is linked): round 2 grabs it, no wait
                Thread th = TestRuntime.startAndAwaitAt("uninterruptible", () -> {
                    Thread.currentThread().interrupt();
                    switch (r0) {
                        case 0 -> out[0] = pending.flush();
                        case 1 -> { q.flush(); out[0] = true; }
                        case 2 -> out[0] = !pending.cancelSync() || true;
                        default -> { q.drain(); out[0] = true; }
                    }
                    out[1] = Thread.currentThread().isInterrupted();
                }, round == 0 ? "flush.barrierLinked" : round == 2 ? "cancel.grabbed" : "flush.waiting");
                Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> th.getState() == Thread.State.WAITING
                        || th.getState() == Thread.State.TERMINATED);
                assertThat(th.getState()).as("parked, not spinning, round %s", round).isIn(Thread.State.WAITING, Thread.State.TERMINATED);
                release.countDown();
                join(th);
                assertThat(out[0]).as("round %s", round).isEqualTo(true);
                assertThat(out[1]).as("status kept, round %s", round).isEqualTo(true);
                if (round != 2) {
                    assertThat(ran.get()).isEqualTo(1);
                }
            }
        }
    }

    /** Timed waits on an item that does not finish return false at the timeout, with no interrupt left behind. */
    @Test
    void timedWaitsReturnFalseAtTheTimeout() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(LONG_IDLE))) {
            WorkQueue q = t.queue("gated").ordered().build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch in = new CountDownLatch(1);
            Work running = new Work("running", () -> {
                in.countDown();
                await(release);
            });
            q.queue(running);
            await(in);
            try {
                for (Duration d : List.of(Duration.ZERO, Duration.ofNanos(1), Duration.ofMillis(5))) {
                    assertThat(running.flush(d)).as("flush(%s)", d).isFalse();
                    assertThat(q.flush(d)).as("queue flush(%s)", d).isFalse();
                    assertThat(running.cancelSync(d)).as("cancelSync(%s)", d).isFalse();
                    assertThat(Thread.currentThread().isInterrupted()).isFalse();
                }
            } finally {
                release.countDown();
            }
            assertThat(running.flush(Duration.ofSeconds(BOUND_S))).isTrue();
        }
    }

    // ------------------------------------------------------------------ no kick: chaos

    /**
     * Limited queues (ordered, unbound maxActive 1, per-CPU maxActive 1, all freezable) under
     * producers, re-queueing items, cancels, setMaxActive 1/2 and runtime freeze/thaw, with a
     * 10-minute idle timeout: once the chaos stops, every pending item must run with no flush and
     * no further queueing (a lost wake-up leaves one pending for minutes).
     */
    @Test
    void everyActivatedItemRunsWithoutAFlushUnderCancelFreezeAndSetMaxActive() throws Exception {
        activationChaos(LONG_IDLE);
    }

    /** The same with a 1 ms idle timeout: completing workers are culled and re-created all along. */
    @Test
    void everyActivatedItemRunsWithoutAFlushWhileWorkersAreCulled() throws Exception {
        activationChaos(Duration.ofMillis(1));
    }

    private static void activationChaos(Duration idleTimeout) throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.idleTimeout(idleTimeout)
                .cpuIntensiveThreshold(Duration.ofMillis(5)))) {
            WorkQueue ord = t.queue("ord").ordered().freezable().build();
            WorkQueue unb = t.queue("unb1").unbound().maxActive(1).freezable().build();
            WorkQueue pcpu = t.queue("pcpu1").maxActive(1).freezable().build();
            WorkQueue[] qs = {ord, unb, pcpu};
            int perQueue = 16;
            List<Work> works = new ArrayList<>();
            List<WorkQueue> homes = new ArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            for (WorkQueue q : qs) {
                for (int i = 0; i < perQueue; i++) {
                    int k = i;
                    Work[] w = new Work[1];
                    w[0] = new Work(q.name() + "-" + i, () -> {
                        if (k % 4 == 0 && !stop.get()) {
                            q.queue(w[0]); // re-queues itself while it runs
                        }
                        if (k % 5 == 0) {
                            long end = System.nanoTime() + 200_000;
                            while (System.nanoTime() < end) {
                                Thread.onSpinWait(); // a little CPU: the monitor may flag it
                            }
                        }
                    });
                    works.add(w[0]);
                    homes.add(q);
                }
            }
            List<Thread> chaos = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                int seed = p;
                chaos.add(new Thread(() -> {
                    java.util.Random r = new java.util.Random(seed);
                    while (!stop.get()) {
                        int i = r.nextInt(works.size());
                        WorkQueue q = homes.get(i);
                        if (q == pcpu) {
                            q.queueOn(r.nextInt(2), works.get(i));
                        } else {
                            q.queue(works.get(i));
                        }
                        if (r.nextInt(8) == 0) {
                            works.get(r.nextInt(works.size())).cancel();
                        }
                    }
                }, "producer-" + p));
            }
            chaos.add(new Thread(() -> {
                java.util.Random r = new java.util.Random(7);
                while (!stop.get()) {
                    unb.setMaxActive(1 + r.nextInt(2));
                    pcpu.setMaxActive(1 + r.nextInt(2));
                    if (r.nextInt(4) == 0) {
                        t.rt.freeze();
                        t.rt.thaw();
                    }
                }
            }, "limits"));
            chaos.forEach(Thread::start);
            Thread.sleep(3000); // chaos duration, not synchronisation
            stop.set(true);
            for (Thread c : chaos) {
                join(c);
            }
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).untilAsserted(() -> assertThat(
                    works.stream().filter(Work::isPending).map(Work::name).toList()).as("still pending").isEmpty());
        }
    }
}
