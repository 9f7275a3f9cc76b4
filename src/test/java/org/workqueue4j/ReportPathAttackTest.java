package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * Attacks on the paths that report (the worker's item failure, the timer's refused expiry, a
 * destroy's armed items) with user code that fails in the worst ways: an exception that cannot
 * even be described ({@code toString()} throws), thrown by an item or by the uncaught-work
 * handler. Nothing may be lost silently, no runtime thread may die, no wait may hang.
 */
class ReportPathAttackTest {

    /** An exception whose description fails: {@code toString()} calls {@code getMessage()}. */
    static final class Indescribable extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String tag;

        Indescribable(String tag) {
            this.tag = tag;
        }

        @Override
        public String getMessage() {
            throw new IllegalStateException("no message for " + tag);
        }
    }

    /** What reaches the library's logger (the console formatter would trip on the exceptions too). */
    private LibraryLog log;
    /** Everything that escaped a runtime thread (its uncaught-exception handler). */
    private final List<Throwable> escaped = new CopyOnWriteArrayList<>();
    private final ThreadFactory recording = r -> {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((th, e) -> escaped.add(e));
        return t;
    };

    /** A one-CPU runtime on the recording thread factory, with the default handler. */
    private WorkQueues recordingRuntime() {
        return WorkQueues.create(WorkQueuesConfig.builder().cpus(1).threadFactory(recording).build());
    }

    @BeforeEach
    void captureLog() {
        log = LibraryLog.recording();
    }

    @AfterEach
    void restoreLog() {
        log.close();
    }

    /*
     * No handler: the failure is logged with a message built from the exception's toString(),
     * which throws; the fallback message did the same, so uncaught() threw out of the worker's
     * run and the worker thread died, the failure reported nowhere. Fails on that code with the
     * escape recorded and no record naming the item.
     */
    @Test
    @DisplayName("an item throwing an exception that cannot be described is logged and kills no worker")
    void indescribableItemFailureIsLoggedAndKillsNoWorker() throws Exception {
        failOnAWorker(WorkQueuesConfig.builder(), () -> {
            throw new Indescribable("bomb");
        });
    }

    /*
     * A handler that throws an indescribable exception: the "handler failed" message was built
     * from it and threw, out of uncaught() and the worker. Fails on that code as above.
     */
    @Test
    @DisplayName("a handler throwing an exception that cannot be described is logged and kills no worker")
    void indescribableHandlerFailureIsLoggedAndKillsNoWorker() throws Exception {
        failOnAWorker(WorkQueuesConfig.builder().uncaughtWorkHandler((queue, work, e) -> {
            throw new Indescribable("handler");
        }), () -> {
            throw new IllegalArgumentException("plain failure");
        });
    }

    /*
     * The same Error while building the report of an item that threw, on its worker: it escaped
     * uncaught() and ended the worker thread (the recording factory saw it), and the item's
     * failure was reported nowhere. Fails on that code with the escape recorded.
     */
    @Test
    @DisplayName("an Error while building a report on a worker is logged as a fallback and kills no worker")
    void errorBuildingAReportOnAWorkerKillsNoWorker() throws Exception {
        try (WorkQueues rt = recordingRuntime()) {
            WorkQueue q = rt.queueBuilder("q").build();
            Work fails = new Work("fails", () -> {
                throw new IllegalArgumentException("plain failure");
            });
            TestHooks.install((point, subject) -> {
                if (point.equals("runtime.uncaught") && subject == fails.node) {
                    throw new OutOfMemoryError("simulated: no memory to build the report");
                }
            });
            try {
                assertThat(q.queue(fails)).isTrue();
                assertThat(fails.flush(Duration.ofSeconds(30))).isTrue();
            } finally {
                TestHooks.install(null);
            }
            CountDownLatch after = new CountDownLatch(1);
            assertThat(q.queue(new Work("after", after::countDown))).isTrue();
            assertThat(after.await(30, TimeUnit.SECONDS)).as("a later item still runs").isTrue();
            assertThat(escaped).as("nothing escaped a runtime thread").isEmpty();
            assertThat(log.mentions("could not be reported in full")).as("a fallback report was logged").isTrue();
        }
    }

    /**
     * Runs an item named "fails" with {@code body} on a runtime made from {@code builder}; then
     * nothing escaped a runtime thread, the failure was logged naming the item, and a later
     * item still runs.
     */
    private void failOnAWorker(WorkQueuesConfig.Builder builder, Runnable body) throws Exception {
        try (WorkQueues rt = WorkQueues.create(builder.cpus(1).threadFactory(recording).build())) {
            WorkQueue q = rt.queueBuilder("q").build();
            Work fails = new Work("fails", body);
            assertThat(q.queue(fails)).isTrue();
            assertThat(fails.flush(Duration.ofSeconds(30))).isTrue(); // ran (or still runs) and ended
            CountDownLatch after = new CountDownLatch(1);
            assertThat(q.queue(new Work("after", after::countDown))).isTrue();
            assertThat(after.await(30, TimeUnit.SECONDS)).as("a later item still runs").isTrue();
            assertThat(escaped).as("nothing escaped a runtime thread").isEmpty();
            assertThat(log.mentions("'fails'")).as("the failure was logged, naming the item").isTrue();
        }
    }

    /*
     * The same handler during a destroy: the report of an armed item threw out of uncaught(),
     * and destroy() threw it and undid itself (the queue lived on), for a failure of the user's
     * handler that a plain exception would only have logged. Fails on that code with destroy()
     * throwing Indescribable.
     */
    @Test
    @DisplayName("a destroy whose handler throws an exception that cannot be described still destroys and logs")
    void destroyWithAnIndescribableHandlerFailureStillDestroys() throws Exception {
        WorkQueuesConfig config = WorkQueuesConfig.builder().cpus(1).threadFactory(recording)
                .uncaughtWorkHandler((queue, work, e) -> {
                    throw new Indescribable("handler");
                }).build();
        try (WorkQueues rt = WorkQueues.create(config)) {
            WorkQueue q = rt.queueBuilder("q").build();
            DelayedWork armed = new DelayedWork("armed", () -> { });
            assertThat(q.queueDelayed(armed, Duration.ofHours(1))).isTrue();
            Throwable thrown = null;
            try {
                q.destroy();
            } catch (Throwable e) {
                thrown = e;
            }
            assertThat(thrown).as("destroy() completed").isNull();
            assertThat(armed.isPending()).isFalse();
            assertThat(armed.flush(Duration.ofSeconds(30))).isTrue();
            assertThat(log.mentions("'armed'")).as("the handler's failure was logged, naming the item").isTrue();
            assertThat(escaped).isEmpty();
        }
    }

    /*
     * A thread factory that throws an indescribable exception: the creation-failure report was
     * built from its toString() under the pool lock and threw, so no report was ever made (and
     * the maydays after it were skipped). Fails on that code with no report within 30 s.
     */
    @Test
    @DisplayName("a thread factory throwing an exception that cannot be described is still reported")
    void indescribableThreadFactoryFailureIsReported() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        WorkQueuesConfig config = WorkQueuesConfig.builder().cpus(1)
                .threadFactory(r -> {
                    if (r.getClass().getName().endsWith(".internal.Worker")) {
                        throw new Indescribable("factory"); // pool workers only: the runtime's own threads start
                    }
                    return recording.newThread(r);
                })
                .reportListener(reports::add).closeTimeout(Duration.ofSeconds(1)).build();
        try (WorkQueues rt = WorkQueues.create(config)) {
            WorkQueue q = rt.queueBuilder("q").build();
            try {
                q.queue(new Work("never", () -> { }));
            } catch (RuntimeException refused) {
                // a queue may refuse when no worker can be made; the report is what is attacked
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> reports.stream().anyMatch(r -> r.contains("failed to create a worker")
                            && r.contains(Indescribable.class.getName())));
            assertThat(escaped).isEmpty();
        }
    }

    /**
     * Makes the timer thread report a refused expiry of {@code dw}: armed on {@code dies} with a
     * 1 ms delay, popped by the timer thread, which is held (test hook) until the destroy of
     * {@code dies} has begun (and waits for it), so its insert is refused and the item reported
     * on the timer thread.
     */
    private static void refuseAnExpiry(WorkQueue dies, DelayedWork dw) {
        CountDownLatch popped = new CountDownLatch(1);
        CountDownLatch destroyed = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (subject == dw.node && point.equals("timer.fire") && popped.getCount() == 1) {
                popped.countDown();
                WorkQueueCoreTest.await(destroyed);
            } else if (point.equals("timer.awaitTransit")) {
                destroyed.countDown(); // the destroy began and waits for the held expiry: its insert is refused
            }
        });
        try {
            assertThat(dies.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
            WorkQueueCoreTest.await(popped);
            dies.destroy();
            destroyed.countDown();
        } finally {
            destroyed.countDown();
            TestHooks.install(null);
        }
    }

    /*
     * Guard: a handler that overflows its stack on the timer thread (a real StackOverflowError,
     * deep recursion) is logged; the timer lives on and fires the next item. It would fail (the
     * next item never runs within 30 s) if the Error escaped the timer's loop and ended its thread.
     */
    @Test
    @DisplayName("a handler overflowing its stack on the timer thread leaves the timer alive")
    void handlerStackOverflowOnTheTimerThreadLeavesTheTimerAlive() throws Exception {
        AtomicInteger overflowed = new AtomicInteger();
        WorkQueuesConfig config = WorkQueuesConfig.builder().cpus(1).threadFactory(recording)
                .uncaughtWorkHandler((queue, work, e) -> {
                    overflowed.incrementAndGet();
                    recurse(0);
                }).build();
        try (WorkQueues rt = WorkQueues.create(config)) {
            WorkQueue dies = rt.queueBuilder("dies").build();
            WorkQueue lives = rt.queueBuilder("lives").build();
            refuseAnExpiry(dies, new DelayedWork("refused", () -> { }));
            CountDownLatch next = new CountDownLatch(1);
            assertThat(lives.queueDelayed(new DelayedWork("next", next::countDown), Duration.ofMillis(1))).isTrue();
            assertThat(next.await(30, TimeUnit.SECONDS)).as("the timer fired the next item").isTrue();
            assertThat(overflowed).hasValue(1);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> log.mentions("uncaught-work handler failed (java.lang.StackOverflowError") && log.mentions("'refused'"));
            assertThat(escaped).isEmpty();
        }
    }

    /*
     * An Error while the report itself is built (an allocation failure making its message), on
     * the timer thread: it escaped uncaught() and the fire's catch-all, and only the timer's
     * "survived an error" line, naming the Error, was logged; the refused expiry of the item
     * was reported nowhere. Simulated by the test point "runtime.uncaught", which throws
     * OutOfMemoryError for the refused item's reports. Fails on that code with no fallback
     * report in the log (the timer itself lived on).
     */
    @Test
    @DisplayName("an Error while building a report on the timer thread leaves the timer alive and the failure logged")
    void errorBuildingAReportOnTheTimerThreadLeavesTheTimerAlive() throws Exception {
        try (WorkQueues rt = recordingRuntime()) {
            WorkQueue dies = rt.queueBuilder("dies").build();
            WorkQueue lives = rt.queueBuilder("lives").build();
            DelayedWork refused = new DelayedWork("refused", () -> { });
            AtomicInteger reportsFailed = new AtomicInteger();
            CountDownLatch popped = new CountDownLatch(1);
            CountDownLatch destroyed = new CountDownLatch(1);
            TestHooks.install((point, subject) -> {
                if (point.equals("timer.awaitTransit")) {
                    destroyed.countDown(); // the destroy began and waits for the held expiry: its insert is refused
                    return;
                }
                if (subject != refused.node) {
                    return;
                }
                if (point.equals("timer.fire") && popped.getCount() == 1) {
                    popped.countDown();
                    WorkQueueCoreTest.await(destroyed); // the insert is then refused
                } else if (point.equals("runtime.uncaught")) {
                    reportsFailed.incrementAndGet();
                    throw new OutOfMemoryError("simulated: no memory to build the report");
                }
            });
            try {
                assertThat(dies.queueDelayed(refused, Duration.ofMillis(1))).isTrue();
                WorkQueueCoreTest.await(popped);
                dies.destroy();
                destroyed.countDown();
                CountDownLatch next = new CountDownLatch(1);
                assertThat(lives.queueDelayed(new DelayedWork("next", next::countDown), Duration.ofMillis(1))).isTrue();
                assertThat(next.await(30, TimeUnit.SECONDS)).as("the timer fired the next item").isTrue();
            } finally {
                destroyed.countDown();
                TestHooks.install(null);
            }
            assertThat(reportsFailed.get()).as("the report was attempted and failed").isPositive();
            assertThat(log.mentions("could not be reported in full")).as("a fallback report was logged").isTrue();
            assertThat(escaped).as("nothing escaped a runtime thread").isEmpty();
        }
    }

    /*
     * An Error in the monitor's own scan (an allocation failure making a report, say): it ended
     * the monitor thread, silently for the library's log, and with it the mayday timer that
     * memReclaim() queues' forward progress rests on, the watchdog, the hung-wait reports and
     * the safety net for stranded items. Simulated by throwing OutOfMemoryError from the test
     * point "monitor.scan" once. Fails on that code with the Error escaped and no later scan.
     */
    @Test
    @DisplayName("an Error in the monitor's scan leaves the monitor scanning, and is logged")
    void errorInTheMonitorsScanLeavesTheMonitorAlive() throws Exception {
        try (WorkQueues rt = recordingRuntime()) {
            WorkQueue q = rt.queueBuilder("q").build();
            AtomicInteger scans = new AtomicInteger();
            CountDownLatch thrown = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            TestHooks.install((point, subject) -> {
                if (point.equals("monitor.scan")) {
                    scans.incrementAndGet();
                    if (thrown.getCount() == 1) {
                        thrown.countDown();
                        throw new OutOfMemoryError("simulated: in the monitor's scan");
                    }
                }
            });
            try {
                // A running item keeps the monitor scanning, tick after tick.
                assertThat(q.queue(new Work("holds", () -> WorkQueueCoreTest.await(release)))).isTrue();
                assertThat(thrown.await(30, TimeUnit.SECONDS)).as("the monitor scanned").isTrue();
                int after = scans.get();
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> scans.get() > after + 1);
            } finally {
                release.countDown();
                TestHooks.install(null);
            }
            assertThat(log.mentions("monitor thread survived an error")).as("the Error was logged").isTrue();
            assertThat(escaped).as("nothing escaped a runtime thread").isEmpty();
        }
    }

    /*
     * The monitor takes a pool's pending report (a worker-creation failure, the cap's report) out
     * of the pool under its lock and delivers it after visiting every pool. An Error later in the
     * same scan (here: thrown once, just after the report was taken) ended the scan with the
     * report taken and never delivered: the factory failed once, the retry a second later
     * succeeded, and the failure was reported nowhere. Fails on that code (no report within 30 s).
     */
    @Test
    @DisplayName("an Error in the monitor's scan after it took a pool's report does not lose the report")
    void errorLaterInTheScanDoesNotLoseATakenReport() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        ThreadFactory failsOnce = r -> {
            // 1: the manager, 2: the monitor (the first queue starts both), 3: the first worker
            if (calls.incrementAndGet() == 3) {
                throw new IllegalStateException("factory failure #3");
            }
            return recording.newThread(r);
        };
        AtomicInteger thrown = new AtomicInteger();
        CountDownLatch ran = new CountDownLatch(1);
        WorkQueuesConfig config = WorkQueuesConfig.builder().cpus(1).threadFactory(failsOnce).reportListener(reports::add).build();
        try (WorkQueues rt = WorkQueues.create(config)) {
            WorkQueue q = rt.queueBuilder("q").build();
            TestHooks.install((point, subject) -> {
                if (point.equals("monitor.reportsTaken") && thrown.getAndIncrement() == 0) {
                    throw new OutOfMemoryError("simulated: in the monitor's scan, after it took a report");
                }
            });
            try {
                assertThat(q.queue(new Work("needs a worker", ran::countDown))).isTrue();
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                        .until(() -> reports.stream().anyMatch(r -> r.contains("factory failure #3")));
                assertThat(thrown.get()).as("the Error was thrown after the report was taken").isPositive();
                assertThat(ran.await(30, TimeUnit.SECONDS)).as("the retry made a worker, the item ran").isTrue();
            } finally {
                TestHooks.install(null);
            }
            assertThat(reports.stream().filter(r -> r.contains("factory failure #3")).count()).as("reported once").isEqualTo(1);
            assertThat(log.mentions("monitor thread survived an error")).as("the Error was logged").isTrue();
            assertThat(escaped).as("nothing escaped a runtime thread").isEmpty();
        }
    }

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    /*
     * Guard: a handler on the timer thread that closes the runtime (close() would wait for the
     * thread it runs on) is refused at once with IllegalStateException, and the timer lives on.
     * It would fail (no outcome within 30 s, or the next item never fires) if close() joined the
     * thread it runs on, or if the refusal ended the timer thread.
     */
    @Test
    @DisplayName("a handler that closes the runtime from the timer thread is refused, and the timer lives on")
    void handlerClosingTheRuntimeOnTheTimerThreadIsRefused() throws Exception {
        CountDownLatch returned = new CountDownLatch(1);
        AtomicReference<Throwable> refusal = new AtomicReference<>();
        AtomicReference<WorkQueues> runtime = new AtomicReference<>();
        WorkQueuesConfig config = WorkQueuesConfig.builder().cpus(1).threadFactory(recording)
                .uncaughtWorkHandler((queue, work, e) -> {
                    try {
                        runtime.get().close();
                    } catch (Throwable t) {
                        refusal.set(t);
                    } finally {
                        returned.countDown();
                    }
                }).build();
        try (WorkQueues rt = WorkQueues.create(config)) {
            runtime.set(rt);
            WorkQueue dies = rt.queueBuilder("dies").build();
            WorkQueue lives = rt.queueBuilder("lives").build();
            refuseAnExpiry(dies, new DelayedWork("refused", () -> { }));
            assertThat(returned.await(30, TimeUnit.SECONDS)).as("close() from the timer thread returned").isTrue();
            assertThat(refusal.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("refused on its own thread");
            CountDownLatch next = new CountDownLatch(1);
            assertThat(lives.queueDelayed(new DelayedWork("next", next::countDown), Duration.ofMillis(1))).isTrue();
            assertThat(next.await(30, TimeUnit.SECONDS)).as("the timer fired the next item").isTrue();
            assertThat(escaped).isEmpty();
        }
    }

    /*
     * Guard: a handler, called on the worker for an item that threw, that flushes, cancels (and
     * waits for) the item and flushes and destroys its queue: each call would wait for the very
     * run being reported, so each is refused with IllegalStateException rather than hanging;
     * the handler returns, the worker lives on and the queue still runs items. It would fail
     * (handler not back within 30 s) if any of these waited for itself.
     */
    @Test
    @DisplayName("a handler on the worker that flushes, cancels and destroys the failing item's queue is refused, never hangs")
    void handlerCallingBackIntoItsOwnQueueOnTheWorkerIsRefused() throws Exception {
        List<Object> outcomes = new CopyOnWriteArrayList<>();
        CountDownLatch back = new CountDownLatch(1);
        WorkQueuesConfig config = WorkQueuesConfig.builder().cpus(1).threadFactory(recording)
                .uncaughtWorkHandler((queue, work, e) -> {
                    try {
                        List<java.util.concurrent.Callable<Object>> calls = List.of(
                                () -> work.flush(), () -> work.cancelSync(), () -> {
                                    queue.flush();
                                    return "flushed";
                                }, () -> {
                                    queue.destroy();
                                    return "destroyed";
                                });
                        for (java.util.concurrent.Callable<Object> call : calls) {
                            try {
                                outcomes.add(call.call());
                            } catch (Throwable t) {
                                outcomes.add(t);
                            }
                        }
                    } finally {
                        back.countDown();
                    }
                }).build();
        try (WorkQueues rt = WorkQueues.create(config)) {
            WorkQueue q = rt.queueBuilder("q").build();
            assertThat(q.queue(new Work("fails", () -> {
                throw new IllegalArgumentException("plain failure");
            }))).isTrue();
            assertThat(back.await(30, TimeUnit.SECONDS)).as("the handler returned").isTrue();
            assertThat(outcomes).hasSize(4).allSatisfy(o -> assertThat(o).isInstanceOf(IllegalStateException.class));
            CountDownLatch after = new CountDownLatch(1);
            assertThat(q.queue(new Work("after", after::countDown))).as("the queue lives on").isTrue();
            assertThat(after.await(30, TimeUnit.SECONDS)).as("a later item still runs").isTrue();
            assertThat(escaped).isEmpty();
        }
    }

    /*
     * A destroy reports two armed items in turn; the handler, told about the first, flushes the
     * second (and then cancels it). The second was still PENDING, off the timer, released only
     * by this same thread after the handler returned: the flush waited for itself (timed here:
     * it returned false after 10 s) and cancel(), which never blocks, spun on the item "in
     * transit" for ever. Failed on that code (before 1a26564) by the test's 120 s timeout.
     */
    @Test
    @DisplayName("a handler told about one armed item of a destroyed queue can flush and cancel another without waiting for itself")
    void handlerFlushingAnotherArmedItemOfTheDestroyedQueueDoesNotWaitForItself() throws Exception {
        AtomicReference<DelayedWork> other = new AtomicReference<>();
        List<Object> outcomes = new CopyOnWriteArrayList<>();
        WorkQueuesConfig config = WorkQueuesConfig.builder().cpus(1).threadFactory(recording)
                .uncaughtWorkHandler((queue, work, e) -> {
                    if (!work.name().equals("first")) {
                        return;
                    }
                    try {
                        outcomes.add(other.get().flush(Duration.ofSeconds(10)));
                        outcomes.add(other.get().cancel());
                    } catch (Throwable t) {
                        outcomes.add(t);
                    }
                }).build();
        try (WorkQueues rt = WorkQueues.create(config)) {
            WorkQueue dies = rt.queueBuilder("dies").build();
            DelayedWork first = new DelayedWork("first", () -> { });
            DelayedWork second = new DelayedWork("second", () -> { });
            other.set(second);
            assertThat(dies.queueDelayed(first, Duration.ofHours(1))).isTrue();
            assertThat(dies.queueDelayed(second, Duration.ofHours(2))).isTrue(); // reported after first
            dies.destroy();
            assertThat(outcomes).as("flushed at once (nothing left to wait for but this thread's own report), nothing to cancel")
                    .containsExactly(Boolean.TRUE, Boolean.FALSE);
            assertThat(second.isPending()).isFalse();
        }
    }
}
