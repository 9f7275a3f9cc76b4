package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.logging.LogRecord;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.internal.WorkNode;
import org.workqueue4j.lockdep.Lockdep;

/**
 * A throw injected at each named engine test point, once (the n-th time the point is reached),
 * during a scenario that walks the public operations: queue, queueOn, delayed items, cancel,
 * cancelSync, disable, flush (queue, item, async), drain, destroy with an armed item, freeze and
 * thaw, setMaxActive, a collision, a rescue at the worker cap, a lockup and a hung wait, the
 * executor views and close. The hook is then removed and the invariants are checked:
 *
 * <ol>
 *     <li>every queue call that returned true ended exactly once: ran, was cancelled by a call
 *     that returned true, or was reported to the uncaught-work handler as never run;</li>
 *     <li>close() returns;</li>
 *     <li>no thread of the runtime is alive after close();</li>
 *     <li>the queues still run items queued after the throw;</li>
 *     <li>the thrown object reached a caller, the handler, a thread's uncaught-exception handler
 *     or the library's log.</li>
 * </ol>
 *
 * <p>A point the scenario never reaches makes its case aborted (skipped), not failed. Every wait
 * of the scenario is bounded; a step that does not return within {@link #STEP_BOUND} is a hang
 * (its thread dump is in the failure).
 */
@Tag("long")
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class InjectedThrowSweepTest {
    static final List<String> POINTS = List.of(
            "queue.pushedFirst", "queue.firstUse", "cancel.grabbed", "modDelayed.grabbed", "grab.timerRead", "maxActive.apply",
            "flush.registered", "flush.flip", "flush.waiting", "flush.barrierLinked", "flush.barrierPassed",
            "worker.batchEnd", "worker.idleHandshake", "worker.park", "worker.spin", "worker.itemEnd",
            "timer.fire", "timer.awaitTransit", "node.awaitFiring",
            "delayedFlush.retry", "delayedFlush.notLinked",
            "pool.capRefused", "pool.newWorker", "pool.workerId", "pool.collision", "pool.wakeForSleeper",
            "runtime.capReport", "runtime.uncaught", "freeze.poll", "close.stopped",
            "manager.scanned", "monitor.preloaded", "monitor.scan", "monitor.reportsTaken",
            "monitor.stallReport", "monitor.hungCheck", "hungWaits.report",
            "rescuer.mayday", "rescuer.rescue",
            "executor.enqueue", "executor.accepted", "executor.rearm", "flushAsync.handOff");

    /** Points with an open finding, skipped unless named in {@code -Dworkqueue4j.sweep.points}: none now. */
    static final Set<String> OPEN = Set.of();

    private static final Duration STEP_BOUND = Duration.ofSeconds(20);
    private static final long WAIT_SECONDS = 10;

    /** An Error of the test's own, thrown at a point. */
    static final class InjectedError extends Error {
        InjectedError(String m) {
            super(m);
        }
    }

    /** A RuntimeException of the test's own, thrown at a point. */
    static final class InjectedRuntime extends RuntimeException {
        InjectedRuntime(String m) {
            super(m);
        }
    }

    /** -Dworkqueue4j.sweep.points=a,b runs those points only (by hand). */
    static Stream<Arguments> cases() {
        String only = System.getProperty("workqueue4j.sweep.points", "");
        List<String> points = only.isBlank() ? POINTS : List.of(only.split(","));
        List<Arguments> out = new ArrayList<>();
        for (String p : points) {
            for (String kind : List.of("error", "runtime")) {
                out.add(Arguments.of(p, kind, 1));
            }
        }
        for (String p : points) {
            out.add(Arguments.of(p, "error", 3));
        }
        return out.stream();
    }

    /** point -> kind#n -> outcome line, printed once at the end. */
    private static final Map<String, String> SUMMARY = new ConcurrentHashMap<>();

    @AfterAll
    static void writeSummary() throws IOException {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(SUMMARY).forEach((k, v) -> sb.append(k).append(" : ").append(v).append('\n'));
        Path out = Path.of("target", "injected-throw-sweep.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, sb.toString());
    }

    @ParameterizedTest(name = "{0} {1} #{2}")
    @MethodSource("cases")
    void aThrowAtAnyPointLosesNothing(String point, String kind, int nth) throws Exception {
        Assumptions.assumeFalse(OPEN.contains(point) && System.getProperty("workqueue4j.sweep.points", "").isBlank(),
                "open finding at " + point + " (InjectedThrowFindingsTest); name the point in -Dworkqueue4j.sweep.points to run it");
        Sweep s = new Sweep(point, kind, nth);
        try (LibraryLog log = LibraryLog.recording()) {
            s.log = log;
            s.run();
        } finally {
            TestHooks.install(null);
        }
        String key = point + " " + kind + " #" + nth;
        String verdict = s.fired.get() == null ? "not reached (reached " + s.reached.getOrDefault(point, new AtomicInteger()) + " time(s))"
                : s.findings.isEmpty() ? "ok (thrown on " + s.fired.get() + "; seen: " + s.seenWhere() + ")"
                : "FINDINGS " + s.findings.size() + " (thrown on " + s.fired.get() + "; seen: " + s.seenWhere() + ")";
        if (!s.notes.isEmpty()) {
            verdict += " NOTES " + s.notes;
        }
        SUMMARY.put(key, verdict);
        if (Boolean.getBoolean("workqueue4j.sweep.verbose")) {
            System.out.println(key + " : " + verdict + "\n  reached " + new TreeMap<>(s.reached) + "\n  caller throws "
                    + s.callerThrows.stream().map(Throwable::toString).toList() + "\n  reports " + s.reports.size());
        }
        assertThat(s.findings).as("findings for %s", key).isEmpty();
        Assumptions.assumeTrue(s.fired.get() != null, "point " + point + " not reached " + nth + " time(s)");
    }

    /** One run of the scenario with the throw armed at one point. */
    static final class Sweep {
        final String point;
        final String kind;
        final int nth;
        final AtomicInteger hits = new AtomicInteger();
        /** The thread the throw was made on, once made. */
        final AtomicReference<String> fired = new AtomicReference<>();
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        final List<String> findings = new CopyOnWriteArrayList<>();
        LibraryLog log;

        /** Every runtime thread the factories made. */
        final List<Thread> threads = new CopyOnWriteArrayList<>();
        final List<Throwable> threadDeaths = new CopyOnWriteArrayList<>();
        final List<Throwable> callerThrows = new CopyOnWriteArrayList<>();
        final List<Throwable> handled = new CopyOnWriteArrayList<>();
        final List<String> reports = new CopyOnWriteArrayList<>();
        /** Every item made, by name. */
        final Map<String, Rec> items = new ConcurrentHashMap<>();

        /** Every latch of the scenario: each step releases all when it ends, whatever happened in it. */
        final List<CountDownLatch> latches = new CopyOnWriteArrayList<>();

        CountDownLatch latch(int n) {
            CountDownLatch l = new CountDownLatch(n);
            latches.add(l);
            return l;
        }

        // choreography
        final CountDownLatch transitFiring = new CountDownLatch(1);
        final CountDownLatch transitReached = new CountDownLatch(1);
        final CountDownLatch releaseReporter = new CountDownLatch(1);
        final CountDownLatch reporterEntered = new CountDownLatch(1);

        Sweep(String point, String kind, int nth) {
            this.point = point;
            this.kind = kind;
            this.nth = nth;
        }

        /** What is known of one item. */
        static final class Rec {
            final String name;
            final AtomicInteger queued = new AtomicInteger();
            final AtomicInteger runs = new AtomicInteger();
            final AtomicInteger cancels = new AtomicInteger();
            final AtomicInteger reportsNotInjected = new AtomicInteger();
            final AtomicInteger reportsInjected = new AtomicInteger();
            final AtomicInteger queueThrew = new AtomicInteger();
            volatile boolean throwsOnPurpose;
            Work work;

            Rec(String name) {
                this.name = name;
            }
        }

        // ------------------------------------------------------------ the hook

        /** How often each point was reached (while the hook was installed). */
        final Map<String, AtomicInteger> reached = new ConcurrentHashMap<>();
        /** Notes that are not failures. */
        final List<String> notes = new CopyOnWriteArrayList<>();

        void hook(String p, Object subject) {
            reached.computeIfAbsent(p, k -> new AtomicInteger()).incrementAndGet();
            choreography(p, subject);
            if (p.equals(point) && fired.get() == null && hits.incrementAndGet() == nth) {
                Throwable t = kind.equals("error") ? new InjectedError("injected at " + p)
                        : new InjectedRuntime("injected at " + p);
                thrown.set(t);
                fired.set(Thread.currentThread().getName());
                if (t instanceof Error e) {
                    throw e;
                }
                throw (RuntimeException) t;
            }
        }

        private void choreography(String p, Object subject) {
            if (p.equals("timer.awaitTransit")) {
                transitReached.countDown();
            } else if (p.equals("timer.fire") && subject instanceof WorkNode n && n.name().equals("transit-d")) {
                transitFiring.countDown();
                awaitQuietly(transitReached);
            }
        }

        static boolean awaitQuietly(CountDownLatch l) {
            try {
                return l.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        boolean isInjected(Throwable t) {
            return t != null && contains(t, Collections.newSetFromMap(new IdentityHashMap<>()));
        }

        private boolean contains(Throwable t, Set<Throwable> seen) {
            if (t == null || !seen.add(t)) {
                return false;
            }
            if (t == thrown.get() || t instanceof InjectedError || t instanceof InjectedRuntime) {
                return true;
            }
            for (Throwable s : t.getSuppressed()) {
                if (contains(s, seen)) {
                    return true;
                }
            }
            return contains(t.getCause(), seen);
        }

        String seenWhere() {
            List<String> where = new ArrayList<>();
            if (callerThrows.stream().anyMatch(this::isInjected)) {
                where.add("caller");
            }
            if (handled.stream().anyMatch(this::isInjected)) {
                where.add("handler");
            }
            if (threadDeaths.stream().anyMatch(this::isInjected)) {
                where.add("thread-death");
            }
            if (thrown.get() != null && reports.stream().anyMatch(r -> r.contains(thrown.get().getMessage()))) {
                where.add("report");
            }
            if (log != null && log.records.stream().map(LogRecord::getThrown).anyMatch(this::isInjected)) {
                where.add("log");
            }
            return where.isEmpty() ? "nowhere" : String.join("+", where);
        }

        // ------------------------------------------------------------ items

        Rec rec(String name) {
            return items.computeIfAbsent(name, Rec::new);
        }

        Work work(String name) {
            Rec r = rec(name);
            Work w = new Work(name, r.runs::incrementAndGet);
            r.work = w;
            return w;
        }

        Work work(String name, Runnable body) {
            Rec r = rec(name);
            Work w = new Work(name, () -> {
                r.runs.incrementAndGet();
                body.run();
            });
            r.work = w;
            return w;
        }

        DelayedWork delayed(String name) {
            Rec r = rec(name);
            DelayedWork w = new DelayedWork(name, r.runs::incrementAndGet);
            r.work = w;
            return w;
        }

        Work blocker(String name, CountDownLatch started, CountDownLatch release) {
            return work(name, () -> {
                started.countDown();
                awaitQuietly(release);
            });
        }

        boolean q(WorkQueue q, Work w) {
            return counted(w, () -> q.queue(w));
        }

        boolean qOn(WorkQueue q, int cpu, Work w) {
            return counted(w, () -> q.queueOn(cpu, w));
        }

        boolean qd(WorkQueue q, DelayedWork w, Duration d) {
            return counted(w, () -> q.queueDelayed(w, d));
        }

        boolean mod(WorkQueue q, DelayedWork w, Duration d) {
            // modDelayed returns true if it took a pending instance back and re-armed it: the
            // instance continues, so a false return is the one that adds an instance
            Rec r = rec(w.name());
            try {
                boolean wasPending = q.modDelayed(w, d);
                if (!wasPending) {
                    r.queued.incrementAndGet();
                }
                return wasPending;
            } catch (Throwable e) {
                r.queueThrew.incrementAndGet();
                callerThrows.add(e);
                return false;
            }
        }

        private boolean counted(Work w, BooleanSupplier call) {
            Rec r = rec(w.name());
            try {
                boolean ok = call.getAsBoolean();
                if (ok) {
                    r.queued.incrementAndGet();
                }
                return ok;
            } catch (Throwable e) {
                r.queueThrew.incrementAndGet();
                callerThrows.add(e);
                return false;
            }
        }

        boolean cancel(Work w, String how) {
            Rec r = rec(w.name());
            boolean took;
            try {
                took = switch (how) {
                    case "cancel" -> w.cancel();
                    case "cancelSync" -> w.cancelSync();
                    case "disable" -> w.disable();
                    case "disableSync" -> w.disableSync();
                    default -> throw new IllegalArgumentException(how);
                };
            } catch (Throwable e) {
                callerThrows.add(e);
                return false;
            }
            if (took) {
                r.cancels.incrementAndGet();
            }
            return took;
        }

        /** Runs {@code body} on its own thread, bounded; a throw is kept, a hang is a finding. */
        void step(String name, ThrowingRunnable body) throws StepHung {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread th = new Thread(() -> {
                try {
                    body.run();
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, "sweep-step-" + name);
            th.setDaemon(true);
            th.start();
            try {
                th.join(STEP_BOUND.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (CountDownLatch l : latches) {
                while (l.getCount() > 0) {
                    l.countDown();
                }
            }
            if (th.isAlive()) {
                try {
                    th.join(STEP_BOUND.toMillis()); // the latches released: a wait on them ends
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (th.isAlive()) {
                findings.add("HANG: step '" + name + "' did not return within " + STEP_BOUND + "\n" + dumpThreads());
                throw new StepHung();
            }
            Throwable e = failure.get();
            if (e != null) {
                callerThrows.add(e);
                if (!isInjected(e)) {
                    findings.add("step '" + name + "' threw something other than the injected throw: " + describe(e));
                }
            }
        }

        interface ThrowingRunnable {
            void run() throws Exception;
        }

        static final class StepHung extends Exception {
        }

        /** Waits (bounded) for {@code cond}; false at the bound. Polls; this is no synchronisation by sleeping. */
        static boolean eventually(BooleanSupplier cond) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!cond.getAsBoolean()) {
                if (System.nanoTime() - deadline > 0) {
                    return false;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
            return true;
        }

        static String describe(Throwable e) {
            java.io.StringWriter sw = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(sw));
            String s = sw.toString();
            return s.length() > 3000 ? s.substring(0, 3000) + "..." : s;
        }

        static String dumpThreads() {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
                Thread t = e.getKey();
                if (!t.getName().startsWith("wq-") && !t.getName().startsWith("sweep-")) {
                    continue;
                }
                sb.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
                for (StackTraceElement f : e.getValue()) {
                    sb.append("    at ").append(f).append('\n');
                }
            }
            return sb.toString();
        }

        WorkQueues runtime(java.util.function.Consumer<WorkQueuesConfig.Builder> tweak) {
            WorkQueuesConfig.Builder b = WorkQueuesConfig.builder()
                    .cpus(2)
                    .closeTimeout(Duration.ofSeconds(10))
                    .reportListener(reports::add)
                    .threadFactory(r -> {
                        Thread t = new Thread(r);
                        t.setUncaughtExceptionHandler((th, e) -> threadDeaths.add(e));
                        threads.add(t);
                        return t;
                    })
                    .uncaughtWorkHandler((q, w, e) -> {
                        handled.add(e);
                        if (w == null) {
                            return;
                        }
                        Rec r = rec(w.name());
                        if (isInjected(e)) {
                            r.reportsInjected.incrementAndGet();
                        } else if (!r.throwsOnPurpose) {
                            r.reportsNotInjected.incrementAndGet();
                        }
                        if (w.name().equals("held-report")) {
                            reporterEntered.countDown();
                            awaitQuietly(releaseReporter);
                        }
                    });
            tweak.accept(b);
            return WorkQueues.create(b.build());
        }

        // ------------------------------------------------------------ the scenario

        void run() {
            TestHooks.install(this::hook);
            List<WorkQueues> runtimes = new ArrayList<>();
            try {
                WorkQueues main = null;
                try {
                    main = runtime(b -> b.validator(Lockdep.builder().build())
                            .watchdogThreshold(Duration.ofMillis(400))
                            .cpuIntensiveThreshold(Duration.ofHours(1)));
                } catch (Throwable e) {
                    callerThrows.add(e);
                    if (!isInjected(e)) {
                        findings.add("create() threw " + describe(e));
                    }
                    for (Thread t : threads) {
                        if (t.isAlive()) {
                            findings.add("create() threw and left thread " + t.getName() + " alive");
                        }
                    }
                    main = runtime(b -> b.validator(Lockdep.builder().build())
                            .watchdogThreshold(Duration.ofMillis(400))
                            .cpuIntensiveThreshold(Duration.ofHours(1)));
                }
                runtimes.add(main);
                try {
                    scenario(main, runtimes);
                } catch (StepHung hung) {
                    // recorded
                }
            } catch (Throwable e) {
                findings.add("scenario failed: " + describe(e));
            } finally {
                TestHooks.install(null);
            }
            if (fired.get() == null) {
                TestHooks.install(this::hook); // close's own points
            }
            for (WorkQueues rt : runtimes) {
                closeChecked(rt);
            }
            TestHooks.install(null);
            checkLedger();
            checkThreads();
            if (fired.get() != null && seenWhere().equals("nowhere")) {
                findings.add("INVARIANT 5: the throw injected at " + point + " on " + fired.get()
                        + " reached no caller, handler, thread death or log record");
            }
        }

        private void closeChecked(WorkQueues rt) {
            Thread closer = new Thread(() -> {
                try {
                    rt.close();
                } catch (Throwable e) {
                    closeThrew = true;
                    callerThrows.add(e);
                    if (!isInjected(e)) {
                        findings.add("close() threw " + describe(e));
                    }
                }
            }, "sweep-close");
            closer.setDaemon(true);
            closer.start();
            try {
                closer.join(Duration.ofSeconds(30).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (closer.isAlive()) {
                findings.add("INVARIANT 2: close() of runtime " + rt.name() + " did not return in 30 s\n" + dumpThreads());
            } else if (!rt.isClosed()) {
                findings.add("close() of runtime " + rt.name() + " returned with isClosed() false");
                try {
                    rt.close(); // a second close
                } catch (Throwable e) {
                    findings.add("second close() threw " + describe(e));
                }
            }
        }

        /** A close() threw: it joined nothing, its threads (told to stop) end on their own. */
        private volatile boolean closeThrew;

        private void checkThreads() {
            for (Thread t : threads) {
                if (t.isAlive() && closeThrew) {
                    try {
                        t.join(Duration.ofSeconds(10).toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (t.isAlive()) {
                    StringBuilder sb = new StringBuilder();
                    for (StackTraceElement f : t.getStackTrace()) {
                        sb.append("    at ").append(f).append('\n');
                    }
                    findings.add("INVARIANT 3: runtime thread " + t.getName() + " alive after close() (" + t.getState()
                            + ")\n" + sb);
                }
            }
        }

        private void checkLedger() {
            for (Rec r : items.values()) {
                int q = r.queued.get();
                int runs = r.runs.get();
                int cancels = r.cancels.get();
                int reported = r.reportsNotInjected.get();
                int reportedInjected = r.reportsInjected.get();
                String state = r.name + ": queued(true)=" + q + " runs=" + runs + " cancels=" + cancels
                        + " reports(never ran)=" + reported + " reports(injected)=" + reportedInjected
                        + " queueThrew=" + r.queueThrew.get()
                        + (r.work != null && r.work.isPending() ? " STILL PENDING" : "");
                int ends = runs + cancels + reported;
                if (r.work != null && r.work.isPending()) {
                    findings.add("INVARIANT 1: item still pending after close: " + state);
                    continue;
                }
                if (ends == q) {
                    continue;
                }
                if (ends < q && ends + reportedInjected >= q) {
                    continue; // ended by a report of the injected throw (it never ran)
                }
                if (ends < q) {
                    findings.add("INVARIANT 1: item lost (queued, never ran, not cancelled, not reported): " + state);
                } else {
                    findings.add("INVARIANT 1: item ended more often than it was accepted: " + state);
                }
            }
        }

        private void scenario(WorkQueues rt, List<WorkQueues> runtimes) throws Exception {
            WorkQueue percpu = rt.queueBuilder("percpu").build();
            WorkQueue unbound = rt.queueBuilder("unbound").unbound().build();
            WorkQueue ordered = rt.queueBuilder("ordered").ordered().build();
            WorkQueue one = rt.queueBuilder("one").unbound().maxActive(1).build();
            WorkQueue freezable = rt.queueBuilder("freezable").freezable().build();
            WorkQueue disposable = rt.queueBuilder("disposable").build();
            List<WorkQueue> all = List.of(percpu, unbound, ordered, one, freezable);

            // 1. plain items on every kind of queue, then queue flushes
            step("plain", () -> {
                for (WorkQueue q : all) {
                    for (int i = 0; i < 3; i++) {
                        q(q, work(q.name() + "-plain-" + i));
                    }
                    qOn(percpu, 1, work(q.name() + "-on1"));
                }
                Work thrower = work("thrower", () -> {
                    throw new IllegalStateException("thrown by the item on purpose");
                });
                rec("thrower").throwsOnPurpose = true;
                q(unbound, thrower);
                for (WorkQueue q : all) {
                    q.flush();
                }
            });

            // 2. delayed items: short delays, modDelayed, cancel of an armed one, an item's flush
            step("delayed", () -> {
                DelayedWork d1 = delayed("d1");
                DelayedWork d2 = delayed("d2");
                DelayedWork d3 = delayed("d3");
                DelayedWork d4 = delayed("d4");
                qd(percpu, d1, Duration.ofMillis(1));
                qd(unbound, d2, Duration.ofMillis(2));
                qd(ordered, d3, Duration.ofHours(1));
                mod(ordered, d3, Duration.ofMillis(1));
                qd(percpu, d4, Duration.ofHours(1));
                cancel(d4, "cancel");
                d1.flush();
                d2.flush();
                d3.flush(Duration.ofSeconds(WAIT_SECONDS));
                DelayedWork d5 = delayed("d5");
                qd(unbound, d5, Duration.ofHours(1));
                d5.flush(); // fires the armed timer
                DelayedWork d6 = delayed("d6");
                qd(percpu, d6, Duration.ofHours(1));
                d6.flushAsync().get(WAIT_SECONDS, TimeUnit.SECONDS);
            });

            // 3. cancels of pending items behind a gate on the ordered queue; item flushes
            step("cancel", () -> {
                CountDownLatch started = latch(1);
                CountDownLatch release = latch(1);
                q(ordered, blocker("ord-gate", started, release));
                awaitQuietly(started);
                Work c1 = work("c1");
                Work c2 = work("c2");
                Work c3 = work("c3");
                Work c4 = work("c4");
                Work c5 = work("c5");
                q(ordered, c1);
                q(ordered, c2);
                q(ordered, c3);
                q(ordered, c4);
                q(ordered, c5);
                cancel(c1, "cancel");
                cancel(c2, "cancelSync");
                cancel(c3, "disable");
                CompletableFuture<Boolean> f5 = c5.flushAsync();
                release.countDown();
                c4.flush();
                f5.get(WAIT_SECONDS, TimeUnit.SECONDS);
                c3.enable();
                q(ordered, c3);
                c3.flush();
                ordered.flushAsync().get(WAIT_SECONDS, TimeUnit.SECONDS);
            });

            // 4. cancelSync of a running item; disableSync; flush of a running item
            step("cancelSyncRunning", () -> {
                CountDownLatch started = latch(1);
                CountDownLatch release = latch(1);
                Work r = blocker("cs-run", started, release);
                q(unbound, r);
                awaitQuietly(started);
                Thread waiter = new Thread(() -> cancel(r, "cancelSync"), "sweep-cancelSync");
                waiter.setDaemon(true);
                waiter.start();
                eventually(() -> waiter.getState() == Thread.State.WAITING
                        || waiter.getState() == Thread.State.TIMED_WAITING || !waiter.isAlive());
                release.countDown();
                waiter.join(STEP_BOUND.toMillis());
                Work ds = work("ds");
                q(ordered, ds);
                cancel(ds, "disableSync");
                ds.enable();
            });

            // 5. maxActive(1) queue: items held inactive, then setMaxActive
            step("maxActive", () -> {
                CountDownLatch started = latch(1);
                CountDownLatch release = latch(1);
                q(one, blocker("one-gate", started, release));
                awaitQuietly(started);
                for (int i = 0; i < 3; i++) {
                    q(one, work("one-inactive-" + i));
                }
                one.setMaxActive(4);
                release.countDown();
                one.flush();
                one.setMaxActive(1);
            });

            // 6. a collision: an item queued again while it runs, on an unbound queue
            step("collision", () -> {
                CountDownLatch started = latch(1);
                CountDownLatch release = latch(1);
                Work x = blocker("collide", started, release);
                q(unbound, x);
                awaitQuietly(started);
                q(unbound, x);
                q(unbound, work("collide-next")); // another worker looks at the worklist
                eventually(() -> rec("collide-next").runs.get() > 0); // behind the second instance: it was assigned
                release.countDown();
                x.flush();
                unbound.flush();
            });

            // 7. a worker entering a library wait while its pool has more items
            step("wakeForSleeper", () -> {
                CountDownLatch release = latch(1);
                CountDownLatch started = latch(1);
                q(unbound, blocker("ws-target", started, release));
                awaitQuietly(started);
                java.util.concurrent.atomic.AtomicBoolean waited = new java.util.concurrent.atomic.AtomicBoolean();
                Work waiter = work("ws-waiter", () -> {
                    try {
                        unbound.flush(Duration.ofSeconds(WAIT_SECONDS));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        waited.set(true);
                    }
                });
                qOn(percpu, 0, waiter);
                qOn(percpu, 0, work("ws-behind"));
                eventually(() -> rec("ws-behind").runs.get() > 0 || waited.get());
                release.countDown();
                percpu.flush();
                unbound.flush();
            });

            // 8. drain with chained items
            step("drain", () -> {
                AtomicInteger chain = new AtomicInteger();
                Rec cr = rec("chain");
                Work[] self = new Work[1];
                self[0] = work("chain", () -> {
                    if (chain.incrementAndGet() < 5) {
                        q(unbound, self[0]);
                    }
                });
                q(unbound, self[0]);
                unbound.drain();
                if (cr.runs.get() != 5 && thrown.get() == null) {
                    findings.add("drain returned before the chain ended: " + cr.runs.get() + " runs");
                }
            });

            // 9. freeze and thaw, with a running item and items held while frozen
            step("freeze", () -> {
                CountDownLatch started = latch(1);
                CountDownLatch release = latch(1);
                q(freezable, blocker("fz-running", started, release));
                awaitQuietly(started);
                Thread freezer = new Thread(() -> {
                    try {
                        rt.freeze();
                    } catch (Throwable e) {
                        callerThrows.add(e);
                    }
                }, "sweep-freezer");
                freezer.setDaemon(true);
                freezer.start();
                eventually(rt::isFrozen);
                release.countDown();
                freezer.join(STEP_BOUND.toMillis());
                Work h1 = work("fz-held-1");
                Work h2 = work("fz-held-2");
                q(freezable, h1);
                q(freezable, h2);
                cancel(h2, "cancel");
                rt.thaw();
                freezable.flush();
            });

            // 10. destroy of a queue with armed items: one reported, one held while a flush waits for the report
            step("destroy", () -> {
                DelayedWork a = delayed("armed-1");
                DelayedWork held = delayed("held-report");
                qd(disposable, a, Duration.ofHours(1));
                qd(disposable, held, Duration.ofHours(2));
                q(disposable, work("disposable-plain"));
                Thread destroyer = new Thread(() -> {
                    try {
                        disposable.destroy();
                    } catch (Throwable e) {
                        callerThrows.add(e);
                    }
                }, "sweep-destroyer");
                destroyer.setDaemon(true);
                destroyer.start();
                try {
                if (awaitQuietly(reporterEntered)) {
                    Thread flusher = new Thread(() -> {
                        try {
                            held.flush();
                        } catch (Throwable e) {
                            callerThrows.add(e);
                        }
                    }, "sweep-flusher");
                    flusher.setDaemon(true);
                    flusher.start();
                    eventually(() -> flusher.getState() == Thread.State.WAITING
                            || flusher.getState() == Thread.State.TIMED_WAITING || !flusher.isAlive());
                    releaseReporter.countDown();
                    flusher.join(STEP_BOUND.toMillis());
                }
                } finally {
                    releaseReporter.countDown();
                }
                destroyer.join(STEP_BOUND.toMillis());
            });

            // 11. destroy while an expiry is between the timer and its queue
            step("transit", () -> {
                WorkQueue dying = rt.queueBuilder("dying").build();
                DelayedWork d = delayed("transit-d");
                qd(dying, d, Duration.ofMillis(1));
                awaitQuietly(transitFiring); // the timer thread holds it between the heap and the queue
                try {
                    dying.destroy();
                } finally {
                    transitReached.countDown();
                }
                d.flush();
            });

            // 12. a lockup and a hung wait: a blocked per-CPU item with another behind it
            step("lockup", () -> {
                CountDownLatch started = latch(1);
                CountDownLatch release = latch(1);
                qOn(percpu, 1, blocker("lk-block", started, release));
                awaitQuietly(started);
                Work behind = work("lk-behind");
                qOn(percpu, 1, behind);
                Thread flusher = new Thread(() -> {
                    try {
                        behind.flush();
                    } catch (Throwable e) {
                        callerThrows.add(e);
                    }
                }, "sweep-hung-flusher");
                flusher.setDaemon(true);
                flusher.start();
                boolean lockup = eventually(() -> reports.stream().anyMatch(r -> r.contains("lockup")));
                boolean hung = eventually(() -> reports.stream().anyMatch(r -> r.contains("blocked for more than")));
                release.countDown();
                flusher.join(STEP_BOUND.toMillis());
                if (!lockup) {
                    findings.add("the lockup of pool 1 was not reported within " + WAIT_SECONDS + " s");
                }
                if (!hung) {
                    findings.add("the hung flush was not reported within " + WAIT_SECONDS + " s");
                }
            });

            // 13. executor views: submit, schedule, a periodic task, shutdown
            step("executor", () -> {
                WorkQueue xq = rt.queueBuilder("exec").build();
                ScheduledExecutorService ses = xq.asScheduledExecutorService();
                List<Future<?>> futures = new ArrayList<>();
                AtomicInteger ran = new AtomicInteger();
                for (int i = 0; i < 3; i++) {
                    try {
                        futures.add(ses.submit((Callable<Integer>) ran::incrementAndGet));
                    } catch (Throwable e) {
                        callerThrows.add(e);
                    }
                }
                try {
                    futures.add(ses.schedule((Runnable) ran::incrementAndGet, 1, TimeUnit.MILLISECONDS));
                } catch (Throwable e) {
                    callerThrows.add(e);
                }
                AtomicInteger periodic = new AtomicInteger();
                ScheduledFuture<?> p = null;
                try {
                    p = ses.scheduleAtFixedRate(periodic::incrementAndGet, 1, 1, TimeUnit.MILLISECONDS);
                    futures.add(p);
                } catch (Throwable e) {
                    callerThrows.add(e);
                }
                if (p != null) {
                    ScheduledFuture<?> pf = p;
                    eventually(() -> periodic.get() >= 3 || pf.isDone());
                }
                ses.shutdown();
                if (!ses.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    findings.add("the scheduled view did not terminate after shutdown()");
                }
                for (Future<?> f : futures) {
                    if (!f.isDone()) {
                        notes.add("a future of the scheduled view was not done yet when awaitTermination returned true: " + f);
                    }
                    if (!eventually(f::isDone)) {
                        findings.add("a future of the scheduled view is not done " + WAIT_SECONDS + " s after termination: " + f);
                        continue;
                    }
                    try {
                        f.get(0, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException e) {
                        callerThrows.add(e);
                    } catch (java.util.concurrent.CancellationException e) {
                        // cancelled by the shutdown (periodic)
                    }
                }
                xq.destroy();
            });

            // 14. the worker cap: a rescue and a cap report, in a runtime of its own
            step("cap", () -> {
                WorkQueues capped = runtime(b -> b.maxWorkers(2));
                runtimes.add(capped);
                WorkQueue u = capped.queueBuilder("cap-unbound").unbound().build();
                WorkQueue plain = capped.queueBuilder("cap-plain").build();
                WorkQueue reclaim = capped.queueBuilder("cap-reclaim").memReclaim().build();
                CountDownLatch started = latch(2);
                CountDownLatch release = latch(1);
                q(u, blocker("cap-b1", started, release));
                q(u, blocker("cap-b2", started, release));
                if (!awaitQuietly(started)) {
                    findings.add("note: the two unbound blockers did not both start at maxWorkers(2)");
                }
                Work rescued = work("cap-rescued");
                q(reclaim, rescued);
                q(plain, work("cap-waits"));
                boolean ran = eventually(() -> rec("cap-rescued").runs.get() > 0);
                boolean capReported = eventually(() -> reports.stream().anyMatch(r -> r.contains("worker cap")));
                release.countDown();
                if (!ran) {
                    findings.add("the memReclaim item was not rescued at the worker cap within " + WAIT_SECONDS + " s");
                }
                if (!capReported) {
                    findings.add("the worker cap episode was not reported within " + WAIT_SECONDS + " s");
                }
                u.flush();
                plain.flush();
                reclaim.flush();
            });

            // the throw has been made (or not): the hook goes, and everything must still work
            TestHooks.install(null);
            step("afterwards", () -> {
                for (WorkQueue q : all) {
                    for (int i = 0; i < 3; i++) {
                        Work w = work(q.name() + "-after-" + i);
                        if (!q(q, w)) {
                            findings.add("INVARIANT 4: queue() of a fresh item after the throw returned false on "
                                    + q.name());
                        }
                    }
                    DelayedWork d = delayed(q.name() + "-after-d");
                    qd(q, d, Duration.ofMillis(1));
                    if (!q.flush(Duration.ofSeconds(WAIT_SECONDS))) {
                        findings.add("INVARIANT 4: flush of " + q.name() + " after the throw timed out\n" + dumpThreads());
                    }
                    if (!d.flush(Duration.ofSeconds(WAIT_SECONDS))) {
                        findings.add("INVARIANT 4: delayed item on " + q.name() + " not run after the throw\n" + dumpThreads());
                    }
                    for (int i = 0; i < 3; i++) {
                        if (rec(q.name() + "-after-" + i).runs.get() != 1) {
                            findings.add("INVARIANT 4: item queued after the throw on " + q.name() + " did not run once");
                        }
                    }
                }
                for (WorkQueues other : runtimes) {
                    if (other != rt && !other.isClosed()) {
                        WorkQueue q = other.queueBuilder("after-other").build();
                        Work w = work("other-after");
                        q(q, w);
                        if (!q.flush(Duration.ofSeconds(WAIT_SECONDS)) || rec("other-after").runs.get() != 1) {
                            findings.add("INVARIANT 4: the second runtime does not run items after the throw");
                        }
                    }
                }
            });
        }
    }
}
