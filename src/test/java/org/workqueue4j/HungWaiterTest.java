package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.workqueue4j.LifecycleTest.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 defect 8: flush cycles hung silently with lockdep off. Every wait longer than the
 * watchdog threshold is reported with what it waits for and the items blocking it. The items
 * use the interruptible flushes so that close() (1 s timeout) can end them.
 */
class HungWaiterTest {
    private static TestRuntime runtime() {
        return new TestRuntime(2, b -> b.watchdogThreshold(Duration.ofSeconds(1)).closeTimeout(Duration.ofSeconds(1)));
    }

    private static void flushQuietly(WorkQueue q) {
        try {
            q.flushInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void twoItemsFlushingEachOthersQueuesAreReported() {
        try (TestRuntime t = runtime()) {
            WorkQueue a = t.queue("qa").build();
            WorkQueue b = t.queue("qb").build();
            CountDownLatch started = new CountDownLatch(2);
            CountDownLatch go = new CountDownLatch(1);
            a.queueOn(0, new Work("a-item", () -> {
                started.countDown();
                await(go);
                flushQuietly(b);
            }));
            b.queueOn(1, new Work("b-item", () -> {
                started.countDown();
                await(go);
                flushQuietly(a);
            }));
            await(started);
            go.countDown();
            Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() ->
                    t.reports.stream().filter(r -> r.contains("blocked for more than")).count() >= 2);
            assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("in flush_workqueue(queue 'qb')")
                    .contains("'b-item' of queue 'qb' on wq-").contains("HungWaiterTest"));
            assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("in flush_workqueue(queue 'qa')")
                    .contains("'a-item' of queue 'qa' on wq-"));
        }
    }

    @Test
    void anOrderedItemFlushingALaterSiblingIsReported() {
        try (TestRuntime t = runtime()) {
            WorkQueue o = t.queue("ord").ordered().build();
            Work later = new Work("later", () -> { });
            CountDownLatch go = new CountDownLatch(1);
            o.queue(new Work("earlier", () -> {
                await(go);
                try {
                    later.flushInterruptibly();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            o.queue(later);
            go.countDown();
            Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() ->
                    t.reports.stream().anyMatch(r -> r.contains("blocked for more than")));
            assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("in flush_work(work 'later')")
                    .contains("HungWaiterTest"));
        }
    }

    /**
     * One thread's wait record is reused from wait to wait (a flush allocates nothing for the
     * detector): many short flushes are never reported, and each of two later hung waits of the
     * same thread is reported once, with what that wait was for.
     */
    @Test
    void aThreadsSecondHungWaitIsReportedWithItsOwnTarget() throws Exception {
        try (TestRuntime t = runtime()) {
            WorkQueue q = t.queue("reused").build();
            for (int i = 0; i < 1000; i++) {
                q.queue(new Work("short-" + i, () -> { }));
                q.flush();
            }
            CountDownLatch release1 = new CountDownLatch(1);
            q.queueOn(0, new Work("hold-1", () -> await(release1)));
            Thread waiter = new Thread(() -> {
                q.flush();
                Work x = new Work("hold-2", () -> { });
                x.flush(); // idle item: returns at once, a nested-free wait between the two hangs
            }, "reusing-waiter");
            waiter.start();
            Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() ->
                    t.reports.stream().anyMatch(r -> r.contains("'reusing-waiter' blocked")));
            release1.countDown();
            LifecycleTest.join(waiter);
            CountDownLatch release2 = new CountDownLatch(1);
            Work held = new Work("hold-3", () -> await(release2));
            q.queueOn(1, held);
            Thread second = new Thread(() -> {
                try {
                    held.flushInterruptibly();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "reusing-waiter");
            second.start();
            Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() ->
                    t.reports.stream().filter(r -> r.contains("'reusing-waiter' blocked")).count() >= 2);
            release2.countDown();
            LifecycleTest.join(second);
            assertThat(t.reports).filteredOn(r -> r.contains("blocked for more than"))
                    .noneMatch(r -> r.contains("short-"))
                    .anySatisfy(r -> assertThat(r).contains("in flush_workqueue(queue 'reused')").contains("'hold-1'"))
                    .anySatisfy(r -> assertThat(r).contains("in flush_work(work 'hold-3')"));
            assertThat(t.reports).filteredOn(r -> r.contains("in flush_workqueue(queue 'reused')")).hasSize(1);
        }
    }

    /** The same thread hung twice in a row on one record: each wait is reported, once. */
    @Test
    void oneThreadHungTwiceIsReportedTwice() throws Exception {
        try (TestRuntime t = runtime()) {
            WorkQueue q = t.queue("twice").build();
            CountDownLatch[] release = {new CountDownLatch(1), new CountDownLatch(1)};
            CountDownLatch firstDone = new CountDownLatch(1);
            CountDownLatch secondQueued = new CountDownLatch(1);
            q.queueOn(0, new Work("h0", () -> await(release[0])));
            Thread w = new Thread(() -> {
                q.flush();
                firstDone.countDown();
                await(secondQueued);
                q.flush();
            }, "twice-waiter");
            w.start();
            Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() ->
                    t.reports.stream().filter(r -> r.contains("'twice-waiter' blocked")).count() == 1);
            release[0].countDown();
            await(firstDone);
            q.queueOn(0, new Work("h1", () -> await(release[1])));
            secondQueued.countDown();
            Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() ->
                    t.reports.stream().filter(r -> r.contains("'twice-waiter' blocked")).count() == 2);
            release[1].countDown();
            LifecycleTest.join(w);
            assertThat(t.reports).filteredOn(r -> r.contains("'twice-waiter' blocked"))
                    .anySatisfy(r -> assertThat(r).contains("'h0'"))
                    .anySatisfy(r -> assertThat(r).contains("'h1'"));
        }
    }
    /*
     * A destroy waiting for an expiry another thread has off the timer (held here at the test
     * point timer.fire; in life, a firer running a user's thread factory) and a cancelSync
     * waiting for the report of a refused expiry (the handler held) are reported as hung waits.
     */
    @Test
    void aDestroyWaitingForAnExpiryInTransitIsReported() throws Exception {
        CountDownLatch inTransit = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        org.workqueue4j.internal.TestHooks.install((point, subject) -> {
            if (point.equals("timer.fire") && Thread.currentThread().getName().contains("timer")) {
                inTransit.countDown();
                await(release);
            }
        });
        try (TestRuntime t = runtime()) {
            WorkQueue q = t.queue("transit").build();
            assertThat(q.queueDelayed(new DelayedWork("d", () -> { }), Duration.ofMillis(1))).isTrue();
            await(inTransit);
            Thread destroyer = new Thread(q::destroy, "destroyer");
            destroyer.start();
            try {
                Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() ->
                        t.reports.stream().anyMatch(r -> r.contains("blocked for more than")));
                assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("in destroy_workqueue(queue 'transit')")
                        .contains("destroyer"));
            } finally {
                release.countDown();
                destroyer.join(LifecycleTest.BOUND_S * 1000);
            }
        } finally {
            org.workqueue4j.internal.TestHooks.install(null);
        }
    }

    @Test
    void aCancelSyncWaitingForTheReportOfARefusedExpiryIsReported() throws Exception {
        CountDownLatch reporting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        java.util.List<String> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).watchdogThreshold(Duration.ofSeconds(1))
                .closeTimeout(Duration.ofSeconds(1)).reportListener(reports::add).uncaughtWorkHandler((q, w, e) -> {
                    reporting.countDown(); // TestRuntime's handler would replace this one
                    await(release);
                }).build())) {
            WorkQueue q = rt.queueBuilder("dies").build();
            DelayedWork d = new DelayedWork("d", () -> { });
            CountDownLatch inTransit = new CountDownLatch(1);
            CountDownLatch goOn = new CountDownLatch(1);
            org.workqueue4j.internal.TestHooks.install((point, subject) -> {
                if (point.equals("timer.fire") && Thread.currentThread().getName().contains("timer")) {
                    inTransit.countDown();
                    await(goOn);
                } else if (point.equals("timer.awaitTransit")) {
                    goOn.countDown(); // the destroy began: the held expiry is refused and reported (held)
                }
            });
            assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
            await(inTransit);
            q.destroy();
            await(reporting);
            Thread canceller = new Thread(d::cancelSync, "canceller");
            canceller.start();
            try {
                Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() ->
                        reports.stream().anyMatch(r -> r.contains("blocked for more than")));
                assertThat(reports).anySatisfy(r -> assertThat(r).contains("in cancel_work_sync(work 'd')")
                        .contains("canceller"));
            } finally {
                release.countDown();
                canceller.join(LifecycleTest.BOUND_S * 1000);
            }
        } finally {
            org.workqueue4j.internal.TestHooks.install(null);
        }
    }
}
