package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The process-wide runtime: one per process while open, a new one after it was closed. */
class GlobalRuntimeTest {

    private static void awaitBarrier(CyclicBarrier b) {
        try {
            b.await(LifecycleTest.BOUND_S, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("barrier not reached", e);
        }
    }

    @Test
    void racingFirstUsersShareOneGlobalRuntimeAndAClosedOneIsReplaced() throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        AtomicReference<WorkQueues> other = new AtomicReference<>();
        Thread racer = new Thread(() -> {
            awaitBarrier(start);
            other.set(WorkQueues.global());
        }, "racer");
        racer.start();
        awaitBarrier(start);
        WorkQueues mine = WorkQueues.global();
        LifecycleTest.join(racer);
        assertThat(other.get()).as("both first users get the one published runtime").isSameAs(mine);
        assertThat(WorkQueues.global()).isSameAs(mine);

        WorkQueue q = mine.system();
        AtomicReference<String> ran = new AtomicReference<>();
        q.queue(new Work("on-global", () -> ran.set(Thread.currentThread().getName())));
        q.flush();
        assertThat(ran.get()).startsWith("wq-global/kworker/");

        mine.close();
        WorkQueues next = WorkQueues.global();
        try {
            assertThat(next).as("a closed global runtime is replaced on the next use").isNotSameAs(mine);
            assertThat(next.isClosed()).isFalse();
            assertThat(mine.isClosed()).isTrue();
        } finally {
            next.close();
        }
    }
}
