package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * Attacks on the inbox typed Object with a plain closed sentinel, on WorkNode's after-firing
 * actions typed Object[], and on the monitor delivering what a scan took even when the scan
 * throws (HungWaits reporting as it goes).
 */
@Timeout(120)
class InboxAndMonitorAttackTest {
    private LibraryLog log;

    @AfterEach
    void restore() {
        TestHooks.install(null);
        if (log != null) {
            log.close();
        }
    }

    private static void awaitQuietly(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** An item that counts {@code started} down, then waits for {@code gate}. */
    private static Work blocker(String name, CountDownLatch started, CountDownLatch gate) {
        return new Work(name, () -> {
            started.countDown();
            awaitQuietly(gate);
        });
    }

    // ------------------------------------------------------------------ inbox

    /**
     * A producer's item sits in the inbox (pushed, its producer held before it signals) when a
     * drain (or destroy) closes the inbox: the close lands it, a worker runs it and the drain
     * ends, all while its producer is still held; a dump with the inbox closed reads it as
     * landed; the reopened inbox takes the next item. It would fail if the close left the node
     * in the closed inbox (the drain would wait for the producer's signal, or for ever), if the
     * dump cast the closed sentinel to a node, or if the drain left the inbox closed.
     */
    @Test
    @DisplayName("an item held in the inbox by its producer is landed by a drain's close, dumped while closed, and the inbox reopens")
    void drainLandsAnItemWhoseProducerIsHeldAfterItsPush() throws Exception {
        whileAProducerIsHeldAfterItsPush(false);
    }

    /** The same through destroy(): the inbox stays closed, and a later queue() is refused. */
    @Test
    @DisplayName("an item held in the inbox by its producer is landed and run by a destroy, which does not wait for the producer")
    void destroyLandsAnItemWhoseProducerIsHeldAfterItsPush() throws Exception {
        whileAProducerIsHeldAfterItsPush(true);
    }

    private void whileAProducerIsHeldAfterItsPush(boolean destroy) throws Exception {
        try (TestRuntime t = new TestRuntime(1)) {
            // Ordered: the pushed item waits behind the blocker (lands inactive), so that the
            // drain is still waiting when the dump looks.
            WorkQueue q = t.queue("held-push").ordered().build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            assertThat(q.queue(blocker("blocker", started, gate))).isTrue();
            WorkQueueCoreTest.await(started);
            AtomicInteger runs = new AtomicInteger();
            Work item = new Work("pushed", runs::incrementAndGet);
            CountDownLatch pushed = new CountDownLatch(1);
            CountDownLatch releaseProducer = new CountDownLatch(1);
            TestHooks.install((point, subject) -> {
                if (point.equals("queue.pushedFirst") && subject == item.node) {
                    pushed.countDown();
                    awaitQuietly(releaseProducer);
                }
            });
            AtomicReference<Object> producerResult = new AtomicReference<>();
            Thread producer = new Thread(() -> {
                try {
                    producerResult.set(q.queue(item));
                } catch (Throwable e) {
                    producerResult.set(e);
                }
            }, "held-producer");
            producer.start();
            Thread drainer = null;
            try {
                assertThat(pushed.await(30, TimeUnit.SECONDS)).as("the producer pushed").isTrue();
                AtomicReference<Throwable> drainFailure = new AtomicReference<>();
                drainer = new Thread(() -> {
                    try {
                        if (destroy) {
                            q.destroy();
                        } else {
                            q.drain();
                        }
                    } catch (Throwable e) {
                        drainFailure.set(e);
                    }
                }, "drainer");
                drainer.start();
                // The drainer closes the inbox and waits for the blocker: the dump reads a closed inbox.
                Thread d = drainer;
                await().atMost(Duration.ofSeconds(30)).until(() -> d.getState() == Thread.State.WAITING
                        || d.getState() == Thread.State.TIMED_WAITING);
                assertThat(runs).as("not run before the blocker ends").hasValue(0);
                String dump = t.rt.dump();
                assertThat(dump).contains("held-push");
                t.rt.dumpData();
                gate.countDown();
                drainer.join(30_000);
                assertThat(drainer.isAlive()).as("the %s ended while the producer is still held", destroy ? "destroy" : "drain").isFalse();
                assertThat(drainFailure.get()).isNull();
                assertThat(runs).as("the pushed item ran once").hasValue(1);
                assertThat(producer.isAlive()).as("the producer is still held").isTrue();
            } finally {
                gate.countDown();
                releaseProducer.countDown();
                producer.join(30_000);
                if (drainer != null) {
                    drainer.join(30_000);
                }
            }
            assertThat(producerResult.get()).as("the producer's queue() returned true").isEqualTo(Boolean.TRUE);
            TestHooks.install(null);
            CountDownLatch next = new CountDownLatch(1);
            Work after = new Work("after", next::countDown);
            if (destroy) {
                assertThatThrownBy(() -> q.queue(after)).isInstanceOf(IllegalStateException.class);
            } else {
                assertThat(q.queue(after)).as("the reopened inbox accepts").isTrue();
                assertThat(next.await(30, TimeUnit.SECONDS)).as("the next item ran").isTrue();
            }
            assertThat(runs).as("ran once in all").hasValue(1);
            assertThat(t.errors).isEmpty();
        }
    }

    // ------------------------------------------------------------------ after-firing actions

    /*
     * The timer thread pops dw, its queue starts draining (held by a running item), and dw's
     * expiry is refused and reported on the timer thread, whose report the handler holds.
     * Meanwhile four threads call dw.flushAsync() fifty times each: every call registers an
     * after-firing action (the node's Object[] of actions, grown by CAS). None may complete
     * while the report is held, every one must complete once it ends. It would fail if a
     * registration were lost in the race (a future never completes), if an element were not
     * an action (ClassCastException on the timer thread: no future completes), or if an action
     * ran before the report ended.
     */
    @Test
    @DisplayName("flushAsync() from many threads during a drain-refused expiry's report all complete after the report, none before")
    void manyAsyncFlushesOfAnExpiryRefusedByADrainCompleteAfterItsReport() throws Exception {
        CountDownLatch reportEntered = new CountDownLatch(1);
        CountDownLatch releaseReport = new CountDownLatch(1);
        AtomicInteger reports = new AtomicInteger();
        List<Throwable> handled = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).uncaughtWorkHandler((queue, work, e) -> {
            handled.add(e);
            if (work != null && work.name().equals("dw") && e instanceof IllegalStateException) {
                reportEntered.countDown();
                awaitQuietly(releaseReport);
                reports.incrementAndGet();
            }
        }).build());
        CountDownLatch gate = new CountDownLatch(1);
        Thread drainer = null;
        try {
            WorkQueue dq = rt.queueBuilder("draining").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
            CountDownLatch popped = new CountDownLatch(1);
            CountDownLatch draining = new CountDownLatch(1);
            TestHooks.install((point, subject) -> {
                if (subject == dw.node && point.equals("timer.fire") && popped.getCount() == 1) {
                    popped.countDown(); // off the timer, not yet on its queue
                    awaitQuietly(draining);
                }
            });
            CountDownLatch started = new CountDownLatch(1);
            assertThat(dq.queue(blocker("holds-the-drain", started, gate))).isTrue();
            WorkQueueCoreTest.await(started);
            assertThat(dq.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
            WorkQueueCoreTest.await(popped);
            drainer = new Thread(dq::drain, "drainer");
            drainer.start();
            Thread d = drainer;
            await().atMost(Duration.ofSeconds(30)).until(() -> d.getState() == Thread.State.WAITING
                    || d.getState() == Thread.State.TIMED_WAITING);
            draining.countDown(); // the expiry's insert is refused (draining): reported on the timer thread, held
            assertThat(reportEntered.await(30, TimeUnit.SECONDS)).as("the refused expiry is being reported").isTrue();
            int threads = 4;
            int each = 50;
            List<CompletableFuture<Boolean>> futures = new CopyOnWriteArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Thread c = new Thread(() -> {
                    awaitQuietly(go);
                    for (int j = 0; j < each; j++) {
                        futures.add(dw.flushAsync());
                    }
                }, "async-flusher-" + i);
                callers.add(c);
                c.start();
            }
            go.countDown();
            for (Thread c : callers) {
                c.join(30_000);
                assertThat(c.isAlive()).as("flushAsync() never blocks its caller").isFalse();
            }
            assertThat(futures).hasSize(threads * each);
            assertThat(futures.stream().filter(CompletableFuture::isDone).count())
                    .as("none completed while the report is held").isZero();
            releaseReport.countDown();
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            assertThat(futures.stream().filter(f -> f.isCompletedExceptionally()).count()).as("none failed").isZero();
            assertThat(reports).hasValue(1);
            assertThat(runs).as("the refused expiry did not run").hasValue(0);
            assertThat(handled).as("only the refusal was reported").hasSize(1);
        } finally {
            releaseReport.countDown();
            gate.countDown();
            TestHooks.install(null);
            if (drainer != null) {
                drainer.join(30_000);
            }
            rt.close();
        }
    }

    // ------------------------------------------------------------------ monitor

    /*
     * One scan takes a pool's lockup (marked reported) and a worker-creation failure (cleared
     * from its pool), and then throws (test point monitor.reportsTaken). The finally delivers
     * both: the failure in full, the lockup with its header. Neither may be delivered a second
     * time: the lockup stays marked while it lasts, the failure was cleared. It would fail if
     * the finally lost either, or if a later scan (or the rest of this one) delivered one again.
     */
    @Test
    @DisplayName("an Error after a scan took a lockup and a creation failure delivers each exactly once")
    void errorAfterTakingALockupAndAFailureDeliversEachOnce() throws Exception {
        log = LibraryLog.recording();
        AtomicBoolean failNext = new AtomicBoolean();
        AtomicInteger factoryFailures = new AtomicInteger();
        java.util.concurrent.ThreadFactory base = Executors.defaultThreadFactory();
        java.util.concurrent.ThreadFactory failing = r -> {
            if (failNext.compareAndSet(true, false)) {
                factoryFailures.incrementAndGet();
                throw new IllegalStateException("factory failure (injected)");
            }
            return base.newThread(r);
        };
        AtomicBoolean hold = new AtomicBoolean();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger scans = new AtomicInteger();
        AtomicInteger struck = new AtomicInteger();
        AtomicInteger scansAtStrike = new AtomicInteger();
        CountDownLatch gate = new CountDownLatch(1);
        try (TestRuntime t = new TestRuntime(2, b -> b.watchdogThreshold(Duration.ofSeconds(1))
                .cpuIntensiveThreshold(Duration.ofHours(1)), failing)) {
            WorkQueue q = t.queue("stalls").build();
            CountDownLatch started = new CountDownLatch(1);
            assertThat(q.queueOn(0, blocker("stuck-item", started, gate))).isTrue();
            WorkQueueCoreTest.await(started);
            TestHooks.install((point, subject) -> {
                if (point.equals("monitor.scan")) {
                    scans.incrementAndGet();
                    if (hold.compareAndSet(true, false)) {
                        held.countDown();
                        awaitQuietly(go);
                    }
                } else if (point.equals("monitor.reportsTaken") && struck.getAndIncrement() == 0) {
                    scansAtStrike.set(scans.get());
                    throw new OutOfMemoryError("simulated: after the scan took its reports");
                }
            });
            try {
                // The pending item lands with a scan (its push found a worker running: only the
                // hint is set), which counts as progress; hold a later scan, and let it look only
                // once the stall is older than the threshold.
                assertThat(q.queueOn(0, new Work("waits-behind", () -> { }))).isTrue();
                int seen = scans.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> scans.get() > seen + 1);
                long landedBy = System.nanoTime(); // the landing scan (its progress) began before this, however late the monitor ran
                hold.set(true);
                assertThat(held.await(30, TimeUnit.SECONDS)).as("the monitor is held at a scan's start").isTrue();
                failNext.set(true);
                CountDownLatch other = new CountDownLatch(1);
                assertThat(q.queueOn(1, new Work("needs-a-worker", other::countDown))).isTrue();
                await().atMost(Duration.ofSeconds(30)).until(() -> factoryFailures.get() == 1);
                // The stall is older than the threshold by the time the held scan looks.
                await().atMost(Duration.ofSeconds(30)).until(() -> System.nanoTime() - landedBy > TimeUnit.MILLISECONDS.toNanos(1200));
                go.countDown();
                await().atMost(Duration.ofSeconds(30)).until(() -> struck.get() > 0);
                assertThat(other.await(30, TimeUnit.SECONDS)).as("the retry made a worker").isTrue();
                await().atMost(Duration.ofSeconds(30)).until(() -> scans.get() > scansAtStrike.get() + 10);
                assertThat(t.reports.stream().filter(r -> r.contains("factory failure (injected)")).count())
                        .as("the creation failure was delivered once: %s", t.reports).isEqualTo(1);
                List<String> lockups = t.reports.stream().filter(r -> r.contains("BUG: workqueue lockup - pool cpus=0 ")).toList();
                assertThat(lockups).as("the lockup was delivered once: %s", t.reports).hasSize(1);
                assertThat(lockups.get(0)).as("taken by the struck scan: its header alone").doesNotContain("Showing busy");
            } finally {
                go.countDown();
                gate.countDown();
                TestHooks.install(null);
            }
            q.flush();
        }
        assertThat(log.mentions("monitor thread survived an error")).isTrue();
    }

    /*
     * A hung wait whose full report can never be built (an Error at test point
     * hungWaits.report on every attempt) goes out with its first line, once: marked reported
     * with that line, not retried on every scan. It would fail if the fallback line were lost
     * (no report), or if the wait were left unmarked (reported again on every tick).
     */
    @Test
    @DisplayName("a hung wait whose report can never be built is reported with its first line, once")
    void aHungWaitThatCanNeverBeFullyReportedIsReportedOnceByItsFirstLine() throws Exception {
        log = LibraryLog.recording();
        AtomicInteger scans = new AtomicInteger();
        AtomicInteger attempts = new AtomicInteger();
        CountDownLatch gate = new CountDownLatch(1);
        try (TestRuntime t = new TestRuntime(2, b -> b.watchdogThreshold(Duration.ofMillis(50))
                .cpuIntensiveThreshold(Duration.ofHours(1)))) {
            WorkQueue q = t.queue("slow").build();
            TestHooks.install((point, subject) -> {
                if (point.equals("monitor.scan")) {
                    scans.incrementAndGet();
                } else if (point.equals("hungWaits.report")) {
                    attempts.incrementAndGet();
                    throw new OutOfMemoryError("simulated: building a hung-wait report");
                }
            });
            CountDownLatch started = new CountDownLatch(1);
            Work stuck = blocker("stuck-item", started, gate);
            assertThat(q.queue(stuck)).isTrue();
            WorkQueueCoreTest.await(started);
            Thread flusher = new Thread(stuck::flush, "never-reported-in-full");
            flusher.start();
            try {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> t.reports.stream().anyMatch(r -> r.contains("'never-reported-in-full' blocked for more than")));
                int at = scans.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> scans.get() > at + 10);
                List<String> named = t.reports.stream().filter(r -> r.contains("'never-reported-in-full'")).toList();
                assertThat(named).as("reported once").hasSize(1);
                assertThat(named.get(0)).contains("flush_work(work 'stuck-item')").contains("its stacks are left out");
                assertThat(attempts).as("built once, not on every scan").hasValue(1);
            } finally {
                gate.countDown();
                TestHooks.install(null);
                flusher.join(30_000);
            }
            assertThat(flusher.isAlive()).isFalse();
        }
    }

    // ------------------------------------------------------------------ manager

    /*
     * An Error in the manager's own work (an allocation failure refusing a worker at the cap,
     * test point pool.capRefused; the same as building the cap report or the worker) ended the
     * manager thread: the monitor then reported "the worker manager thread ... has ended
     * without being stopped (does the ThreadFactory run the Runnable it is given?)", blaming
     * the user's factory, and made the workers itself from then on. The timer and the monitor
     * outlive such an Error; the manager must too. Fails on that code with that report.
     */
    @Test
    @DisplayName("an Error in the manager's scan leaves the manager alive, and blames no thread factory")
    void errorInTheManagersScanLeavesTheManagerAlive() throws Exception {
        log = LibraryLog.recording();
        AtomicInteger scans = new AtomicInteger();
        AtomicInteger struck = new AtomicInteger();
        AtomicInteger scansAtStrike = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).watchdogThreshold(Duration.ofMillis(200))
                .cpuIntensiveThreshold(Duration.ofHours(1)))) {
            WorkQueue q = t.queue("capped").unbound().build();
            TestHooks.install((point, subject) -> {
                if (point.equals("monitor.scan")) {
                    scans.incrementAndGet();
                } else if (point.equals("pool.capRefused") && Thread.currentThread().getName().endsWith("kworker/manager")
                        && struck.getAndIncrement() == 0) {
                    scansAtStrike.set(scans.get());
                    throw new OutOfMemoryError("simulated: in the manager's scan");
                }
            });
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch twoRunning = new CountDownLatch(2);
            try {
                for (int i = 0; i < 4; i++) {
                    assertThat(q.queue(new Work("b" + i, () -> {
                        twoRunning.countDown();
                        awaitQuietly(release);
                        ran.incrementAndGet();
                    }))).isTrue();
                }
                assertThat(twoRunning.await(30, TimeUnit.SECONDS)).as("two workers, the cap").isTrue();
                await().atMost(Duration.ofSeconds(30)).until(() -> struck.get() > 0);
                // The pool stays starved at the cap: the monitor asks for a worker on each tick.
                await().atMost(Duration.ofSeconds(30)).until(() -> scans.get() > scansAtStrike.get() + 10);
                await().atMost(Duration.ofSeconds(30)).until(() -> t.reports.stream().anyMatch(r -> r.contains("worker cap reached")));
                assertThat(t.reports).as("no thread factory is blamed")
                        .noneMatch(r -> r.contains("has ended without being stopped"));
                assertThat(t.threads.stream().filter(th -> th.getName().endsWith("kworker/manager")))
                        .as("the manager thread").singleElement().matches(Thread::isAlive, "alive");
            } finally {
                release.countDown();
                TestHooks.install(null);
            }
            q.flush();
            assertThat(ran).hasValue(4);
        }
        assertThat(log.mentions("manager thread survived an error")).as("the Error was logged").isTrue();
    }

    /*
     * An Error between the creation's claim (nrCreating counted, a worker id and a cap slot
     * reserved, under the pool lock) and the factory call: making the Worker (its name, an
     * allocation; test point pool.newWorker). Nothing undid the claim: the pool counted a
     * creation in flight for good, and neither the manager nor the monitor ever asked for its
     * worker again (both wait for nrCreating == 0), so its items never ran. Fails on that code
     * with the item not run within 30 s.
     */
    @Test
    @DisplayName("an Error making a worker before the factory call undoes the creation's claim: the pool gets its worker")
    void errorMakingAWorkerUndoesTheCreationsClaim() throws Exception {
        log = LibraryLog.recording();
        AtomicInteger struck = new AtomicInteger();
        // Two worker slots in all, the least allowed: one the Error leaked would leave one, and
        // a second item queued behind a blocker needs both.
        try (TestRuntime t = new TestRuntime(1, b -> b.maxWorkers(2).cpuIntensiveThreshold(Duration.ofHours(1)))) {
            WorkQueue q = t.queue("first-worker").build();
            TestHooks.install((point, subject) -> {
                if (point.equals("pool.newWorker") && struck.getAndIncrement() == 0) {
                    throw new OutOfMemoryError("simulated: making a worker");
                }
            });
            CountDownLatch ran = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch second = new CountDownLatch(1);
            WorkQueue other = t.queue("second-worker").unbound().build();
            try {
                assertThat(q.queueOn(0, new Work("needs-the-first-worker", ran::countDown))).isTrue();
                assertThat(ran.await(30, TimeUnit.SECONDS)).as("the item ran on a worker made after the Error").isTrue();
                // Both slots: the cpu pool's worker blocked, the unbound pool's own.
                assertThat(q.queueOn(0, blocker("holds-a-slot", started, gate))).isTrue();
                WorkQueueCoreTest.await(started);
                assertThat(other.queue(new Work("needs-the-second-slot", second::countDown))).isTrue();
                assertThat(second.await(30, TimeUnit.SECONDS)).as("the second slot was not leaked").isTrue();
            } finally {
                gate.countDown();
                TestHooks.install(null);
            }
            assertThat(struck.get()).as("the Error was thrown").isPositive();
            assertThat(t.reports).as("reported as a failed creation")
                    .anyMatch(r -> r.contains("failed to create a worker") && r.contains("simulated: making a worker"));
        }
    }

    /*
     * The worker cap refuses a worker and opens an episode (reported once per episode); building
     * that report fails (an allocation failure; test point runtime.capReport). The episode was
     * opened before the report was built: while it lasted (items waiting at the cap) no later
     * refusal reported it, so the cap was never reported. Fails on that code with no report
     * within 30 s.
     */
    @Test
    @DisplayName("an Error building the worker cap's report leaves the episode to the next refusal, which reports it")
    void errorBuildingTheCapReportDoesNotLoseTheEpisode() throws Exception {
        log = LibraryLog.recording();
        AtomicInteger struck = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2).cpuIntensiveThreshold(Duration.ofHours(1)))) {
            WorkQueue q = t.queue("capped").unbound().build();
            TestHooks.install((point, subject) -> {
                if (point.equals("runtime.capReport") && struck.getAndIncrement() == 0) {
                    throw new OutOfMemoryError("simulated: building the cap's report");
                }
            });
            AtomicInteger ran = new AtomicInteger();
            try {
                for (int i = 0; i < 4; i++) {
                    assertThat(q.queue(new Work("b" + i, () -> {
                        awaitQuietly(release);
                        ran.incrementAndGet();
                    }))).isTrue();
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> struck.get() > 0);
                await().atMost(Duration.ofSeconds(30)).until(() -> t.reports.stream().anyMatch(r -> r.contains("worker cap reached")));
                assertThat(t.reports.stream().filter(r -> r.contains("worker cap reached"))).as("once for the episode").hasSize(1);
            } finally {
                release.countDown();
                TestHooks.install(null);
            }
            q.flush();
            assertThat(ran).hasValue(4);
        }
    }
}
