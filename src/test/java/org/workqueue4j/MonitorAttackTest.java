package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * Attacks on the monitor thread outliving an Error in its scan (Monitor.run): surviving is not
 * enough, what the scan was about to report must still be reported.
 */
@Timeout(120)
class MonitorAttackTest {
    private LibraryLog log;

    /** Throws a simulated OutOfMemoryError at {@code testPoint} the first time it is reached; counts the visits. */
    private static AtomicInteger strikeOnce(String testPoint) {
        AtomicInteger struck = new AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals(testPoint) && struck.getAndIncrement() == 0) {
                throw new OutOfMemoryError("simulated: no memory at " + testPoint);
            }
        });
        return struck;
    }

    /** A 2-CPU runtime whose watchdog threshold is {@code threshold}, with no item ever CPU-intensive. */
    private static TestRuntime watchdogRuntime(Duration threshold) {
        return new TestRuntime(2, b -> b.watchdogThreshold(threshold).cpuIntensiveThreshold(Duration.ofHours(1)));
    }

    /** An item that counts {@code started} down, then waits for {@code gate}. */
    private static Work blocker(CountDownLatch started, CountDownLatch gate) {
        return new Work("stuck-item", () -> {
            started.countDown();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @AfterEach
    void restore() {
        TestHooks.install(null);
        if (log != null) {
            log.close();
        }
    }

    /*
     * A pool stalls; the first lockup report's dump fails to build (an allocation failure,
     * injected at the test point monitor.stallReport). The pool is marked reported before the
     * report is built, and stays stalled: the lockup must still be reported (with its header at
     * least), not lost for as long as the stall lasts.
     */
    @Test
    @DisplayName("a lockup whose report's dump cannot be built is still reported")
    void aLockupWhoseDumpFailsIsStillReported() throws InterruptedException {
        log = LibraryLog.recording();
        try (TestRuntime t = watchdogRuntime(Duration.ofMillis(200))) {
            WorkQueue q = t.queue("stalled").build();
            AtomicInteger struck = strikeOnce("monitor.stallReport");
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            q.queueOn(0, blocker(started, gate));
            q.queueOn(0, new Work("waiting-item", () -> { }));
            try {
                assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
                await().atMost(Duration.ofSeconds(20)).until(() -> struck.get() > 0);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> t.reports.stream().anyMatch(r -> r.contains("BUG: workqueue lockup - pool cpus=0")));
            } finally {
                gate.countDown();
            }
            q.flush();
        }
    }

    /*
     * A thread waits too long in a flush; the first hung-wait report fails to build (test point
     * hungWaits.report). The wait was marked reported before its report was built: it must
     * still be reported while it lasts.
     */
    @Test
    @DisplayName("a hung wait whose report cannot be built is still reported")
    void aHungWaitWhoseReportFailsIsStillReported() throws InterruptedException {
        log = LibraryLog.recording();
        try (TestRuntime t = watchdogRuntime(Duration.ofMillis(200))) {
            WorkQueue q = t.queue("slow").build();
            AtomicInteger struck = strikeOnce("hungWaits.report");
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            Work stuck = blocker(started, gate);
            q.queue(stuck);
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            Thread flusher = new Thread(stuck::flush, "hung-flusher");
            flusher.start();
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> struck.get() > 0);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> t.reports.stream().anyMatch(r -> r.contains("'hung-flusher' blocked for more than")));
            } finally {
                gate.countDown();
                flusher.join(30_000);
            }
            assertThat(flusher.isAlive()).isFalse();
        }
    }

    /*
     * Two threads wait too long and are first seen so in one scan; building the second one's
     * report fails (test point hungWaits.report, the second visit of a scan). The first wait
     * was marked reported and its report built into a list that the monitor would have
     * reported after the loop: the Error dropped the list, and the first wait was never
     * reported while it lasted. Fails on that code (one of the two flushers never named).
     * The monitor is held at the start of a scan while both flushes begin, so that the next
     * scan is the first to see either of them, and sees both (1 ms threshold, ticks of 1 ms).
     */
    @Test
    @DisplayName("an Error building one hung-wait report loses no other report of the same scan")
    void anErrorBuildingOneHungWaitReportLosesNoOther() throws InterruptedException {
        log = LibraryLog.recording();
        try (TestRuntime t = watchdogRuntime(Duration.ofMillis(1))) {
            WorkQueue q = t.queue("slow").build();
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(2);
            Work first = blocker(started, gate);
            Work second = blocker(started, gate);
            q.queueOn(0, first);
            q.queueOn(1, second);
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            AtomicBoolean hold = new AtomicBoolean(true);
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger builtThisScan = new AtomicInteger();
            AtomicInteger struck = new AtomicInteger();
            TestHooks.install((point, subject) -> {
                if (point.equals("monitor.scan")) {
                    builtThisScan.set(0);
                    if (hold.compareAndSet(true, false)) {
                        held.countDown();
                        awaitQuietly(go);
                    }
                } else if (point.equals("hungWaits.report") && builtThisScan.incrementAndGet() == 2
                        && struck.getAndIncrement() == 0) {
                    throw new OutOfMemoryError("simulated: building the second hung-wait report of a scan");
                }
            });
            Thread f1 = new Thread(first::flush, "hung-flusher-1");
            Thread f2 = new Thread(second::flush, "hung-flusher-2");
            try {
                assertThat(held.await(30, TimeUnit.SECONDS)).as("the monitor is held at a scan's start").isTrue();
                f1.start();
                f2.start();
                await().atMost(Duration.ofSeconds(20)).until(() -> parked(f1) && parked(f2));
                go.countDown();
                await().atMost(Duration.ofSeconds(20)).until(() -> struck.get() > 0);
                await().atMost(Duration.ofSeconds(20)).until(() -> t.reports.stream().anyMatch(r -> r.contains("'hung-flusher-1' blocked for more than"))
                        && t.reports.stream().anyMatch(r -> r.contains("'hung-flusher-2' blocked for more than")));
            } finally {
                go.countDown();
                gate.countDown();
                f1.join(30_000);
                f2.join(30_000);
            }
            assertThat(f1.isAlive() || f2.isAlive()).isFalse();
        }
    }

    /*
     * A lockup the scan took (the pool marked reported, which it stays while the stall lasts),
     * then an Error later in the same scan, after the pools were visited: in the hung-wait check
     * (test point monitor.hungCheck; an allocation failure there). The lockup's report was made
     * after that check, so it went with the Error and was never made while the stall lasted.
     * Every scan's check is struck here. Fails on that code (no lockup report within 20 s).
     */
    @Test
    @DisplayName("an Error after the pools were visited does not lose a lockup the scan took")
    void anErrorAfterThePoolVisitsDoesNotLoseATakenLockup() throws InterruptedException {
        log = LibraryLog.recording();
        try (TestRuntime t = watchdogRuntime(Duration.ofMillis(200))) {
            WorkQueue q = t.queue("stalled-then-struck").build();
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            q.queueOn(0, blocker(started, gate));
            q.queueOn(0, new Work("waiting-item", () -> { }));
            AtomicInteger struck = new AtomicInteger();
            AtomicBoolean striking = new AtomicBoolean(true);
            TestHooks.install((point, subject) -> {
                // Every scan's check is struck, the one that takes the lockup included.
                if (point.equals("monitor.hungCheck") && striking.get()) {
                    struck.incrementAndGet();
                    throw new OutOfMemoryError("simulated: in the hung-wait check");
                }
            });
            try {
                assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
                await().atMost(Duration.ofSeconds(20)).until(() -> struck.get() > 0);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> t.reports.stream().anyMatch(r -> r.contains("BUG: workqueue lockup - pool cpus=0")));
            } finally {
                striking.set(false);
                gate.countDown();
            }
            q.flush();
        }
    }

    private static boolean parked(Thread t) {
        Thread.State s = t.getState();
        return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
    }

    private static void awaitQuietly(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
