package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** LazyQueueHolder's two strategies (the seed thread's report is reproduced by examples/' SeedScenarioTest). */
class LazyQueueHolderTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    @ParameterizedTest
    @EnumSource(LazyQueueHolder.Strategy.class)
    void everyCallerGetsTheSameQueueAndExactlyOneSurvives(LazyQueueHolder.Strategy s) throws Exception {
        LazyQueueHolder h = new LazyQueueHolder(s, () -> t.queue("lazy").build());
        AtomicReference<WorkQueue> a = new AtomicReference<>();
        CyclicBarrier start = new CyclicBarrier(2);
        Thread other = new Thread(() -> {
            meet(start);
            a.set(h.get());
        });
        other.start();
        meet(start);
        WorkQueue mine = h.get();
        other.join();

        assertThat(a.get()).isSameAs(mine);
        assertThat(mine.isDestroyed()).isFalse();
        assertThat(h.created() - h.discarded()).isEqualTo(1);
        assertThat(t.rt.queues().stream().filter(q -> q.name().equals("lazy"))).hasSize(1);
    }

    @Test
    void mutexStrategyNeverAllocatesTwice() throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        LazyQueueHolder h = new LazyQueueHolder(LazyQueueHolder.Strategy.MUTEX, () -> t.queue("m").build());
        Thread other = new Thread(() -> {
            meet(start);
            h.get();
        });
        other.start();
        meet(start);
        h.get();
        other.join();
        assertThat(h.created()).isEqualTo(1);
        assertThat(h.discarded()).isZero();
    }

    @Test
    void casDiscardLoserDestroysExactlyItsOwnQueue() throws Exception {
        CyclicBarrier bothAllocating = new CyclicBarrier(2);
        LazyQueueHolder h = new LazyQueueHolder(LazyQueueHolder.Strategy.CAS_DISCARD, () -> {
            WorkQueue q = t.queue("c").build();
            meet(bothAllocating);
            return q;
        });
        AtomicReference<WorkQueue> other = new AtomicReference<>();
        Thread th = new Thread(() -> other.set(h.get()));
        th.start();
        WorkQueue mine = h.get();
        th.join();

        assertThat(h.created()).isEqualTo(2);
        assertThat(h.discarded()).isEqualTo(1);
        assertThat(mine).isSameAs(other.get()).isSameAs(h.peek());
        assertThat(mine.isDestroyed()).isFalse();
        assertThat(t.rt.queues().stream().filter(q -> q.name().equals("c"))).hasSize(1);
    }

    /**
     * A factory that hands out a queue it did not make (a shared queue, a system queue): under
     * CAS_DISCARD both racers get the same instance, so the loser's "own" queue is the winner's.
     * It must not be destroyed (a shared queue would be dead for every user; a system queue's
     * destroy throws, failing the loser's get()).
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void casDiscardNeverDestroysTheQueueItPublished(boolean system) throws Exception {
        WorkQueue shared = system ? t.rt.system() : t.queue("shared").build();
        CyclicBarrier bothAllocating = new CyclicBarrier(2);
        LazyQueueHolder h = new LazyQueueHolder(LazyQueueHolder.Strategy.CAS_DISCARD, () -> {
            meet(bothAllocating);
            return shared;
        });
        AtomicReference<Object> other = new AtomicReference<>();
        Thread th = new Thread(() -> {
            try {
                other.set(h.get());
            } catch (RuntimeException | Error e) {
                other.set(e);
            }
        });
        th.start();
        Object mine;
        try {
            mine = h.get();
        } catch (RuntimeException | Error e) {
            mine = e;
        }
        th.join();

        assertThat(mine).as("this caller's get()").isSameAs(shared);
        assertThat(other.get()).as("the other caller's get()").isSameAs(shared);
        assertThat(shared.isDestroyed()).as("the published queue").isFalse();
        assertThat(h.discarded()).as("nothing was discarded: both got the one queue").isZero();
        assertThat(h.created()).as("factory calls").isEqualTo(2);
    }

    /**
     * A destroy() while the first get() is still making the queue: the destroy finds no queue
     * and returns; the get() then finds the holder destroyed, destroys the queue it made and
     * throws, and no later get() makes one. Before (README faults table): the get() returned a
     * live queue after the holder's destroy() had returned, and a later get() made a new one.
     */
    @ParameterizedTest
    @EnumSource(LazyQueueHolder.Strategy.class)
    void aDestroyRacingTheFirstGetLeavesNoLiveQueue(LazyQueueHolder.Strategy s) throws Exception {
        java.util.concurrent.CountDownLatch inFactory = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch made = new java.util.concurrent.CountDownLatch(1);
        AtomicReference<WorkQueue> built = new AtomicReference<>();
        LazyQueueHolder h = new LazyQueueHolder(s, () -> {
            WorkQueue q = t.queue("lazy-raced").build();
            built.set(q);
            inFactory.countDown();
            WorkQueueCoreTest.await(made);
            return q;
        });
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread first = new Thread(() -> {
            try {
                outcome.set(h.get());
            } catch (RuntimeException e) {
                outcome.set(e);
            }
        });
        first.start();
        WorkQueueCoreTest.await(inFactory);
        h.destroy(); // nothing published yet
        made.countDown();
        first.join();

        assertThat(outcome.get()).isInstanceOf(IllegalStateException.class)
                .extracting(o -> ((Exception) o).getMessage()).asString().contains("destroyed");
        assertThat(built.get().isDestroyed()).as("the queue the raced get() made").isTrue();
        assertThat(h.peek()).isSameAs(built.get());
        assertThat(h.get()).as("a later get() returns the destroyed queue, makes none").isSameAs(built.get());
        assertThat(h.created()).isEqualTo(1);
    }

    /** A get() after destroy() of a holder that never made its queue refuses, naming the holder's state. */
    @ParameterizedTest
    @EnumSource(LazyQueueHolder.Strategy.class)
    void aGetAfterDestroyMakesNoQueue(LazyQueueHolder.Strategy s) {
        LazyQueueHolder h = new LazyQueueHolder(s, () -> t.queue("lazy-late").build());
        h.destroy();
        org.assertj.core.api.Assertions.assertThatThrownBy(h::get).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("destroyed");
        assertThat(h.created()).isZero();
    }

    static void meet(CyclicBarrier b) {
        try {
            b.await();
        } catch (InterruptedException | BrokenBarrierException e) {
            throw new AssertionError(e);
        }
    }
}
