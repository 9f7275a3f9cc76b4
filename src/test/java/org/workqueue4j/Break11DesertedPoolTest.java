package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * close() past its timeout: an accepted item that reaches (or is left in) a stopped pool with no
 * worker left is reported as never run, to the uncaught-work handler, with its PENDING released
 * and its flushes ended; before, it was neither run nor reported, stayed pending for good, and
 * every flush of it waited for ever. Three ways to a pool with no worker: the worker cap held
 * the item back, the pool's first worker was still being made when close() stopped the pool,
 * chained work queued after close() returned onto a pool that never had a worker.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break11DesertedPoolTest {
    /** What the uncaught-work handler was told: the item's name and the error. */
    private record Reported(String work, Throwable error) {
    }

    private final List<Reported> reported = new CopyOnWriteArrayList<>();
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final CountDownLatch releaseBlocker = new CountDownLatch(1);

    @AfterEach
    void cleanUp() {
        TestHooks.install(null);
        releaseBlocker.countDown();
    }

    private WorkQueues runtime(WorkQueuesConfig.Builder b) {
        return WorkQueues.create(b.closeTimeout(Duration.ofMillis(300)).reportListener(reports::add)
                .uncaughtWorkHandler((queue, work, error) -> reported.add(new Reported(work == null ? null : work.name(), error)))
                .build());
    }

    /** An item that outlasts any close timeout: it keeps waiting through close()'s interrupt. */
    private Work blocker(CountDownLatch started, Runnable thenRun) {
        return new Work("blocker-" + started.getCount(), () -> {
            started.countDown();
            boolean done = false;
            while (!done) {
                try {
                    done = releaseBlocker.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    // close()'s timeout interrupts it: it goes on waiting
                }
            }
            thenRun.run();
        });
    }

    private void assertReportedNeverRuns(Work item, AtomicInteger ran) throws InterruptedException {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reported)
                .as("the handler told that '%s' never runs (reports: %s)", item.name(), reports)
                .anySatisfy(r -> {
                    assertThat(r.work()).isEqualTo(item.name());
                    assertThat(r.error()).isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("'" + item.name() + "'").hasMessageContaining("never runs");
                }));
        assertThat(item.isPending()).as("'%s' is released, not left pending", item.name()).isFalse();
        assertThat(item.flush(Duration.ofSeconds(30))).as("a flush of '%s' returns", item.name()).isTrue();
        assertThat(ran).as("'%s' did not run", item.name()).hasValue(0);
    }

    /** A runtime whose worker cap (2) two blockers use up, and its unbound queue, whose pool gets no worker. */
    private record CapHeld(WorkQueues rt, WorkQueue u, AtomicInteger capRefused) {
        /** Waits until the unbound pool's worker creation was refused at the cap, then closes (times out on the blockers). */
        void closeOnceRefused() {
            await().atMost(Duration.ofSeconds(30)).until(() -> capRefused.get() > 0);
            rt.close();
        }
    }

    private CapHeld capHeld(String name) throws InterruptedException {
        WorkQueues rt = runtime(WorkQueuesConfig.builder().name(name).cpus(1).maxWorkers(2));
        // CPU-intensive: each blocker has a worker of its own (neither counts as running), so
        // both slots of the cap are busy and no idle worker can be retired to make room
        WorkQueue q = rt.queueBuilder("q").cpuIntensive().build();
        WorkQueue u = rt.queueBuilder("u").unbound().build();
        AtomicInteger capRefused = new AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.capRefused") && subject.toString().contains("flags=0x4")) {
                capRefused.incrementAndGet(); // the unbound pool's creation refused at the cap
            }
        });
        CountDownLatch started = new CountDownLatch(2);
        assertThat(q.queueOn(0, blocker(started, () -> { }))).isTrue();
        assertThat(q.queueOn(0, blocker(started, () -> { }))).isTrue();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        return new CapHeld(rt, u, capRefused);
    }

    @Test
    void anItemTheWorkerCapHeldBackIsReportedWhenCloseGivesUp() throws Exception {
        CapHeld c = capHeld("cap-held");
        AtomicInteger ran = new AtomicInteger();
        Work item = new Work("held-back", ran::incrementAndGet);
        assertThat(c.u().queue(item)).isTrue();
        java.util.concurrent.Future<String> task = c.u().asExecutorService().submit(() -> "ran");
        c.closeOnceRefused();
        assertReportedNeverRuns(item, ran);
        assertThatThrownBy(() -> task.get(30, TimeUnit.SECONDS)).as("the executor view's task held back is failed")
                .isInstanceOf(java.util.concurrent.ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
    }

    /**
     * A task submitted through an ExecutorCompletionService over a view, that the cap held back:
     * once its future fails (never runs), the completion service receives it. Before (README
     * faults table): the view failed the future but never ran the completion service's wrapper.
     */
    @Test
    void aCompletionServiceIsToldOfATaskTheViewFailsAsNeverRun() throws Exception {
        CapHeld c = capHeld("ecs-never");
        java.util.concurrent.ExecutorCompletionService<String> ecs =
                new java.util.concurrent.ExecutorCompletionService<>(c.u().asExecutorService());
        java.util.concurrent.Future<String> task = ecs.submit(() -> "ran");
        c.closeOnceRefused();
        assertThatThrownBy(() -> task.get(30, TimeUnit.SECONDS)).isInstanceOf(java.util.concurrent.ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
        assertThat(ecs.poll(10, TimeUnit.SECONDS)).as("the completion service receives the failed future").isSameAs(task);
    }

    /**
     * invokeAny over the view, whose only task the cap held back: ExecutionException once the
     * task's future fails (never runs). Before (README faults table): it waited in the
     * completion service's take() for ever, although every future was done.
     */
    @Test
    void invokeAnyReturnsOnceEveryTaskIsFailedAsNeverRun() throws Exception {
        CapHeld c = capHeld("invokeany-never");
        java.util.concurrent.ExecutorService view = c.u().asExecutorService();
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                outcome.set(view.invokeAny(List.of(() -> "a")));
            } catch (Throwable e) {
                outcome.set(e);
            }
        }, "invokeAny-caller");
        caller.start();
        c.closeOnceRefused();
        caller.join(TimeUnit.SECONDS.toMillis(30));
        boolean hung = caller.isAlive();
        caller.interrupt(); // hang guard: let the thread go
        assertThat(hung).as("invokeAny still waiting although its only task's future is done (outcome %s)", outcome.get()).isFalse();
        assertThat(outcome.get()).isInstanceOf(java.util.concurrent.ExecutionException.class);
    }

    @Test
    void anItemWhosePoolsFirstWorkerWasStillBeingMadeIsReported() throws Exception {
        WorkQueues rt = runtime(WorkQueuesConfig.builder().name("in-creation").cpus(2));
        WorkQueue q = rt.queueBuilder("q").build();
        CountDownLatch creating = new CountDownLatch(1);
        // pool 0's first worker, made once close() has returned
        CountDownLatch closeReturned = Break11DesertedPoolReportsTest.holdFirstWorkerCreation(pool -> pool.startsWith("pool 0 "), creating);
        AtomicInteger ran = new AtomicInteger();
        Work item = new Work("first-in-pool", ran::incrementAndGet);
        assertThat(q.queueOn(0, item)).isTrue();
        assertThat(creating.await(30, TimeUnit.SECONDS)).isTrue();
        java.util.concurrent.CompletableFuture<Void> flushed = q.flushAsync(); // its barrier step waits in pool 0 too
        rt.close(); // times out: q cannot drain, its item has no worker
        closeReturned.countDown(); // the creation goes on, finds the pool stopped and gives the worker up
        assertReportedNeverRuns(item, ran);
        flushed.get(30, TimeUnit.SECONDS); // completes: the flush's round ends with the item's release
    }

    @Test
    void chainedWorkQueuedAfterCloseOntoAPoolWithNoWorkerIsReported() throws Exception {
        WorkQueues rt = runtime(WorkQueuesConfig.builder().name("chained").cpus(2));
        WorkQueue q = rt.queueBuilder("q").build();
        AtomicInteger ran = new AtomicInteger();
        Work chained = new Work("chained", ran::incrementAndGet);
        AtomicReference<Object> accepted = new AtomicReference<>();
        CountDownLatch queued = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        // pool 1 runs the blocker; pool 0 never had a worker
        assertThat(q.queueOn(1, blocker(started, () -> {
            try {
                accepted.set(q.queueOn(0, chained)); // after close() returned: chained work of a dying queue
            } catch (RuntimeException e) {
                accepted.set(e);
            }
            queued.countDown();
        }))).isTrue();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        rt.close(); // times out on the blocker
        releaseBlocker.countDown();
        assertThat(queued.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(accepted.get()).as("chained work of a dying queue is accepted").isEqualTo(Boolean.TRUE);
        assertReportedNeverRuns(chained, ran);
    }
}
