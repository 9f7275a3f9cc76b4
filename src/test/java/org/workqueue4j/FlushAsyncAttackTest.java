package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * Attacks on {@link DelayedWork#flushAsync()} while another thread reports an earlier instance
 * (fired into a dead queue, or taken back by a destroy): the call never blocks its caller, and the
 * future completes after every such report and only then, also when the caller is itself a
 * reporter (an uncaught-work handler) and when several reports of the item overlap.
 */
class FlushAsyncAttackTest {

    @AfterEach
    void unhook() {
        TestHooks.install(null);
    }

    /** A handler that holds the report of each item named in {@code gates} until its gate opens. */
    private static WorkQueues runtimeHolding(Map<String, CountDownLatch> entered, Map<String, CountDownLatch> gates,
                                            Map<String, AtomicInteger> reported, UncaughtWorkHandler inside) {
        return WorkQueues.create(WorkQueuesConfig.builder().cpus(1).uncaughtWorkHandler((queue, work, e) -> {
            if (!(e instanceof IllegalStateException)) {
                return;
            }
            String key = queue.name() + "/" + work.name();
            CountDownLatch in = entered.get(key);
            if (in != null) {
                in.countDown();
            }
            try {
                if (inside != null) {
                    inside.uncaught(queue, work, e);
                }
                CountDownLatch g = gates.get(key);
                if (g != null) {
                    WorkQueueCoreTest.await(g);
                }
            } finally {
                reported.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            }
        }).build());
    }

    /*
     * A destroy takes every armed item of its queue off the timer at once, then reports them one
     * by one. While the handler holds the report of the first, the second was still PENDING (its
     * release came only just before its own report): flushAsync() of the second spun in its
     * caller until the first report ended, a blocking call. Fails on that code with the caller
     * still alive after 10 s.
     */
    @Test
    @DisplayName("flushAsync() of an item a destroy has yet to report does not wait for the report of another item before it")
    void asyncFlushDoesNotWaitForAnotherItemsReport() throws Exception {
        AtomicReference<CompletableFuture<Boolean>> future = new AtomicReference<>();
        Map<String, AtomicInteger> reported = whileAnotherItemsReportIsHeld(second -> future.set(second.flushAsync()));
        AtomicInteger secondReportsAtCompletion = new AtomicInteger(-1);
        // Waited for through the dependent: get() on the future itself may return before the
        // completing thread has run the action (its waiter is the newer dependent, woken first).
        future.get().whenComplete((v, e) -> secondReportsAtCompletion.set(count(reported, "dies/second")))
                .get(30, TimeUnit.SECONDS);
        assertThat(secondReportsAtCompletion).as("completed after the second item's report").hasValue(1);
    }

    /*
     * The same for cancel(), which never blocks either: it found the second item PENDING with
     * its timer gone ("in transit") and spun until the destroy reached it. Fails on that code
     * as above.
     */
    @Test
    @DisplayName("cancel() of an item a destroy has yet to report does not wait for the report of another item before it")
    void cancelDoesNotWaitForAnotherItemsReport() throws Exception {
        AtomicReference<Boolean> cancelled = new AtomicReference<>();
        whileAnotherItemsReportIsHeld(second -> cancelled.set(second.cancel()));
        assertThat(cancelled.get()).as("nothing pending to cancel: the destroy took it back").isFalse();
    }

    /**
     * Arms "first" and "second" on queue "dies", destroys it on another thread with the report
     * of "first" held, and runs {@code call} on "second" on a thread "f", which must return
     * within 10 s while that report is still held. Returns the reports counted per queue/item
     * (all delivered by then).
     */
    private static Map<String, AtomicInteger> whileAnotherItemsReportIsHeld(java.util.function.Consumer<DelayedWork> call)
            throws Exception {
        Map<String, CountDownLatch> entered = new ConcurrentHashMap<>();
        Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> reported = new ConcurrentHashMap<>();
        CountDownLatch firstEntered = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        entered.put("dies/first", firstEntered);
        gates.put("dies/first", releaseFirst);
        WorkQueues rt = runtimeHolding(entered, gates, reported, null);
        Thread destroyer = null;
        try {
            WorkQueue dies = rt.queueBuilder("dies").build();
            DelayedWork first = new DelayedWork("first", () -> { });
            DelayedWork second = new DelayedWork("second", () -> { });
            assertThat(dies.queueDelayed(first, Duration.ofHours(1))).isTrue();
            assertThat(dies.queueDelayed(second, Duration.ofHours(2))).isTrue(); // later: reported second
            destroyer = new Thread(dies::destroy, "destroyer");
            destroyer.start();
            WorkQueueCoreTest.await(firstEntered); // both off the timer, first's report held
            Thread f = new Thread(() -> call.accept(second), "f");
            f.start();
            f.join(TimeUnit.SECONDS.toMillis(10));
            boolean blocked = f.isAlive();
            releaseFirst.countDown(); // let it end either way
            f.join();
            assertThat(blocked).as("the call returned while another item's report is held").isFalse();
            destroyer.join();
            return reported;
        } finally {
            releaseFirst.countDown();
            if (destroyer != null) {
                destroyer.join();
            }
            rt.close();
        }
    }

    /*
     * The timer thread pops the item, its queue is destroyed before the insert, and the timer
     * thread reports the refused expiry (held). The item is queued again on a live queue
     * (pending there behind a blocker). flushAsync() asked the timer to fire the pending item
     * (TimerQueue.fireNow), which waited for the timer thread's mark, that is for the whole
     * report: the non-blocking call blocked. Fails on that code with the caller still alive
     * after 10 s.
     */
    @Test
    @DisplayName("flushAsync() does not wait for the timer thread's report of a refused expiry")
    void asyncFlushDoesNotWaitForTheTimerThreadsReport() throws Exception {
        AtomicReference<CompletableFuture<Boolean>> future = new AtomicReference<>();
        whileTheTimerThreadsReportIsHeld(dw -> future.set(dw.flushAsync()), (runs, reports, releaseBlocker) -> {
            AtomicInteger runsAtCompletion = new AtomicInteger(-1);
            CompletableFuture<Boolean> observed = future.get().whenComplete((v, e) -> runsAtCompletion.set(runs.get()));
            releaseBlocker.countDown();
            assertThat(observed.get(30, TimeUnit.SECONDS)).isTrue(); // the dependent: completed after the action ran
            assertThat(runsAtCompletion).as("completed after the instance queued on lives ran").hasValue(1);
            assertThat(reports.getAsInt()).isEqualTo(1);
        });
    }

    /* The same wait ignored flush(Duration)'s deadline. Fails on that code as above. */
    @Test
    @DisplayName("flush(Duration) keeps its deadline while the timer thread reports a refused expiry")
    void timedFlushKeepsItsDeadlineWhileTheTimerThreadReports() throws Exception {
        AtomicReference<Object> result = new AtomicReference<>();
        whileTheTimerThreadsReportIsHeld(dw -> {
            try {
                result.set(dw.flush(Duration.ofMillis(100)));
            } catch (InterruptedException e) {
                result.set(e);
            }
        }, (runs, reports, releaseBlocker) -> assertThat(result.get()).as("timed out").isEqualTo(Boolean.FALSE));
    }

    /* And flushInterruptibly()'s interrupt. Fails on that code as above. */
    @Test
    @DisplayName("flushInterruptibly() is interruptible while the timer thread reports a refused expiry")
    void interruptibleFlushIsInterruptibleWhileTheTimerThreadReports() throws Exception {
        AtomicReference<Object> result = new AtomicReference<>();
        whileTheTimerThreadsReportIsHeld(dw -> {
            Thread.currentThread().interrupt(); // pending before the call: the wait must end at once
            try {
                result.set(dw.flushInterruptibly());
            } catch (InterruptedException e) {
                result.set(e);
            }
        }, (runs, reports, releaseBlocker) -> assertThat(result.get()).isInstanceOf(InterruptedException.class));
    }

    interface AfterTimerReport {
        void check(AtomicInteger runs, java.util.function.IntSupplier reports, CountDownLatch releaseBlocker) throws Exception;
    }

    /**
     * Holds the timer thread's report of a refused expiry of "dw" (its queue "dies" destroyed
     * between the pop and the insert), queues dw again on the ordered queue "lives" behind a
     * blocker, and runs {@code call} on a thread "f", which must return within 10 s while that
     * report is still held; then releases the report and runs {@code after} (the blocker is
     * still held).
     */
    private static void whileTheTimerThreadsReportIsHeld(java.util.function.Consumer<DelayedWork> call, AfterTimerReport after)
            throws Exception {
        Map<String, CountDownLatch> entered = new ConcurrentHashMap<>();
        Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> reported = new ConcurrentHashMap<>();
        CountDownLatch reportEntered = new CountDownLatch(1);
        CountDownLatch releaseReport = new CountDownLatch(1);
        entered.put("dies/dw", reportEntered);
        gates.put("dies/dw", releaseReport);
        WorkQueues rt = runtimeHolding(entered, gates, reported, null);
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        try {
            WorkQueue dies = rt.queueBuilder("dies").build();
            WorkQueue lives = rt.queueBuilder("lives").ordered().build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
            CountDownLatch popped = new CountDownLatch(1);
            CountDownLatch destroyed = new CountDownLatch(1);
            TestHooks.install((point, subject) -> {
                if (subject == dw.node && point.equals("timer.fire") && popped.getCount() == 1) {
                    popped.countDown(); // off the timer, not yet on its queue
                    WorkQueueCoreTest.await(destroyed);
                } else if (point.equals("timer.awaitTransit")) {
                    destroyed.countDown(); // the destroy began: the insert is refused, released, reported (held)
                }
            });
            assertThat(dies.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
            WorkQueueCoreTest.await(popped);
            // Nothing armed for it any more: the timer thread holds the instance, and the destroy
            // waits for it to be released (ExpiryInTransitTest), not for its report.
            Thread destroyer = new Thread(dies::destroy, "destroyer");
            destroyer.start();
            destroyer.join();
            WorkQueueCoreTest.await(reportEntered);
            assertThat(lives.queue(new Work("blocker", () -> WorkQueueCoreTest.await(releaseBlocker)))).isTrue();
            assertThat(lives.queue(dw)).isTrue(); // pending on lives, behind the blocker
            Thread f = new Thread(() -> call.accept(dw), "f");
            f.start();
            f.join(TimeUnit.SECONDS.toMillis(10));
            boolean blocked = f.isAlive();
            releaseReport.countDown(); // let it end either way
            f.join();
            assertThat(blocked).as("the call returned while the timer thread's report is held").isFalse();
            after.check(runs, () -> count(reported, "dies/dw"), releaseBlocker);
        } finally {
            releaseReport.countDown();
            releaseBlocker.countDown();
            rt.close();
        }
    }

    /*
     * Two overlapping reports of one item: I1 (queue "one", destroyed on thread d1) and I2
     * (re-armed on queue "two" once d1 released it, destroyed on d2). d1's handler, told about
     * I1, calls flushAsync() while I2's report is held, then I2's report ends. The blocking
     * flush() from the same place returns then (its own report is not waited for); the future
     * was completed only by the handler's own report ending, so a handler that waited for it
     * waited for itself. Fails on that code with the handler's get timing out.
     */
    @Test
    @DisplayName("flushAsync() from a handler completes once the other report of the item has ended, not only after its own")
    void asyncFlushFromAReporterDoesNotWaitForItsOwnReport() throws Exception {
        CountDownLatch releaseTwo = new CountDownLatch(1);
        AtomicReference<Object> outcome = new AtomicReference<>();
        AtomicInteger twoReportsAtCompletion = new AtomicInteger(-1);
        Map<String, AtomicInteger> reported = new ConcurrentHashMap<>();
        CountDownLatch twoEntered = new CountDownLatch(1);
        UncaughtWorkHandler inside = (queue, work, e) -> {
            if (!queue.name().equals("one")) {
                return;
            }
            WorkQueueCoreTest.await(twoEntered); // I2's report is under way on d2
            // the dependent: its get() returns only after the action ran
            CompletableFuture<Boolean> f = ((DelayedWork) work).flushAsync()
                    .whenComplete((v, x) -> twoReportsAtCompletion.set(count(reported, "two/dw")));
            releaseTwo.countDown(); // I2's report ends; this one's does not until we return
            try {
                outcome.set(f.get(30, TimeUnit.SECONDS));
            } catch (Exception x) {
                outcome.set(x);
            }
        };
        withOverlappingReports(new CountDownLatch(0), releaseTwo, twoEntered, reported, inside, (dw, d1) -> {
            d1.join();
            assertThat(outcome.get()).as("the handler's flushAsync() completed").isEqualTo(Boolean.FALSE);
            assertThat(twoReportsAtCompletion).as("after the other report").hasValue(1);
        });
    }

    /*
     * Guard: many flushAsync() calls from several threads at once register on the item while two
     * reports of it overlap. The end of the first report completes none of them; the end of the
     * second completes every one, after it. It would fail if a registration racing another (or a
     * removal) lost an action (a future never completes: seen with a registration that
     * overwrote the list instead of CAS), or if an action completed at the first report's end.
     */
    @Test
    @DisplayName("flushAsync() calls registered concurrently during two overlapping reports all complete after both, none before")
    void concurrentAsyncFlushesDuringOverlappingReportsCompleteAfterBoth() throws Exception {
        CountDownLatch releaseOne = new CountDownLatch(1);
        CountDownLatch releaseTwo = new CountDownLatch(1);
        Map<String, AtomicInteger> reported = new ConcurrentHashMap<>();
        withOverlappingReports(releaseOne, releaseTwo, new CountDownLatch(1), reported, null, (dw, d1) -> {
            int threads = 6;
            int each = 200;
            List<CompletableFuture<Boolean>> futures = new CopyOnWriteArrayList<>();
            AtomicInteger early = new AtomicInteger();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread c = new Thread(() -> {
                    WorkQueueCoreTest.await(start);
                    for (int i = 0; i < each; i++) {
                        // the dependents are collected: each is done only once its action has run
                        futures.add(dw.flushAsync().whenComplete((v, e) -> {
                            if (count(reported, "one/dw") + count(reported, "two/dw") < 2) {
                                early.incrementAndGet();
                            }
                        }));
                    }
                }, "caller-" + t);
                callers.add(c);
                c.start();
            }
            start.countDown();
            releaseOne.countDown(); // the first report ends while the registrations race
            for (Thread c : callers) {
                c.join();
            }
            d1.join(); // its mark is gone
            assertThat(futures).hasSize(threads * each);
            assertThat(futures.stream().filter(CompletableFuture::isDone).count())
                    .as("none completed while the second report is held").isZero();
            releaseTwo.countDown();
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            assertThat(early).as("completed before both reports").hasValue(0);
        });
    }

    interface OverlapBody {
        void run(DelayedWork dw, Thread d1) throws Exception;
    }

    /**
     * Two overlapping reports of one item "dw": I1 armed on queue "one", destroyed on thread d1;
     * once d1 released it, I2 armed on queue "two", destroyed on d2. Each report is held until its
     * gate opens ({@code inside} runs first in the handler); {@code body} runs once both are
     * under way. Reports are counted in {@code reported} by "queue/item".
     */
    private static void withOverlappingReports(CountDownLatch releaseOne, CountDownLatch releaseTwo, CountDownLatch twoEntered,
                                               Map<String, AtomicInteger> reported, UncaughtWorkHandler inside, OverlapBody body)
            throws Exception {
        Map<String, CountDownLatch> entered = new ConcurrentHashMap<>();
        Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
        CountDownLatch oneEntered = new CountDownLatch(1);
        entered.put("one/dw", oneEntered);
        entered.put("two/dw", twoEntered);
        gates.put("one/dw", releaseOne);
        gates.put("two/dw", releaseTwo);
        WorkQueues rt = runtimeHolding(entered, gates, reported, inside);
        Thread d1 = null;
        Thread d2 = null;
        try {
            WorkQueue one = rt.queueBuilder("one").build();
            WorkQueue two = rt.queueBuilder("two").build();
            DelayedWork dw = new DelayedWork("dw", () -> { });
            assertThat(one.queueDelayed(dw, Duration.ofHours(1))).isTrue(); // I1
            d1 = new Thread(one::destroy, "d1");
            d1.start();
            WorkQueueCoreTest.await(oneEntered); // I1 released, reported on d1
            assertThat(two.queueDelayed(dw, Duration.ofHours(1))).isTrue(); // I2
            d2 = new Thread(two::destroy, "d2");
            d2.start();
            WorkQueueCoreTest.await(twoEntered); // both reports under way
            body.run(dw, d1);
        } finally {
            releaseOne.countDown();
            releaseTwo.countDown();
            if (d1 != null) {
                d1.join();
            }
            if (d2 != null) {
                d2.join();
            }
            rt.close();
        }
    }

    private static int count(Map<String, AtomicInteger> reported, String key) {
        AtomicInteger n = reported.get(key);
        return n == null ? 0 : n.get();
    }
}
