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
}
