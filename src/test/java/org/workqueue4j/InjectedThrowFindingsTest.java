package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.workqueue4j.InjectedThrows.throwOnceAt;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.InjectedThrows.Injected;
import org.workqueue4j.internal.TestHooks;

/**
 * The cases {@link InjectedThrowSweepTest} found, each on its own (each failed before its fix): a
 * throw at one engine point after an item was taken, where the accepted instance then ended in no
 * run, no cancel that returned true and no report to the uncaught-work handler; a close() that
 * threw after stopping the runtime's own threads and left the workers running; a monitor that did
 * not outlive a throw at its start; a scheduled view that terminated before a periodic task's
 * future was done.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class InjectedThrowFindingsTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.watchdogThreshold(Duration.ofMillis(400))
            .cpuIntensiveThreshold(Duration.ofHours(1)));

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    @Test
    void aThrowWhileAFlushFiresAnArmedItemLosesTheItem() {
        // reported to the handler, as the timer thread reports the same throw
        armedItemRunsOrIsReportedAfterAThrowAt("fire-on-flush", "timer.fire", DelayedWork::flush);
    }

    /**
     * Arms an item, throws once at {@code point} during {@code call} (which must throw it), and
     * checks the instance ended: queueDelayed returned true, so it must run, be cancelled by a
     * call that says so, or be reported to the handler.
     */
    private void armedItemRunsOrIsReportedAfterAThrowAt(String queue, String point, java.util.function.Consumer<DelayedWork> call) {
        armedItemRunsOrIsReportedAfterAThrowAt(t.queue(queue).build(), point, call);
    }

    private void armedItemRunsOrIsReportedAfterAThrowAt(WorkQueue q, String point, java.util.function.Consumer<DelayedWork> call) {
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("armed", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        AtomicBoolean armed = throwOnceAt(point);
        assertThatThrownBy(() -> call.accept(d)).isInstanceOf(Injected.class);
        assertThat(armed).isFalse();
        TestHooks.install(null);
        q.flush();
        assertThat(d.isPending()).as("pending").isFalse();
        assertThat(runs.get() + t.errorWork.size())
                .as("the accepted instance ran or was reported (runs %s, reports %s)", runs.get(), t.errorWork)
                .isEqualTo(1);
    }

    /** The same throw delivered by the stack's end: a flush of an armed item at every depth. */
    @Test
    void aStackOverflowWhileAFlushFiresAnArmedItemLosesNoItem() {
        WorkQueue q = t.queue("fire-on-flush-deep").build();
        AtomicInteger warm = new AtomicInteger();
        DelayedWork w = new DelayedWork("warm-up", warm::incrementAndGet);
        q.queueDelayed(w, Duration.ofHours(1));
        w.flush(); // every path linked at normal depth first
        q.flush();
        int n = 20_000;
        List<DelayedWork> items = new ArrayList<>();
        AtomicInteger[] runs = new AtomicInteger[n];
        for (int i = 0; i < n; i++) {
            AtomicInteger r = new AtomicInteger();
            runs[i] = r;
            DelayedWork d = new DelayedWork("d" + i, r::incrementAndGet);
            items.add(d);
            assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue(); // armed at normal depth
        }
        int[] attempts = {0};
        StackOverflowError[] struck = new StackOverflowError[n];
        StackProbeAttackTest.descend(i -> {
            if (i < n) {
                try {
                    items.get(i).flush();
                } catch (StackOverflowError e) {
                    struck[i] = e;
                    throw e;
                }
            }
        }, attempts, new java.util.concurrent.atomic.AtomicReference<>());
        for (DelayedWork d : items) {
            d.flush(); // an instance still armed runs now
        }
        q.flush();
        List<String> lost = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = "d" + i;
            boolean reported = t.errorWork.stream().anyMatch(s -> s.endsWith("/" + name));
            if (runs[i].get() == 0 && !reported) {
                StackTraceElement[] st = struck[i] == null ? new StackTraceElement[0] : struck[i].getStackTrace();
                lost.add(name + (items.get(i).isPending() ? " (still pending)" : " (idle)") + ", struck at "
                        + java.util.Arrays.toString(java.util.Arrays.copyOf(st, Math.min(st.length, 14))));
            }
        }
        assertThat(lost).as("armed items (queueDelayed returned true) that neither ran nor were reported").isEmpty();
    }

    /**
     * A throw between a cancel's grab and its release of PENDING (reachable only by an
     * asynchronous Error; the test point stands for one): the call throws, so it cannot say it
     * cancelled; the instance it took must be reported, not lost.
     */
    @Test
    void aThrowAfterCancelTookAnItemLosesTheItem() {
        // cancel() threw, so it did not say it cancelled: the instance must still run (or be reported)
        armedItemRunsOrIsReportedAfterAThrowAt("cancel-grabbed", "cancel.grabbed", DelayedWork::cancel);
    }

    /** As above for a disable of an armed item, which also counts the disable in that window. */
    @Test
    void aThrowAfterDisableTookAnItemLosesTheItem() {
        armedItemRunsOrIsReportedAfterAThrowAt("disable-grabbed", "cancel.grabbed", DelayedWork::disable);
    }

    /** As above for a plain item taken off its queue's worklist (behind a running blocker). */
    @Test
    void aThrowAfterCancelTookAQueuedItemLosesTheItem() {
        WorkQueue q = t.queue("cancel-queued").maxActive(1).build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("blocker", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("queued", runs::incrementAndGet);
        assertThat(q.queue(w)).isTrue();
        AtomicBoolean armed = throwOnceAt("cancel.grabbed");
        try {
            assertThatThrownBy(w::cancel).isInstanceOf(Injected.class);
        } finally {
            release.countDown();
        }
        assertThat(armed).isFalse();
        TestHooks.install(null);
        q.flush();
        assertThat(w.isPending()).as("pending").isFalse();
        assertThat(runs.get() + t.errorWork.size())
                .as("the accepted instance ran or was reported (runs %s, reports %s)", runs.get(), t.errorWork)
                .isEqualTo(1);
        assertThat(q.queue(w)).as("the item is usable again").isTrue();
        q.flush();
    }

    /**
     * modDelayed takes the pending instance back before it re-arms; a destroy that begins in
     * between refuses the re-arm. The call throws, so the instance it took must be reported (as the
     * destroy would have reported it armed), not left idle with no word.
     */
    @Test
    void aDestroyBetweenModDelayedsGrabAndItsArmReportsTheInstanceItTook() {
        WorkQueue q = t.queue("mod-destroyed").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("armed", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        AtomicBoolean once = new AtomicBoolean(true);
        TestHooks.install((p, s) -> {
            if (p.equals("modDelayed.grabbed") && once.compareAndSet(true, false)) {
                q.destroy(); // nothing armed or queued now: returns at once
            }
        });
        assertThatThrownBy(() -> q.modDelayed(d, Duration.ofHours(2)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("mod-destroyed");
        TestHooks.install(null);
        assertThat(once).isFalse();
        assertThat(d.isPending()).as("pending").isFalse();
        assertThat(runs.get()).isZero();
        assertThat(t.errorWork).as("the instance modDelayed took back is reported").containsExactly("mod-destroyed/armed");
    }

    /** As above with an Error thrown in that window: the instance is reported, the Error thrown. */
    @Test
    void aThrowBetweenModDelayedsGrabAndItsArmLosesTheItem() {
        WorkQueue q = t.queue("mod-grabbed").build();
        armedItemRunsOrIsReportedAfterAThrowAt(q, "modDelayed.grabbed", d -> q.modDelayed(d, Duration.ofHours(2)));
    }

    @Test
    void aThrowAtTheStartOfAReportKeepsItFromTheHandler() {
        WorkQueue q = t.queue("report-start").build();
        DelayedWork d = new DelayedWork("armed-at-destroy", () -> { });
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        throwOnceAt("runtime.uncaught");
        try (LibraryLog log = LibraryLog.recording()) {
            q.destroy(); // reports the armed item to the handler
            assertThat(log.mentions("could not be reported in full")).as("the fallback logged it").isTrue();
        }
        assertThat(t.errorWork).as("the uncaught-work handler was told about the item that never ran")
                .containsExactly("report-start/armed-at-destroy");
    }

    @Test
    void aThrowAtTheMonitorsStartEndsTheWatchdogForGood() {
        throwOnceAt("monitor.preloaded");
        WorkQueue q = t.queue("watched").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queueOn(1, new Work("blocker", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
        q.queueOn(1, new Work("behind", () -> { }));
        try {
            // a pool with pending work and no progress for 400 ms is a lockup (watchdogThreshold)
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> t.reports.stream().anyMatch(r -> r.contains("lockup")));
        } finally {
            release.countDown();
        }
    }

    @Test
    void aThrowInCloseAfterTheRuntimeThreadsStoppedLeavesTheWorkersRunningForGood() {
        WorkQueues rt = t.rt;
        WorkQueue q = t.queue("before-close").build();
        q.queue(new Work("w", () -> { }));
        q.flush();
        throwOnceAt("close.stopped");
        assertThatThrownBy(rt::close).isInstanceOf(Injected.class);
        TestHooks.install(null);
        rt.close(); // a second close: returns at once
        // told to stop, each thread ends on its own (no join: the close that would have joined threw)
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> t.threads.stream().noneMatch(Thread::isAlive));
    }

    /**
     * A periodic task running when shutdown() is called: its future is cancelled when the run
     * ends, but the view counts the task finished (and may terminate) before that cancel.
     */
    @Test
    void aScheduledViewTerminatesBeforeItsPeriodicFutureIsDone() throws Exception {
        int notDone = 0;
        for (int i = 0; i < 200; i++) {
            WorkQueue q = t.queue("periodic-" + i).build();
            ScheduledExecutorService ses = q.asScheduledExecutorService();
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ScheduledFuture<?> f = ses.scheduleAtFixedRate(() -> {
                running.countDown();
                WorkQueueCoreTest.await(release);
            }, 0, 1, TimeUnit.MILLISECONDS);
            WorkQueueCoreTest.await(running);
            ses.shutdown();
            release.countDown();
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            if (!f.isDone()) {
                notDone++;
            }
            q.destroy();
        }
        assertThat(notDone).as("periodic futures not done when awaitTermination returned true, of 200").isZero();
    }

    /**
     * An owning executor view destroys its queue from a system_unbound item once terminated. An
     * Error in that destroy (here at its drain's flush) is the item's failure, reported as any
     * item's; the view is terminated all the same (every task ended). Before, the item's
     * "destroy, then mark terminated" stopped at the throw, and awaitTermination never returned true.
     */
    @Test
    void anErrorInAnOwnedViewsDestroyStillTerminatesTheView() throws Exception {
        java.util.List<Throwable> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch reported = new CountDownLatch(1);
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                .uncaughtWorkHandler((q, w, e) -> {
                    handled.add(e);
                    reported.countDown();
                }).build())) {
            java.util.concurrent.ExecutorService ex = rt.queueBuilder("owned").buildExecutorService();
            ex.submit(() -> { }).get(10, java.util.concurrent.TimeUnit.SECONDS);
            TestHooks.install((p, s) -> {
                Work w = Work.current();
                if (p.equals("flush.registered") && w != null && w.name().startsWith("destroy/")) {
                    throw new InjectedThrows.Injected("injected in the view's destroy");
                }
            });
            try {
                ex.shutdown();
                assertThat(ex.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)).as("terminated").isTrue();
                // The destroy follows the termination, on a system_unbound worker.
                assertThat(reported.await(10, TimeUnit.SECONDS)).as("the destroy's Error reported").isTrue();
            } finally {
                TestHooks.install(null);
            }
            assertThat(handled).singleElement().isInstanceOf(InjectedThrows.Injected.class);
        }
    }
}
