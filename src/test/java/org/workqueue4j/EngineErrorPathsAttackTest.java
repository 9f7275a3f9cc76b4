package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.workqueue4j.InjectedThrows.throwOnceAt;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.InjectedThrows.Injected;
import org.workqueue4j.internal.TestHooks;

/**
 * Errors at engine points on the paths that report them: a flush that fires an armed item early
 * and cannot queue it, a close() that throws after the runtime threads stopped, a report that
 * cannot be built, and a periodic task's end in a scheduled view.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EngineErrorPathsAttackTest {
    final List<Thread> threads = new CopyOnWriteArrayList<>();
    final List<String> reports = new CopyOnWriteArrayList<>();
    final List<Throwable> reported = new CopyOnWriteArrayList<>();
    /** Runs inside the uncaught-work handler (after recording), on the reporting thread. */
    final AtomicReference<UncaughtWorkHandler> inHandler = new AtomicReference<>();
    WorkQueues rt;

    void start() {
        rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(2)
                .threadFactory(r -> {
                    Thread t = new Thread(r);
                    threads.add(t);
                    return t;
                })
                .uncaughtWorkHandler((q, w, e) -> {
                    reports.add(q.name() + "/" + (w == null ? "?" : w.name()));
                    reported.add(e);
                    UncaughtWorkHandler h = inHandler.get();
                    if (h != null) {
                        h.uncaught(q, w, e);
                    }
                })
                .build());
    }

    @AfterEach
    void tearDown() {
        TestHooks.install(null);
        if (rt != null) {
            rt.close();
        }
    }

    interface Flusher {
        void flush(DelayedWork d) throws Exception;
    }

    private static void unwrapAsync(DelayedWork d) throws Throwable {
        CompletableFuture<Boolean> f;
        f = d.flushAsync();
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause();
        }
    }

    /**
     * Each flush variant that fires an armed item whose queueing fails: one report, no run,
     * the item idle, the call fails, and the item can be queued again.
     */
    private void fireFailsOnce(String name, Flusher call, boolean async) throws Exception {
        start();
        WorkQueue q = rt.queueBuilder(name).build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("armed", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        throwOnceAt("timer.fire");
        Throwable thrown = null;
        try {
            call.flush(d);
        } catch (Throwable e) {
            thrown = e;
        }
        TestHooks.install(null);
        assertThat(thrown).as("the flush that fired it fails").isInstanceOf(Injected.class);
        q.flush();
        assertThat(d.isPending()).isFalse();
        assertThat(runs.get()).isZero();
        assertThat(reports).containsExactly(name + "/armed");
        // usable again
        assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        d.flush();
        q.flush();
        assertThat(runs.get()).isEqualTo(1);
        assertThat(reports).hasSize(1);
    }

    @Test
    void flushFireFailsReportedOnce() throws Exception {
        fireFailsOnce("f-plain", DelayedWork::flush, false);
    }

    @Test
    void timedFlushFireFailsReportedOnce() throws Exception {
        fireFailsOnce("f-timed", d -> d.flush(Duration.ofSeconds(30)), false);
    }

    @Test
    void interruptibleFlushFireFailsReportedOnce() throws Exception {
        fireFailsOnce("f-intr", DelayedWork::flushInterruptibly, false);
    }

    @Test
    void asyncFlushFireFailsReportedOnce() throws Exception {
        fireFailsOnce("f-async", d -> {
            try {
                unwrapAsync(d);
            } catch (Exception | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }, true);
    }

    @Test
    void interruptedTimedFlushFireFailsReportedOnce() throws Exception {
        fireFailsOnce("f-timed-int", d -> {
            Thread.currentThread().interrupt();
            try {
                d.flush(Duration.ofSeconds(30));
            } finally {
                Thread.interrupted();
            }
        }, false);
    }

    /**
     * The handler (user code), called on the flusher's thread from the failed early fire,
     * flushes, cancels and re-queues the same item and flushes its queue: none of it waits for
     * the report it is part of.
     */
    @Test
    void handlerReentersTheSameItemAndQueueFromAFailedEarlyFire() throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("reenter").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("armed", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        AtomicInteger handled = new AtomicInteger();
        inHandler.set((qq, w, e) -> {
            handled.incrementAndGet();
            assertThat(d.flush()).isFalse();
            assertThat(d.cancel()).isFalse();
            q.flush();
            assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
            assertThat(d.flush()).isTrue(); // fires the new instance (the hook is spent)
        });
        throwOnceAt("timer.fire");
        assertThatThrownBy(d::flush).isInstanceOf(Injected.class);
        TestHooks.install(null);
        q.flush();
        assertThat(handled.get()).isEqualTo(1);
        assertThat(runs.get()).isEqualTo(1);
        assertThat(reports).hasSize(1);
        assertThat(d.isPending()).isFalse();
    }

    /** The handler destroys the queue from the failed early fire on the flusher's thread. */
    @Test
    void handlerDestroysTheQueueFromAFailedEarlyFire() throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("destroy-in-handler").build();
        DelayedWork d = new DelayedWork("armed", () -> { });
        DelayedWork other = new DelayedWork("other", () -> { });
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        assertThat(q.queueDelayed(other, Duration.ofHours(1))).isTrue();
        inHandler.set((qq, w, e) -> {
            if (w == d) {
                q.destroy();
            }
        });
        throwOnceAt("timer.fire");
        assertThatThrownBy(d::flush).isInstanceOf(Injected.class);
        assertThat(q.isDestroyed()).isTrue();
        assertThat(reports).containsExactlyInAnyOrder("destroy-in-handler/armed", "destroy-in-handler/other");
    }

    /**
     * Two flushers of one armed item: the first fires it and blocks at the fire point, the
     * second flushes meanwhile; the fire then fails. One report, and both return.
     */
    @Test
    void twoFlushersOneFailedFire() throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("two-flushers").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("armed", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        CountDownLatch atFire = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        TestHooks.install((p, s) -> {
            if (p.equals("timer.fire")) {
                atFire.countDown();
                WorkQueueCoreTest.await(go);
                throw new Injected("at fire");
            }
        });
        AtomicReference<Throwable> first = new AtomicReference<>();
        Thread f1 = new Thread(() -> {
            try {
                d.flush();
            } catch (Throwable e) {
                first.set(e);
            }
        });
        f1.start();
        WorkQueueCoreTest.await(atFire);
        AtomicReference<Object> second = new AtomicReference<>();
        Thread f2 = new Thread(() -> {
            try {
                second.set(d.flush());
            } catch (Throwable e) {
                second.set(e);
            }
        });
        f2.start();
        CompletableFuture<Object> third = CompletableFuture.supplyAsync(() -> {
            try {
                return d.flush(Duration.ofSeconds(30));
            } catch (Throwable e) {
                return e;
            }
        });
        go.countDown();
        CompletableFuture<Boolean> fourth = d.flushAsync();
        f1.join(30_000);
        f2.join(30_000);
        assertThat(f1.isAlive()).isFalse();
        assertThat(f2.isAlive()).isFalse();
        assertThat(third.get(30, TimeUnit.SECONDS)).isNotNull();
        fourth.handle((r, e) -> r).get(30, TimeUnit.SECONDS);
        TestHooks.install(null);
        q.flush();
        assertThat(first.get()).isInstanceOf(Injected.class);
        assertThat(runs.get()).isZero();
        assertThat(reports).containsExactly("two-flushers/armed");
    }

    /** The timer thread and flushers racing to fire items whose every fire fails: each reported once. */
    @Test
    void timerAndFlusherRaceEveryFireFails() throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("race").build();
        TestHooks.install((p, s) -> {
            if (p.equals("timer.fire")) {
                throw new Injected("at fire");
            }
        });
        int n = 500;
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger flushThrew = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            DelayedWork d = new DelayedWork("d" + i, runs::incrementAndGet);
            assertThat(q.queueDelayed(d, Duration.ofNanos(i % 3 == 0 ? 1 : 200_000))).isTrue();
            try {
                switch (i % 3) {
                    case 0 -> d.flush();
                    case 1 -> d.flush(Duration.ofSeconds(30));
                    default -> d.flushAsync().handle((r, e) -> r).get(30, TimeUnit.SECONDS);
                }
            } catch (Injected e) {
                flushThrew.incrementAndGet();
            }
            // settled: reported by one firer
            org.awaitility.Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                    .atMost(Duration.ofSeconds(30)).until(() -> !d.isPending());
        }
        TestHooks.install(null);
        q.flush();
        assertThat(runs.get()).isZero();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> reports.size() >= n);
        assertThat(reports).hasSize(n);
        assertThat(reports.stream().distinct().count()).isEqualTo(n);
    }

    /** close() throwing each time after the runtime threads stopped: a second close returns, every thread ends. */
    @Test
    void closeThrowsTwiceRescuersAndWorkersStillEnd() throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("reclaim").memReclaim().build();
        WorkQueue p = rt.queueBuilder("plain").build();
        q.queue(new Work("w", () -> { }));
        p.queue(new Work("w", () -> { }));
        DelayedWork armed = new DelayedWork("armed", () -> { });
        p.queueDelayed(armed, Duration.ofHours(1));
        q.flush();
        p.flush();
        TestHooks.install((pt, s) -> {
            if (pt.equals("close.stopped")) {
                throw new Injected("at close");
            }
        });
        assertThatThrownBy(rt::close).isInstanceOf(Injected.class);
        CompletableFuture<Throwable> second = CompletableFuture.supplyAsync(() -> {
            try {
                rt.close();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        Throwable secondThrew = second.get(30, TimeUnit.SECONDS);
        TestHooks.install(null);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> threads.stream().noneMatch(Thread::isAlive));
        assertThat(secondThrew).as("a second close").isNull();
        assertThat(reports).as("the armed item was reported by the close that refused it").contains("plain/armed");
        assertThatThrownBy(() -> p.queue(new Work("late", () -> { }))).isInstanceOf(IllegalStateException.class);
        rt = null;
    }

    /** A report whose building fails and whose handler throws: the handler is called once, nothing escapes. */
    @Test
    void failedReportBuildingWithThrowingHandlerCallsItOnce() throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("fallback").build();
        Error same = new Error("item failure");
        AtomicInteger calls = new AtomicInteger();
        inHandler.set((qq, w, e) -> {
            calls.incrementAndGet();
            throw new RuntimeException("handler fails");
        });
        TestHooks.install((pt, s) -> {
            if (pt.equals("runtime.uncaught")) {
                throw same; // the report fails with the item's own failure
            }
        });
        q.queue(new Work("thrower", () -> {
            throw same;
        }));
        q.flush();
        DelayedWork d = new DelayedWork("armed", () -> { });
        q.queueDelayed(d, Duration.ofHours(1));
        q.destroy();
        TestHooks.install(null);
        assertThat(calls.get()).isEqualTo(2);
        assertThat(reports).containsExactlyInAnyOrder("fallback/thrower", "fallback/armed");
        assertThat(same.getSuppressed()).isEmpty();
    }

    /**
     * Periodic tasks racing their own end against shutdown, shutdownNow and cancel: the view
     * terminates, and each future is done when awaitTermination says so.
     */
    @Test
    void periodicEndRacesShutdownCancelAndShutdownNow() throws Exception {
        start();
        int[] notDone = new int[3];
        int notTerminated = 0;
        for (int i = 0; i < 150; i++) {
            WorkQueue q = rt.queueBuilder("periodic-" + i).build();
            ScheduledExecutorService ses = q.asScheduledExecutorService();
            CountDownLatch running = new CountDownLatch(1);
            ScheduledFuture<?> f1 = ses.scheduleAtFixedRate(running::countDown, 0, 1, TimeUnit.MICROSECONDS);
            ScheduledFuture<?> f2 = ses.scheduleWithFixedDelay(() -> { }, 0, 1, TimeUnit.MICROSECONDS);
            WorkQueueCoreTest.await(running);
            CountDownLatch gate = new CountDownLatch(1);
            int mode = i % 3;
            Thread canceller = new Thread(() -> {
                WorkQueueCoreTest.await(gate);
                f1.cancel(mode == 1);
                f1.cancel(false);
            });
            canceller.start();
            gate.countDown();
            if (mode == 2) {
                ses.shutdownNow();
            } else {
                ses.shutdown();
            }
            canceller.join(30_000);
            if (!ses.awaitTermination(20, TimeUnit.SECONDS)) {
                notTerminated++;
            } else if (!f1.isDone() || !f2.isDone()) {
                notDone[mode]++;
            }
            q.destroy();
        }
        assertThat(notTerminated).as("views not terminated").isZero();
        assertThat(notDone[0] + notDone[1]).as("futures not done after termination, shutdown (cancel, cancel(true)), shutdownNow: %s",
                java.util.Arrays.toString(notDone)).isZero();
    }

    /**
     * The handler, on the flusher's thread, has another thread destroy the queue and waits for
     * it (bounded): the destroy must not wait for the report it is called from.
     */
    @Test
    void handlerWaitsForAnotherThreadsDestroyOfTheQueue() throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("handler-waits-destroy").build();
        DelayedWork d = new DelayedWork("armed", () -> { });
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        AtomicBoolean destroyed = new AtomicBoolean();
        inHandler.set((qq, w, e) -> {
            if (w != d) {
                return;
            }
            Thread t = new Thread(() -> {
                q.destroy();
                destroyed.set(true);
            });
            t.start();
            try {
                t.join(10_000);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        });
        throwOnceAt("timer.fire");
        assertThatThrownBy(d::flush).isInstanceOf(Injected.class);
        assertThat(destroyed).as("another thread's destroy while the report is under way returned").isTrue();
    }

    /**
     * Every early fire fails, at every depth of the flusher's stack: each armed instance is
     * still armed (then runs) or was reported exactly once, never neither or both.
     */
    @Test
    void failedEarlyFireAtEveryDepthIsReportedOnceOrStaysArmed() {
        start();
        WorkQueue q = rt.queueBuilder("deep-fail").build();
        DelayedWork warm = new DelayedWork("warm", () -> { });
        q.queueDelayed(warm, Duration.ofHours(1));
        warm.flush();
        q.flush();
        int n = 20_000;
        java.util.List<DelayedWork> items = new java.util.ArrayList<>();
        AtomicInteger[] runs = new AtomicInteger[n];
        for (int i = 0; i < n; i++) {
            AtomicInteger r = new AtomicInteger();
            runs[i] = r;
            DelayedWork d = new DelayedWork("d" + i, r::incrementAndGet);
            items.add(d);
            assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        }
        TestHooks.install((p, s) -> {
            if (p.equals("timer.fire")) {
                throw new Injected("at fire");
            }
        });
        int[] attempts = {0};
        StackProbeAttackTest.descend(i -> {
            if (i < n) {
                try {
                    items.get(i).flush();
                } catch (Injected expected) {
                    // the fire failed as injected: reported, or still armed
                }
            }
        }, attempts, new AtomicReference<>());
        TestHooks.install(null);
        for (DelayedWork d : items) {
            d.flush();
        }
        q.flush();
        java.util.Map<String, Long> counts = reports.stream()
                .collect(java.util.stream.Collectors.groupingBy(x -> x, java.util.stream.Collectors.counting()));
        java.util.List<String> bad = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            long rep = counts.getOrDefault("deep-fail/d" + i, 0L);
            if (runs[i].get() + rep != 1 || items.get(i).isPending()) {
                bad.add("d" + i + " runs=" + runs[i].get() + " reports=" + rep + " pending=" + items.get(i).isPending());
            }
        }
        assertThat(bad).as("attempts %s", attempts[0]).isEmpty();
    }

    /**
     * An async flush registered while the timer thread reports a failed expiry of the item runs
     * on the timer thread when that report ends; the item, re-armed meanwhile, is then fired
     * early there and that fire fails too: two reports, no run, the future fails, and the timer
     * lives on.
     */
    @Test
    void asyncFlushContinuedOnTheTimerThreadFiresAndFails() throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("async-on-timer").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("armed", runs::incrementAndGet);
        CountDownLatch inReport = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger handled = new AtomicInteger();
        inHandler.set((qq, w, e) -> {
            if (handled.incrementAndGet() == 1) {
                inReport.countDown();
                WorkQueueCoreTest.await(release);
            }
        });
        TestHooks.install((p, s) -> {
            if (p.equals("timer.fire")) {
                throw new Injected("at fire");
            }
        });
        assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        WorkQueueCoreTest.await(inReport); // the timer thread is in the handler
        CompletableFuture<Boolean> f = d.flushAsync();
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        release.countDown();
        Throwable failure = f.handle((r, e) -> e).get(30, TimeUnit.SECONDS);
        TestHooks.install(null);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !d.isPending() || runs.get() > 0);
        q.flush();
        assertThat(runs.get() + reports.size()).as("runs %s reports %s future failure %s", runs.get(), reports, failure)
                .isEqualTo(2);
        // the timer still fires
        DelayedWork later = new DelayedWork("later", runs::incrementAndGet);
        int before = runs.get();
        assertThat(q.queueDelayed(later, Duration.ofMillis(1))).isTrue();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> runs.get() == before + 1);
    }

    /**
     * close() at every depth near the end of the stack, each on its own runtime (started: timer,
     * monitor, manager, workers): whatever the overflow struck, a second close() at normal depth
     * returns and every thread of every runtime ends. Fails: an overflow before the stop phase
     * (in thaw(), queues(), or the stack probe of the first queue's destroy) leaves the close
     * claimed, so the second close() returns at once, and the timer, monitor, manager and
     * workers run for good.
     */
    @Test
    void closeAtEveryDepthThenCloseAgainEndsEveryThread() throws Exception {
        int n = 60;
        java.util.List<WorkQueues> rts = new java.util.ArrayList<>();
        java.util.List<Thread> all = new CopyOnWriteArrayList<>();
        java.util.List<java.util.List<Thread>> per = new java.util.ArrayList<>();
        StackOverflowError[] where = new StackOverflowError[n];
        for (int i = 0; i < n; i++) {
            java.util.List<Thread> mine = new CopyOnWriteArrayList<>();
            per.add(mine);
            WorkQueues r = WorkQueues.create(WorkQueuesConfig.builder().cpus(1)
                    .threadFactory(x -> {
                        Thread t = new Thread(x);
                        all.add(t);
                        mine.add(t);
                        return t;
                    })
                    .uncaughtWorkHandler((q, w, e) -> { })
                    .build());
            WorkQueue q = r.queueBuilder("q").build();
            q.queue(new Work("w", () -> { }));
            q.flush();
            q.queueDelayed(new DelayedWork("armed", () -> { }), Duration.ofHours(1));
            rts.add(r);
        }
        int[] attempts = {0};
        int[] struck = {0};
        StackProbeAttackTest.descend(i -> {
            if (i < n) {
                try {
                    rts.get(i).close();
                } catch (StackOverflowError e) {
                    struck[0]++;
                    where[i] = e;
                    throw e;
                }
            }
        }, attempts, new AtomicReference<>());
        java.util.List<String> secondCloseThrew = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            CompletableFuture<Throwable> c = CompletableFuture.supplyAsync(() -> {
                try {
                    rts.get(k).close();
                    return null;
                } catch (Throwable e) {
                    return e;
                }
            });
            Throwable e = c.get(60, TimeUnit.SECONDS);
            if (e != null) {
                secondCloseThrew.add(k + ": " + e);
            }
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (Thread t : all) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
        }
        java.util.List<String> alive = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            java.util.List<String> names = new java.util.ArrayList<>();
            for (Thread t : per.get(i)) {
                if (t.isAlive()) {
                    StackTraceElement[] st = t.getStackTrace();
                    names.add(t.getName() + " " + t.getState() + " "
                            + java.util.Arrays.toString(java.util.Arrays.copyOf(st, Math.min(4, st.length))));
                }
            }
            if (!names.isEmpty()) {
                StackTraceElement[] st = where[i] == null ? new StackTraceElement[0] : where[i].getStackTrace();
                alive.add("runtime " + i + ": alive " + names + "; close struck at "
                        + java.util.Arrays.toString(java.util.Arrays.copyOf(st, Math.min(st.length, 12))));
            }
        }
        assertThat(secondCloseThrew).as("struck %s", struck[0]).isEmpty();
        assertThat(alive).as("threads alive after a close that overflowed and a second close (struck %s)", struck[0]).isEmpty();
    }

    /**
     * A throw in close() while it destroys the queues (before it stops the runtime's threads):
     * a second close() must still stop them, or they run for good. Fails: the first close()
     * claimed the close, the second returns at once, and the manager, monitor, timer and
     * workers stay alive (only a throw after the runtime threads were stopped is covered).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"flush.flip", "flush.registered"})
    void closeThrowingWhileItDestroysTheQueuesThenCloseAgainEndsEveryThread(String point) throws Exception {
        start();
        WorkQueue q = rt.queueBuilder("q").build();
        q.queue(new Work("w", () -> { }));
        q.flush();
        q.queueDelayed(new DelayedWork("armed", () -> { }), Duration.ofHours(1));
        AtomicBoolean armed = throwOnceAt(point);
        Throwable first = null;
        try {
            rt.close();
        } catch (Throwable e) {
            first = e;
        }
        TestHooks.install(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(first != null, "close() did not throw at " + point + " (reached: " + !armed.get() + ")");
        CompletableFuture<Throwable> second = CompletableFuture.supplyAsync(() -> {
            try {
                rt.close();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        assertThat(second.get(30, TimeUnit.SECONDS)).isNull();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
        }
        assertThat(threads.stream().filter(Thread::isAlive).map(Thread::getName).toList())
                .as("threads alive after close() threw %s and a second close() returned", first).isEmpty();
        rt = null;
    }

    /**
     * An item that throws one shared throwable (a preallocated instance) every run, each
     * report failing to be built: the handler hears of each, and the shared throwable does not
     * grow by one suppressed report failure per run (it is kept for the JVM's life).
     */
    @Test
    void repeatedFailedReportsDoNotGrowASharedThrowable() {
        start();
        WorkQueue q = rt.queueBuilder("shared-throwable").build();
        Error shared = new Error("preallocated");
        TestHooks.install((pt, s) -> {
            if (pt.equals("runtime.uncaught")) {
                throw new Injected("report fails");
            }
        });
        int n = 200;
        try (LibraryLog log = LibraryLog.recording()) {
            for (int i = 0; i < n; i++) {
                q.queue(new Work("w" + i, () -> {
                    throw shared;
                }));
                q.flush();
            }
        }
        TestHooks.install(null);
        assertThat(reports).hasSize(n);
        assertThat(shared.getSuppressed().length).as("report failures attached to the shared throwable").isLessThanOrEqualTo(1);
    }
}
