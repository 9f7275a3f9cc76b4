package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.AcquireMode;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;

/**
 * Issue 12 defect 11: {@code shutdownNow()} of the executor view returns exactly the tasks that
 * never started, none of them starts afterwards, and every started one is interrupted (the
 * JSR-166 TCK's testShutdownNow); {@code Future.cancel} takes the item off the queue whichever
 * way the task was submitted.
 */
class ExecutorShutdownNowTest {
    private static final long LONG = 30;

    /** A runnable with a readable name (it becomes the item's name). */
    static Runnable named(String name, Runnable body) {
        return new Runnable() {
            @Override
            public void run() {
                body.run();
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    /** A worker thread that calls a hook after it has been interrupted, on the interrupter's thread. */
    static final class HookedThread extends Thread {
        volatile Runnable onInterrupt;

        HookedThread(Runnable r) {
            super(r);
        }

        @Override
        public void interrupt() {
            super.interrupt();
            Runnable h = onInterrupt;
            if (h != null) {
                onInterrupt = null;
                h.run();
            }
        }
    }

    /**
     * (a) shutdownNow interrupts a running task while tasks still wait behind it: the queue must
     * not start any of them once a slot frees. Two slots: the view's task R, and a plain item
     * that returns as soon as R has seen its interrupt (so it frees a slot while shutdownNow is
     * still inside R's interrupt). The interrupt hook holds shutdownNow there until either a
     * waiting task started or that slot's worker went idle: the interleaving the defect needs is
     * forced whenever R is not the last task shutdownNow looks at (50 waiting, three rounds).
     */
    @Test
    void noWaitingTaskStartsWhenTheRunningOneIsInterruptedFirst() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> { }, HookedThread::new)) {
            for (int round = 0; round < 3; round++) {
                WorkQueue q = t.queue("tck" + round).unbound().maxActive(2).build();
                ExecutorService e = q.asExecutorService();
                CountDownLatch started = new CountDownLatch(2);
                CountDownLatch sawInterrupt = new CountDownLatch(1);
                CountDownLatch otherDone = new CountDownLatch(1);
                HookedThread[] threads = new HookedThread[2];
                e.execute(() -> {
                    threads[0] = (HookedThread) Thread.currentThread();
                    started.countDown();
                    try {
                        new CountDownLatch(1).await();
                    } catch (InterruptedException expected) {
                        sawInterrupt.countDown();
                    }
                });
                q.queue(new Work("other-slot", () -> {
                    threads[1] = (HookedThread) Thread.currentThread();
                    started.countDown();
                    WorkQueueCoreTest.await(sawInterrupt);
                    otherDone.countDown();
                }));
                WorkQueueCoreTest.await(started);
                int waiting = 50;
                AtomicInteger ran = new AtomicInteger();
                for (int i = 0; i < waiting; i++) {
                    e.execute(ran::incrementAndGet);
                }
                HookedThread other = threads[1];
                threads[0].onInterrupt = () -> Awaitility.await().atMost(Duration.ofSeconds(LONG))
                        .until(() -> ran.get() > 0 || (otherDone.getCount() == 0
                                && (other.getState() == Thread.State.WAITING
                                        || other.getState() == Thread.State.TIMED_WAITING)));

                List<Runnable> never = e.shutdownNow();
                assertThat(e.awaitTermination(LONG, TimeUnit.SECONDS)).isTrue();
                q.flush();
                assertThat(ran).as("round %d: waiting tasks that started after shutdownNow", round).hasValue(0);
                assertThat(never).as("round %d: returned + started == submitted", round).hasSize(waiting);
                assertThat(sawInterrupt.getCount()).isZero();
            }
        }
    }

    /**
     * Holds a worker right before the first item named {@code victim} (any item, for null)
     * begins, after the worker took it: the validator's acquire of the item's map is that point.
     */
    static final class HoldBeforeStart implements LockDependencyValidator {
        final CountDownLatch taken = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean armed;
        private final String victim;

        HoldBeforeStart(String victim) {
            this.victim = victim;
            this.armed = victim != null;
        }

        @Override
        public boolean isEnabled() {
            return true;
        }

        @Override
        public void acquire(LockMap map, AcquireMode mode, boolean trylock) {
            String n = map.name();
            if (armed && n.startsWith("(work_completion)") && (victim == null || n.endsWith(victim))
                    && taken.getCount() > 0) {
                taken.countDown();
                WorkQueueCoreTest.await(release);
            }
        }

        @Override
        public void release(LockMap map) {
        }

        @Override
        public void initialize(LockMap map) {
        }

        @Override
        public boolean isHeld(LockMap map) {
            return false;
        }
    }

    /**
     * (b) A task a worker has taken off the queue but not yet begun is a task that never
     * started: shutdownNow returns it, and it does not run afterwards (ThreadPoolExecutor
     * re-checks its run state before each task).
     */
    @Test
    void aTaskTakenButNotBegunIsReturnedAndNeverRuns() throws Exception {
        HoldBeforeStart hold = new HoldBeforeStart("victim");
        try (TestRuntime t = new TestRuntime(2, b -> b.validator(hold))) {
            WorkQueue q = t.queue("exec").build();
            ExecutorService e = q.asExecutorService();
            AtomicBoolean ran = new AtomicBoolean();
            Runnable victim = named("victim", () -> ran.set(true));
            e.execute(victim);
            WorkQueueCoreTest.await(hold.taken); // a worker took the item: PENDING clear, not begun

            List<Runnable> never = e.shutdownNow();
            hold.release.countDown();
            assertThat(e.awaitTermination(LONG, TimeUnit.SECONDS)).isTrue();
            q.flush(); // the worker is done with the item
            assertThat(ran).as("a task not begun at shutdownNow ran afterwards").isFalse();
            assertThat(never).containsExactly(victim);
        }
    }

    /**
     * (c) ExecutorCompletionService (and so invokeAny) hands execute() a wrapper of the view's
     * own future: cancelling that future must still take its item off the queue (and the
     * completion service still receives the cancelled future).
     */
    @Test
    void cancellingAFutureOfACompletionServiceTakesItsItemOffTheQueue() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("ecs").ordered().build();
            ExecutorService e = q.asExecutorService();
            CountDownLatch release = new CountDownLatch(1);
            TestRuntime.blockOrdered(q, release);
            ExecutorCompletionService<String> ecs = new ExecutorCompletionService<>(e);
            AtomicBoolean ran = new AtomicBoolean();
            Future<String> f = ecs.submit(() -> {
                ran.set(true);
                return "x";
            });

            assertThat(f.cancel(false)).isTrue();
            release.countDown();
            q.flush();
            assertThat(q.stats().started()).as("only the gate started: the cancelled task's item left the queue")
                    .isEqualTo(1);
            assertThat(ran).isFalse();
            // As with a ThreadPoolExecutor, the completion service receives the cancelled future
            // (its wrapper is run once, by the cancel, since no worker will): Break4WbCompletionServiceCancelTest.
            assertThat(ecs.poll()).as("the cancelled future, delivered").isSameAs(f);
            assertThat(ecs.poll()).as("delivered once").isNull();
        }
    }

    /**
     * (c) invokeAny cancels the tasks it no longer needs: their items leave the queue. The
     * first task answers once all five are queued (one slot: the others wait) and invokeAny
     * waits in take(); the worker that
     * takes the next item is held before it begins until invokeAny has returned.
     */
    @Test
    void invokeAnyTakesTheItemsOfTheTasksItCancelsOffTheQueue() throws Exception {
        HoldBeforeStart hold = new HoldBeforeStart(null);
        try (TestRuntime t = new TestRuntime(2, b -> b.validator(hold))) {
            WorkQueue q = t.queue("any").unbound().maxActive(1).build();
            ExecutorService e = q.asExecutorService();
            AtomicInteger bodies = new AtomicInteger();
            Thread[] callerRef = new Thread[1];
            List<java.util.concurrent.Callable<String>> tasks = new ArrayList<>();
            tasks.add(() -> {
                bodies.incrementAndGet();
                // invokeAny queues the next task whenever its poll finds nothing yet, then takes
                Awaitility.await().atMost(Duration.ofSeconds(LONG))
                        .until(() -> callerRef[0].getState() == Thread.State.WAITING);
                hold.armed = true;
                return "first";
            });
            for (int i = 0; i < 4; i++) {
                tasks.add(() -> {
                    bodies.incrementAndGet();
                    return "late";
                });
            }
            String[] answer = new String[1];
            Thread caller = new Thread(() -> {
                try {
                    answer[0] = e.invokeAny(tasks);
                } catch (Exception ex) {
                    answer[0] = ex.toString();
                }
            });
            callerRef[0] = caller;
            caller.start();
            caller.join(TimeUnit.SECONDS.toMillis(LONG));
            assertThat(answer[0]).isEqualTo("first");
            hold.release.countDown();
            q.flush();
            assertThat(bodies).hasValue(1);
            assertThat(q.stats().started()).as("cancelled tasks whose items stayed queued and started")
                    .isLessThanOrEqualTo(2); // the first, and at most the one held between take and begin
        }
    }
}
