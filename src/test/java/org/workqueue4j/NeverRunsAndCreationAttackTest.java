package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.internal.WorkNode;

/**
 * Attacks on the scheduled view's "never runs" path (WorkNode.neverRuns: a destroy, a refused
 * expiry or an Error while firing tells the task that it will never run, and its future fails)
 * and on the worker creation's give-back of a claimed creation (WorkerPool.createWorker).
 * Every wait is bounded by {@link #LONG} seconds.
 */
class NeverRunsAndCreationAttackTest {
    private static final long LONG = 30;

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    /** An Error whose message cannot be had: getMessage() throws (as {@code ReportPathAttackTest.Indescribable}). */
    static final class IndescribableError extends Error {
        private static final long serialVersionUID = 1L;

        IndescribableError() {
            super((String) null, null, false, false);
        }

        @Override
        public String getMessage() {
            throw new IllegalStateException("no message");
        }
    }

    /*
     * An Error while the timer fires a task's item (test point timer.fire) whose message cannot
     * be had: the timer tells the task it never runs. TaskWork.neverRuns took the task
     * (WAITING -> TAKEN) and then built its future's failure from reason.getMessage(), which
     * threw: the future was never completed (get() timed out after 30 s), and nothing else ever
     * completes the future of a TAKEN task (failStranded only takes WAITING ones).
     */
    @Test
    void aTaskWhoseFiringFailsWithAnIndescribableErrorStillHasItsFutureFail() throws Exception {
        WorkQueue q = t.queue("indescribable").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        AtomicInteger ran = new AtomicInteger();
        AtomicBoolean thrown = new AtomicBoolean();
        TestHooks.install((point, subject) -> {
            if (point.equals("timer.fire") && subject instanceof WorkNode n && n.name().equals("doomed")
                    && thrown.compareAndSet(false, true)) {
                throw new IndescribableError();
            }
        });
        ScheduledFuture<?> f = e.schedule(ExecutorShutdownNowTest.named("doomed", ran::incrementAndGet), 1, MILLISECONDS);
        assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class)
                .hasRootCauseInstanceOf(IndescribableError.class);
        assertThat(ran).hasValue(0);
        // The handler hears of the expiry after the future failed (on the timer thread).
        Awaitility.await().atMost(Duration.ofSeconds(LONG)).until(() -> !t.errors.isEmpty());
        assertThat(t.errors.get(0) instanceof IndescribableError).as("the handler heard of the refused expiry").isTrue();
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
    }

    /*
     * destroy() at every depth of a caller's stack (StackProbeAttackTest's sweep), each attempt
     * on a fresh queue whose scheduled view has a task armed: the destroy reports the armed item,
     * and tells its task that it never runs, which fails its future and takes the view's lock to
     * stop counting it. Afterwards (a destroy that threw is retried at a shallow depth, as a
     * user would) every view's lock must be free, every future done, and every view must
     * terminate after shutdown().
     */
    @Test
    void aDestroyAtTheEndOfAStackLeavesNoTaskStranded() throws Exception {
        int sweeps = 40;
        int perSweep = 192;
        java.lang.reflect.Field lockField = WorkQueueExecutorService.class.getDeclaredField("lock");
        lockField.setAccessible(true);
        java.util.List<WorkQueue> all = new java.util.ArrayList<>();
        java.util.List<ScheduledExecutorService> views = new java.util.ArrayList<>();
        java.util.List<ScheduledFuture<?>> futures = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicReference<StackOverflowError> last = new java.util.concurrent.atomic.AtomicReference<>();
        Runnable task = () -> { };
        for (int s = 0; s < sweeps; s++) {
            java.util.List<WorkQueue> qs = new java.util.ArrayList<>();
            for (int i = 0; i < perSweep; i++) {
                WorkQueue q = t.queue("deep-" + s + "-" + i).build();
                ScheduledExecutorService v = q.asScheduledExecutorService();
                if (i == 0 && s == 0) {
                    v.schedule(task, 1, java.util.concurrent.TimeUnit.HOURS).cancel(false); // links the paths below
                }
                qs.add(q);
                views.add(v);
                futures.add(v.schedule(task, 1, java.util.concurrent.TimeUnit.HOURS));
            }
            all.addAll(qs);
            int[] attempts = {0};
            Thread th = new Thread(null, () -> StackProbeAttackTest.descend(i -> {
                if (i < qs.size()) {
                    qs.get(i).destroy();
                }
            }, attempts, last), "deep-destroyer", 192 * 1024 + s * 1032L);
            th.start();
            th.join(LONG * 1000);
            assertThat(th.isAlive()).as("sweep " + s + " returned").isFalse();
        }
        java.util.List<String> stuck = new java.util.ArrayList<>();
        for (int i = 0; i < all.size() && stuck.size() < 4; i++) {
            ScheduledExecutorService v = views.get(i);
            if (((java.util.concurrent.locks.ReentrantLock) lockField.get(v)).isLocked()) {
                stuck.add(all.get(i).name() + ": the view's lock held by an ended thread");
                continue;
            }
            if (!all.get(i).isDestroyed()) {
                Thread retry = new Thread(all.get(i)::destroy, "retry"); // as a user would after the overflow
                retry.start();
                retry.join(5_000);
                if (retry.isAlive()) {
                    stuck.add(all.get(i).name() + ": destroy() retried never returns (" + java.util.Arrays.toString(
                            java.util.Arrays.copyOf(retry.getStackTrace(), 4)) + ")");
                    continue;
                }
            }
            if (!futures.get(i).isDone()) {
                stuck.add(all.get(i).name() + ": destroyed, the armed task's future still pending");
            }
            v.shutdown();
            if (!v.awaitTermination(1, SECONDS)) {
                stuck.add(all.get(i).name() + ": never terminates (" + v + ")");
            }
        }
        StackOverflowError e = last.get();
        assertThat(stuck).as("of " + all.size() + " queues destroyed at the end of a stack; an overflow struck at "
                + (e == null ? "?" : java.util.Arrays.toString(java.util.Arrays.copyOf(e.getStackTrace(), 12)))).isEmpty();
    }

    // ------------------------------------------------------------------ worker creation (pool.newWorker)

    /*
     * An Error at every creation's claim (test point pool.newWorker) with the worker cap at its
     * smallest (2): each failure must give its cap slot back, or a few failures exhaust the cap
     * and no worker is ever made again. Five creations fail (a second apart, the cooldown), then
     * creation works: items of both queues run, and the cap counts only live workers.
     */
    @Test
    void failedCreationsAtTheCapGiveTheirSlotsBack() throws Exception {
        AtomicInteger struck = new AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.newWorker") && struck.getAndIncrement() < 5) {
                throw new OutOfMemoryError("simulated: making a Worker at the cap");
            }
        });
        try (TestRuntime capped = new TestRuntime(1, b -> b.maxWorkers(2))) {
            WorkQueue bound = capped.queue("cap-bound").build();
            WorkQueue unbound = capped.queue("cap-unbound").unbound().build();
            java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(2);
            assertThat(bound.queue(new Work("bound-item", ran::countDown))).isTrue();
            assertThat(unbound.queue(new Work("unbound-item", ran::countDown))).isTrue();
            assertThat(ran.await(LONG, SECONDS)).as("both items ran once creation worked again").isTrue();
            assertThat(struck.get()).as("creations were struck").isGreaterThanOrEqualTo(5);
            assertThat(capped.rt.engine().workerCount()).as("the cap counts live workers only").isLessThanOrEqualTo(2);
            assertThat(capped.reports).as("a failed creation was reported")
                    .anyMatch(r -> r.contains("failed to create a worker") && r.contains("simulated: making a Worker"));
        }
    }

    /*
     * A memReclaim queue whose pool can never get a worker (every creation fails at its claim):
     * the failure sends maydays, and the queue's rescuer runs the items.
     */
    @Test
    void aMemReclaimQueueGoesOnThroughItsRescuerWhenEveryCreationFailsAtItsClaim() throws Exception {
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.newWorker")) {
                throw new OutOfMemoryError("simulated: no Worker ever");
            }
        });
        WorkQueue reclaim = t.queue("reclaim").memReclaim().build();
        java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(3);
        for (int i = 0; i < 3; i++) {
            assertThat(reclaim.queue(new Work("rescued-" + i, ran::countDown))).isTrue();
        }
        assertThat(ran.await(LONG, SECONDS)).as("the rescuer ran the items").isTrue();
        TestHooks.install(null);
        reclaim.destroy();
    }

    /*
     * close() while the manager is between the claim of a creation and the factory call (held
     * at pool.newWorker until close has stopped the runtime threads): the creation either makes
     * a worker before the pool dies (joined by close) or starts nothing; close ends in time (no
     * timeout report) and no thread the factory made is left alive.
     */
    @Test
    void closeRacingACreationLeavesNoThreadBehind() throws Exception {
        java.util.concurrent.CountDownLatch claimed = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        AtomicBoolean once = new AtomicBoolean();
        java.util.List<Thread> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<String> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).closeTimeout(Duration.ofSeconds(LONG))
                .reportListener(reports::add).threadFactory(r -> {
            Thread th = new Thread(r);
            made.add(th);
            return th;
        }).build());
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.newWorker") && once.compareAndSet(false, true)) {
                claimed.countDown();
                try {
                    stopped.await(LONG, SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else if (point.equals("close.stopped")) {
                stopped.countDown();
            }
        });
        WorkQueue q = rt.queueBuilder("close-race").build();
        Work needy = new Work("needs a worker", () -> { });
        q.queue(needy);
        assertThat(claimed.await(LONG, SECONDS)).as("a creation was claimed").isTrue();
        needy.cancel(); // nothing for close's drain to wait for: it goes on to stop the threads
        rt.close();
        assertThat(reports).as("close ended everything in time (no timeout report)").isEmpty();
        assertThat(made).as("threads the factory made").isNotEmpty().allMatch(th -> !th.isAlive());
    }

    /*
     * The uncaught-work handler shuts the view down while the destroy reports the view's first
     * armed task (user code calling back into the view from the destroyer's report path): the
     * other task, off the timer already and not yet told, is taken by the shutdown (a periodic
     * one, cancelled) or told afterwards (a one-shot one, failed). Both futures complete, the
     * view terminates, and the handler's call neither throws nor blocks.
     */
    @Test
    void theHandlerShuttingTheViewDownDuringTheDestroysReportsLeavesNothingPending() throws Exception {
        java.util.concurrent.atomic.AtomicReference<ScheduledExecutorService> view = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.List<Throwable> reported = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<Throwable> handlerFailures = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).uncaughtWorkHandler((q, w, e) -> {
            reported.add(e);
            try {
                view.get().shutdown();
            } catch (Throwable x) {
                handlerFailures.add(x);
            }
        }).build())) {
            WorkQueue q = rt.queueBuilder("handler-shutdown").build();
            ScheduledExecutorService e = q.asScheduledExecutorService();
            view.set(e);
            ScheduledFuture<?> oneShot = e.schedule(() -> { }, 1, java.util.concurrent.TimeUnit.HOURS);
            ScheduledFuture<?> periodic = e.scheduleWithFixedDelay(() -> { }, 1, 1, java.util.concurrent.TimeUnit.HOURS);
            q.destroy();
            assertThat(handlerFailures).isEmpty();
            assertThat(reported).as("both armed items reported").hasSize(2);
            assertThat(e.awaitTermination(LONG, SECONDS)).as("the view terminated").isTrue();
            assertThat(oneShot.isDone()).isTrue();
            assertThat(periodic.isDone()).isTrue();
            assertThatThrownBy(() -> oneShot.get(0, SECONDS)).isInstanceOf(ExecutionException.class);
        }
    }

    /*
     * A periodic task held at its re-arm (test point executor.rearm, the task WAITING again but
     * not yet armed) while its queue's destroy begins and waits for the running item: the re-arm
     * is refused, the future fails with the refusal, the destroy ends, and a shut-down view
     * terminates. The task ran exactly once.
     */
    @Test
    void aPeriodicTaskReArmedWhileItsQueueIsDestroyedFailsAndTheViewTerminates() throws Exception {
        WorkQueue q = t.queue("rearm-destroy").build();
        ScheduledExecutorService e = q.asScheduledExecutorService();
        java.util.concurrent.CountDownLatch atRearm = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch destroying = new java.util.concurrent.CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.waiting") && Thread.currentThread().getName().equals("destroyer")) {
                destroying.countDown(); // its drain waits for the running item: the destroy has begun
            }
            if (point.equals("executor.rearm") && subject instanceof Work w && w.name().equals("rearmed")) {
                atRearm.countDown();
                try {
                    go.await(LONG, SECONDS);
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        AtomicInteger ran = new AtomicInteger();
        ScheduledFuture<?> f = e.scheduleAtFixedRate(ExecutorShutdownNowTest.named("rearmed", ran::incrementAndGet),
                0, 1, java.util.concurrent.TimeUnit.HOURS);
        assertThat(atRearm.await(LONG, SECONDS)).isTrue();
        Thread destroyer = new Thread(q::destroy, "destroyer");
        destroyer.start();
        // in its drain, by hook: WAITING alone may be a wait for a pool lock before the destroy began
        assertThat(destroying.await(LONG, SECONDS)).as("the destroy waits for the running item").isTrue();
        go.countDown();
        destroyer.join(LONG * 1000);
        assertThat(destroyer.isAlive()).as("the destroy ended").isFalse();
        assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
        assertThat(ran).hasValue(1);
        e.shutdown();
        assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
    }
}
