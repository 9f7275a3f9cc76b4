package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the hung-waiter detector's per-thread, per-runtime wait records (reused from wait
 * to wait, a sequence lock read by the monitor, only the outermost wait recorded): each hung
 * wait is reported once, by the runtime it waits on, naming what it waits for.
 */
class HungWaitsAttackTest {
    private static TestRuntime runtime() {
        return new TestRuntime(2, b -> b.watchdogThreshold(Duration.ofSeconds(1)).closeTimeout(Duration.ofSeconds(30)));
    }

    private static void awaitReports(List<String> reports, String needle, int n) {
        Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S))
                .until(() -> reports.stream().filter(r -> r.contains(needle)).count() >= n);
    }

    private static long count(List<String> reports, String needle) {
        return reports.stream().filter(r -> r.contains(needle)).count();
    }

    /**
     * Attack: one runtime's worker waits on another runtime (an item of A flushing a queue of B
     * whose item is held), while a thread waits on A for that item; then one thread hangs on B,
     * then on A. Each runtime must report the waits on it, each once, naming its own queue and
     * blocking item; a record of one runtime must never be taken for the other's. Held (passed
     * before).
     */
    @Test
    void waitsOfOneThreadOnTwoRuntimesAreReportedEachByItsOwn() throws Exception {
        try (TestRuntime a = runtime(); TestRuntime b = runtime()) {
            WorkQueue qa = a.queue("qa").build();
            WorkQueue qb = b.queue("qb").build();
            CountDownLatch releaseB = new CountDownLatch(1);
            qb.queue(new Work("holdB", () -> LifecycleTest.await(releaseB)));
            qa.queue(new Work("bridge", qb::flush));
            Thread main = new Thread(qa::flush, "waits-on-a");
            main.start();
            awaitReports(b.reports, "in flush_workqueue(queue 'qb')", 1);
            awaitReports(a.reports, "'waits-on-a' blocked", 1);
            releaseB.countDown();
            LifecycleTest.join(main);

            CountDownLatch releaseB2 = new CountDownLatch(1);
            CountDownLatch releaseA2 = new CountDownLatch(1);
            CountDownLatch firstDone = new CountDownLatch(1);
            qb.queue(new Work("holdB2", () -> LifecycleTest.await(releaseB2)));
            qa.queue(new Work("holdA2", () -> LifecycleTest.await(releaseA2)));
            Thread both = new Thread(() -> {
                qb.flush();
                firstDone.countDown();
                qa.flush();
            }, "both");
            both.start();
            awaitReports(b.reports, "'both' blocked", 1);
            releaseB2.countDown();
            LifecycleTest.await(firstDone);
            awaitReports(a.reports, "'both' blocked", 1);
            releaseA2.countDown();
            LifecycleTest.join(both);

            assertThat(a.reports).filteredOn(r -> r.contains("blocked for more than"))
                    .noneMatch(r -> r.contains("queue 'qb'"))
                    .anySatisfy(r -> assertThat(r).contains("'waits-on-a'").contains("flush_workqueue(queue 'qa')")
                            .contains("'bridge'"))
                    .anySatisfy(r -> assertThat(r).contains("'both'").contains("flush_workqueue(queue 'qa')")
                            .contains("'holdA2'"));
            assertThat(b.reports).filteredOn(r -> r.contains("blocked for more than"))
                    .noneMatch(r -> r.contains("queue 'qa'"))
                    .anySatisfy(r -> assertThat(r).contains("flush_workqueue(queue 'qb')").contains("'holdB'"))
                    .anySatisfy(r -> assertThat(r).contains("'both'").contains("flush_workqueue(queue 'qb')")
                            .contains("'holdB2'"));
            assertThat(count(a.reports, "'both' blocked")).as("the second wait reported once by A").isEqualTo(1);
            assertThat(count(b.reports, "'both' blocked")).as("the first wait reported once by B").isEqualTo(1);
            assertThat(count(a.reports, "'waits-on-a' blocked")).isEqualTo(1);
            assertThat(count(b.reports, "in flush_workqueue(queue 'qb')")).isEqualTo(2);
        }
    }

    /**
     * Attack: nested waits. close() destroys a queue whose item is held (close → destroy →
     * drain → flush on one thread): the hang is reported once, as the outermost wait (close),
     * never as the inner ones; and the closing thread's record is free again afterwards (a
     * later hung wait of the same thread on another runtime is reported). Held (passed before).
     */
    @Test
    void aNestedWaitIsReportedOnceAsTheOutermost() throws Exception {
        TestRuntime t = runtime();
        try (TestRuntime other = runtime()) {
            WorkQueue q = t.queue("nested").build();
            CountDownLatch release = new CountDownLatch(1);
            q.queue(new Work("held", () -> LifecycleTest.await(release)));
            WorkQueue q2 = other.queue("later").build();
            CountDownLatch release2 = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            Thread closer = new Thread(() -> {
                t.close();
                closed.countDown();
                q2.flush();
            }, "closer");
            q2.queue(new Work("held2", () -> LifecycleTest.await(release2)));
            closer.start();
            awaitReports(t.reports, "'closer' blocked", 1);
            release.countDown();
            LifecycleTest.await(closed);
            awaitReports(other.reports, "'closer' blocked", 1);
            release2.countDown();
            LifecycleTest.join(closer);
            assertThat(t.reports).filteredOn(r -> r.contains("'closer' blocked")).singleElement()
                    .satisfies(r -> assertThat(r).contains("in close(runtime)").contains("'held'"));
            assertThat(other.reports).filteredOn(r -> r.contains("'closer' blocked")).singleElement()
                    .satisfies(r -> assertThat(r).contains("in flush_workqueue(queue 'later')").contains("'held2'"));
        }
    }
}
