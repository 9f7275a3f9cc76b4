package org.workqueue4j;

import static java.util.concurrent.TimeUnit.DAYS;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ExecutorService contracts the JSR-166 TCK checks for every executor (AbstractExecutorServiceTest,
 * the executor-generic cases of ThreadPoolExecutorTest, ScheduledExecutorTest and ExecutorsTest,
 * JSR166TestCase's submission helpers), each run against the three ways a user gets an executor
 * from a queue: {@link WorkQueue#asExecutorService()}, {@link WorkQueue#asScheduledExecutorService()}
 * and {@link WorkQueue.Builder#buildExecutorService()} (which owns its queue). Cases that
 * {@link ExecutorServiceTest} and {@link ExecutorServiceContractTest} already state for one view
 * are stated here for all three only where a view could differ.
 *
 * <p>Synchronisation is by latches; every wait is bounded by {@link #LONG} seconds and fails the
 * test only after that.
 */
class ExecutorTckTest {
    private static final long LONG = 30;

    enum Kind {
        VIEW, SCHEDULED_VIEW, OWNING
    }

    private final TestRuntime t = new TestRuntime();
    /** Released in tearDown so that no test leaves a blocked worker behind. */
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() {
        release.countDown();
        t.close();
    }

    private ExecutorService executor(Kind kind) {
        WorkQueue.Builder b = t.queue("tck-" + kind.name().toLowerCase(java.util.Locale.ROOT)).unbound();
        return switch (kind) {
            case VIEW -> b.build().asExecutorService();
            case SCHEDULED_VIEW -> b.build().asScheduledExecutorService();
            case OWNING -> b.buildExecutorService();
        };
    }

    static void await(CountDownLatch l) {
        try {
            assertThat(l.await(LONG, SECONDS)).as("latch reached within " + LONG + " s").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** A task that announces its start, then waits for {@code until} (interruptible). */
    private static Callable<String> blocker(CountDownLatch started, CountDownLatch until) {
        return () -> {
            started.countDown();
            until.await();
            return "blocker";
        };
    }

    /**
     * A task that counts its runs, announces each start, waits for {@code until} and notes
     * whether an interrupt ended the wait (shared with {@link ScheduledExecutorTckTest}).
     */
    static final class Blocker implements Runnable {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch ended = new CountDownLatch(1);
        final AtomicBoolean interrupted = new AtomicBoolean();
        final AtomicInteger runs = new AtomicInteger();
        private final CountDownLatch until;

        Blocker(CountDownLatch until) {
            this.until = until;
        }

        @Override
        public void run() {
            runs.incrementAndGet();
            started.countDown();
            try {
                until.await();
            } catch (InterruptedException x) {
                interrupted.set(true);
            } finally {
                ended.countDown();
            }
        }

        /** This task as a callable that returns {@code value}. */
        Callable<String> returning(String value) {
            return () -> {
                run();
                return value;
            };
        }
    }

    /** Starts {@code action} on a new thread, waits until it is parked in it, and returns the thread. */
    private static Thread parked(String name, Runnable action) {
        return TestRuntime.startAndAwaitParked(name, action);
    }

    private static void join(Thread th) throws InterruptedException {
        th.join(SECONDS.toMillis(LONG));
        assertThat(th.isAlive()).as(th.getName() + " returned").isFalse();
    }

    static void assertTerminates(ExecutorService e) throws InterruptedException {
        assertThat(e.awaitTermination(LONG, SECONDS)).as("terminated").isTrue();
        assertThat(e.isTerminated()).isTrue();
    }

    // ------------------------------------------------------------------ submission

    @ParameterizedTest
    @EnumSource(Kind.class)
    void executeRunsTheRunnable(Kind kind) {
        ExecutorService e = executor(kind);
        CountDownLatch done = new CountDownLatch(1);
        e.execute(done::countDown);
        await(done);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void submitOfARunnableWithAResultCompletesWithThatSameResult(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        String result = new String("result"); // identity, not equality
        assertThat(e.submit(() -> { }, result).get(LONG, SECONDS)).isSameAs(result);
        assertThat(e.submit(() -> { }).get(LONG, SECONDS)).isNull();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void executorsCallableAdaptersCompleteWithTheirResult(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        AtomicInteger ran = new AtomicInteger();
        String result = new String("result");
        assertThat(e.submit(Executors.callable(ran::incrementAndGet, result)).get(LONG, SECONDS)).isSameAs(result);
        assertThat(e.submit(Executors.callable((Runnable) ran::incrementAndGet)).get(LONG, SECONDS)).isNull();
        assertThat(ran).hasValue(2);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aFailingCallableFailsGetWithExecutionExceptionCarryingTheCause(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        ArithmeticException boom = new ArithmeticException("boom");
        Future<Object> f = e.submit(() -> {
            throw boom;
        });
        assertThatThrownBy(() -> f.get(LONG, SECONDS)).isInstanceOf(ExecutionException.class).hasCause(boom);
        assertThat(f.isDone()).isTrue();
        assertThat(f.isCancelled()).isFalse();
        assertThat(t.errors).as("a submitted task's exception belongs to its future").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void nullTasksAndUnitsThrowNullPointerException(Kind kind) {
        ExecutorService e = executor(kind);
        List<Callable<String>> one = List.of(() -> "x");
        assertThatThrownBy(() -> e.execute(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.submit((Runnable) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.submit((Runnable) null, "x")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.submit((Callable<?>) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAll(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAny(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAll(null, 1, SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAny(null, 1, SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAll(one, 1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAny(one, 1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.awaitTermination(1, null)).isInstanceOf(NullPointerException.class);
    }

    /** JSR166TestCase.testSubmittedTasksRejectedWhenShutdown: a running task keeps the view from terminating. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void everySubmissionIsRejectedAfterShutdownWhileAcceptedTasksStillRun(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Future<String> running = e.submit(blocker(started, done));
        await(started);
        e.shutdown();
        assertThat(e.isShutdown()).isTrue();
        assertThat(e.isTerminated()).as("a task still runs").isFalse();
        assertRejectsEverything(e);
        done.countDown();
        assertThat(running.get(LONG, SECONDS)).isEqualTo("blocker");
        assertTerminates(e);
        assertRejectsEverything(e);
    }

    private static void assertRejectsEverything(ExecutorService e) {
        Runnable r = () -> { };
        Callable<String> c = () -> "x";
        assertThatThrownBy(() -> e.execute(r)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.submit(r)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.submit(r, "x")).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.submit(c)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.invokeAll(List.of(c))).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> e.invokeAny(List.of(c))).isInstanceOf(RejectedExecutionException.class);
        if (e instanceof ScheduledExecutorService s) {
            assertThatThrownBy(() -> s.schedule(r, 0, SECONDS)).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> s.schedule(c, 1, DAYS)).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> s.scheduleAtFixedRate(r, 0, 1, SECONDS)).isInstanceOf(RejectedExecutionException.class);
            assertThatThrownBy(() -> s.scheduleWithFixedDelay(r, 1, 1, DAYS)).isInstanceOf(RejectedExecutionException.class);
        }
    }

    // ------------------------------------------------------------------ invokeAny

    @ParameterizedTest
    @EnumSource(Kind.class)
    void invokeAnyOfNoTasksIsAnIllegalArgumentTimedOrNot(Kind kind) {
        ExecutorService e = executor(kind);
        assertThatThrownBy(() -> e.invokeAny(List.<Callable<String>>of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> e.invokeAny(List.<Callable<String>>of(), LONG, SECONDS))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void invokeAnyWithANullElementThrowsNullPointerExceptionAndCancelsWhatItStarted(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        CountDownLatch started = new CountDownLatch(2);
        List<Callable<String>> l = new ArrayList<>();
        l.add(blocker(started, release));
        l.add(null);
        assertThatThrownBy(() -> e.invokeAny(l)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAny(l, LONG, SECONDS)).isInstanceOf(NullPointerException.class);
        e.shutdown();
        assertTerminates(e); // the blockers it started were cancelled (interrupted), not left waiting for `release`
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void invokeAnyThrowsExecutionExceptionWithACauseWhenEveryTaskFails(Kind kind) {
        ExecutorService e = executor(kind);
        List<Callable<String>> l = List.of(() -> {
            throw new IllegalStateException("one");
        }, () -> {
            throw new IllegalStateException("two");
        });
        assertThatThrownBy(() -> e.invokeAny(l)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> e.invokeAny(l, LONG, SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void invokeAnyReturnsTheSuccessfulResultEvenAfterFailuresAndCancelsTheOthers(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        Blocker slowTask = new Blocker(release);
        CountDownLatch started = slowTask.started;
        Callable<String> slow = slowTask.returning("slow");
        Callable<String> fails = () -> {
            await(started);
            throw new IllegalStateException("fails");
        };
        Callable<String> fast = () -> {
            await(started);
            return "fast";
        };
        assertThat(e.invokeAny(List.of(slow, fails, fast))).isEqualTo("fast");
        await(slowTask.ended);
        assertThat(slowTask.interrupted).as("invokeAny cancels the unfinished tasks with an interrupt").isTrue();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void timedInvokeAnyTimesOutAndCancelsEveryTask(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        CountDownLatch started = new CountDownLatch(1);
        assertThatThrownBy(() -> e.invokeAny(List.of(blocker(started, release)), 10, MILLISECONDS))
                .isInstanceOf(TimeoutException.class);
        assertThatThrownBy(() -> e.invokeAny(List.of(blocker(started, release)), 0, NANOSECONDS))
                .isInstanceOf(TimeoutException.class);
        assertThatThrownBy(() -> e.invokeAny(List.of(blocker(started, release)), -1, SECONDS))
                .isInstanceOf(TimeoutException.class);
        e.shutdown();
        assertTerminates(e); // nothing left blocked on `release`
    }

    // ------------------------------------------------------------------ invokeAll

    @ParameterizedTest
    @EnumSource(Kind.class)
    void invokeAllOfNoTasksIsAnEmptyListTimedOrNot(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        assertThat(e.invokeAll(List.<Callable<String>>of())).isEmpty();
        assertThat(e.invokeAll(List.<Callable<String>>of(), LONG, SECONDS)).isEmpty();
        assertThat(e.invokeAll(List.<Callable<String>>of(), 0, SECONDS)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void invokeAllWithANullElementThrowsNullPointerException(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        List<Callable<String>> l = new ArrayList<>();
        l.add(() -> "x");
        l.add(null);
        assertThatThrownBy(() -> e.invokeAll(l)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> e.invokeAll(l, LONG, SECONDS)).isInstanceOf(NullPointerException.class);
        e.shutdown();
        assertTerminates(e);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void invokeAllReturnsEveryResultAndEveryFailureInOrder(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        List<Callable<String>> l = List.of(() -> "0", () -> {
            throw new IllegalStateException("1");
        }, () -> "2");
        for (List<Future<String>> fs : List.of(e.invokeAll(l), e.invokeAll(l, LONG, SECONDS))) {
            assertThat(fs).hasSize(3).allMatch(Future::isDone);
            assertThat(fs.get(0).get()).isEqualTo("0");
            assertThatThrownBy(() -> fs.get(1).get()).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class);
            assertThat(fs.get(2).get()).isEqualTo("2");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void timedInvokeAllWithAnExpiredTimeoutCancelsEveryTaskAndRunsNone(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        AtomicInteger ran = new AtomicInteger();
        Callable<Integer> task = ran::incrementAndGet;
        for (long timeout : new long[] {0, -1, Long.MIN_VALUE}) {
            List<Future<Integer>> fs = e.invokeAll(List.of(task, task), timeout, SECONDS);
            assertThat(fs).hasSize(2).allMatch(Future::isCancelled);
        }
        e.shutdown();
        assertTerminates(e);
        assertThat(ran).as("no task of an expired invokeAll runs").hasValue(0);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void timedInvokeAllCancelsTheTaskUnfinishedAtTheDeadlineAndInterruptsIt(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        Blocker waiting = new Blocker(release);
        Callable<String> waiter = waiting.returning("1");
        List<Future<String>> fs = e.invokeAll(List.of(() -> "0", waiter, () -> "2"), 200, MILLISECONDS);
        assertThat(fs).hasSize(3).allMatch(Future::isDone);
        assertThat(fs.get(1).isCancelled()).isTrue();
        if (waiting.started.getCount() == 0) {
            e.shutdown();
            assertTerminates(e); // the cancel interrupted it: it did not wait for `release`
            assertThat(waiting.interrupted).isTrue();
        }
    }

    /**
     * Timed invokeAll makes every task's future (newTaskFor) before it executes any; one the
     * deadline leaves unexecuted must not stay reachable from the calling thread (through the
     * per-thread slot where the view keeps the future it made last, for ExecutorCompletionService).
     */
    @org.junit.jupiter.api.Test
    void aTimedInvokeAllPastItsDeadlineLeavesTheViewCollectable() throws Exception {
        WorkQueue q = t.queue("tck-collectable").build();
        java.lang.ref.WeakReference<ExecutorService> view = viewAfterAnExpiredInvokeAll(q);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return view.get() == null;
        });
    }

    private static java.lang.ref.WeakReference<ExecutorService> viewAfterAnExpiredInvokeAll(WorkQueue q)
            throws InterruptedException {
        ExecutorService e = q.asExecutorService();
        assertThat(e.invokeAll(List.of(() -> "x", () -> "y"), 0, SECONDS)).allMatch(Future::isCancelled);
        return new java.lang.ref.WeakReference<>(e);
    }

    // ------------------------------------------------------------------ interrupted callers

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anInterruptOfAThreadInInvokeAllThrowsInterruptedExceptionAndCancelsItsTasks(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        CountDownLatch started = new CountDownLatch(1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        List<Callable<String>> tasks = List.of(blocker(started, release), blocker(new CountDownLatch(1), release));
        Thread caller = new Thread(() -> {
            try {
                e.invokeAll(tasks);
            } catch (Throwable x) {
                thrown.set(x);
            }
        }, "invokeAll-caller");
        caller.start();
        await(started);
        awaitWaiting(caller);
        caller.interrupt();
        join(caller);
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        e.shutdown();
        assertTerminates(e); // every task it started was cancelled, none is left waiting for `release`
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anInterruptOfAThreadInTimedInvokeAllOrInvokeAnyThrowsInterruptedException(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        for (int variant = 0; variant < 3; variant++) {
            CountDownLatch started = new CountDownLatch(1);
            List<Callable<String>> tasks = List.of(blocker(started, release));
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            int v = variant;
            Thread caller = new Thread(() -> {
                try {
                    switch (v) {
                        case 0 -> e.invokeAll(tasks, LONG * 10, SECONDS);
                        case 1 -> e.invokeAny(tasks);
                        default -> e.invokeAny(tasks, LONG * 10, SECONDS);
                    }
                } catch (Throwable x) {
                    thrown.set(x);
                }
            }, "invoke-caller-" + v);
            caller.start();
            await(started);
            awaitWaiting(caller);
            caller.interrupt();
            join(caller);
            assertThat(thrown.get()).as("variant " + v).isInstanceOf(InterruptedException.class);
        }
        e.shutdown();
        assertTerminates(e);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aCallerInterruptedBeforeInvokeAllGetsInterruptedExceptionAndItsTasksCancelled(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        CountDownLatch never = new CountDownLatch(1);
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> e.invokeAll(List.of(blocker(new CountDownLatch(1), never))))
                    .isInstanceOf(InterruptedException.class);
        } finally {
            Thread.interrupted();
        }
        e.shutdown();
        assertTerminates(e);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anInterruptOfAThreadInFutureGetThrowsInterruptedExceptionAndLeavesTheTaskRunning(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        CountDownLatch started = new CountDownLatch(1);
        Future<String> f = e.submit(blocker(started, release));
        await(started);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread getter = parked("getter", () -> {
            try {
                f.get();
            } catch (Throwable x) {
                thrown.set(x);
            }
        });
        getter.interrupt();
        join(getter);
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(f.isDone()).as("the getter's interrupt is not the task's").isFalse();
        release.countDown();
        assertThat(f.get(LONG, SECONDS)).isEqualTo("blocker");
    }

    /** Waits until {@code th} is parked (it is then inside the blocking call). */
    private static void awaitWaiting(Thread th) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(LONG))
                .until(() -> th.getState() == Thread.State.WAITING || th.getState() == Thread.State.TIMED_WAITING);
    }

    // ------------------------------------------------------------------ cancel

    @ParameterizedTest
    @EnumSource(Kind.class)
    void cancelWithInterruptInterruptsTheRunningTaskAndCancelWithoutDoesNot(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        for (boolean mayInterrupt : new boolean[] {true, false}) {
            CountDownLatch proceed = new CountDownLatch(1);
            Blocker task = new Blocker(proceed);
            Future<?> f = e.submit(task);
            await(task.started);
            assertThat(f.cancel(mayInterrupt)).isTrue();
            assertThat(f.isCancelled()).isTrue();
            assertThat(f.isDone()).isTrue();
            assertThatThrownBy(f::get).isInstanceOf(CancellationException.class);
            assertThat(f.cancel(mayInterrupt)).as("a second cancel").isFalse();
            if (!mayInterrupt) {
                assertThat(task.ended.getCount()).as("cancel(false) leaves it running").isEqualTo(1);
                proceed.countDown();
            }
            await(task.ended);
            assertThat(task.interrupted.get()).as("interrupted iff cancel(" + mayInterrupt + ")").isEqualTo(mayInterrupt);
        }
        e.shutdown();
        assertTerminates(e);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aTaskCancelledBeforeItStartsNeverRunsAndCancelAfterCompletionFails(Kind kind) throws Exception {
        WorkQueue q = t.queue("tck-ordered-" + kind).ordered().build();
        ExecutorService e = kind == Kind.SCHEDULED_VIEW ? q.asScheduledExecutorService() : q.asExecutorService();
        CountDownLatch gate = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, gate);
        AtomicInteger ran = new AtomicInteger();
        Future<?> waiting = e.submit(ran::incrementAndGet);
        assertThat(waiting.cancel(false)).isTrue();
        Future<Integer> after = e.submit(ran::incrementAndGet);
        gate.countDown();
        assertThat(after.get(LONG, SECONDS)).isEqualTo(1);
        assertThat(after.cancel(true)).as("cancel of a completed task").isFalse();
        assertThat(after.isCancelled()).isFalse();
        e.shutdown();
        assertTerminates(e);
        assertThat(ran).as("the cancelled task never ran").hasValue(1);
    }

    // ------------------------------------------------------------------ shutdown, shutdownNow, termination

    @ParameterizedTest
    @EnumSource(Kind.class)
    void runStateTransitionsFromRunningToShutdownToTerminated(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        assertThat(e.isShutdown()).isFalse();
        assertThat(e.isTerminated()).isFalse();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        e.submit(blocker(started, done));
        await(started);
        assertThat(e.isShutdown()).isFalse();
        e.shutdown();
        e.shutdown(); // idempotent
        assertThat(e.isShutdown()).isTrue();
        assertThat(e.isTerminated()).isFalse();
        assertThat(e.awaitTermination(0, SECONDS)).isFalse();
        done.countDown();
        assertTerminates(e);
        assertThat(e.isShutdown()).isTrue();
        e.shutdown();
        assertThat(e.shutdownNow()).as("shutdownNow of a terminated executor").isEmpty();
        assertThat(e.isTerminated()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void awaitTerminationWithZeroNegativeAndHugeTimeouts(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        assertThat(e.awaitTermination(0, NANOSECONDS)).isFalse();
        assertThat(e.awaitTermination(-1, SECONDS)).isFalse();
        assertThat(e.awaitTermination(Long.MIN_VALUE, NANOSECONDS)).isFalse();
        AtomicReference<Object> result = new AtomicReference<>();
        Thread waiter = parked("awaiter", () -> {
            try {
                result.set(e.awaitTermination(Long.MAX_VALUE, DAYS));
            } catch (Throwable x) {
                result.set(x);
            }
        });
        assertThat(waiter.isAlive()).as("still waiting: not terminated").isTrue();
        e.shutdown();
        join(waiter);
        assertThat(result.get()).isEqualTo(Boolean.TRUE);
        assertThat(e.awaitTermination(0, NANOSECONDS)).as("terminated: true at once").isTrue();
        assertThat(e.awaitTermination(Long.MAX_VALUE, NANOSECONDS)).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void awaitTerminationOfATerminatedExecutorReturnsTrueEvenWhenInterrupted(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        e.shutdown();
        assertTerminates(e);
        Thread.currentThread().interrupt();
        try {
            assertThat(e.awaitTermination(LONG, SECONDS)).isTrue();
            assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is kept").isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void shutdownNowReturnsTheWaitingTasksInterruptsTheRunningOneAndTerminates(Kind kind) throws Exception {
        WorkQueue q = t.queue("tck-now-" + kind).ordered().build();
        ExecutorService e = kind == Kind.SCHEDULED_VIEW ? q.asScheduledExecutorService() : q.asExecutorService();
        Blocker task = new Blocker(release);
        AtomicInteger ranLater = new AtomicInteger();
        Future<?> running = e.submit(task);
        await(task.started);
        Runnable plain = ranLater::incrementAndGet;
        e.execute(plain);
        Future<Integer> submitted = e.submit(ranLater::incrementAndGet);
        List<Runnable> never = e.shutdownNow();
        assertThat(never).hasSize(2).contains(plain).contains((Runnable) submitted);
        assertThat(submitted.isDone()).as("a returned task is neither run nor cancelled").isFalse();
        assertThat(e.isShutdown()).isTrue();
        await(task.ended);
        assertThat(task.interrupted).isTrue();
        assertTerminates(e);
        assertThat(ranLater).hasValue(0);
        assertThat(running.isDone()).isTrue();
        assertThat(e.shutdownNow()).as("a second shutdownNow").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void shutdownNowOfAnIdleExecutorReturnsNothingAndTerminates(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        assertThat(e.shutdownNow()).isEmpty();
        assertThat(e.isShutdown()).isTrue();
        assertTerminates(e);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theInterruptOfShutdownNowDoesNotReachTheWorkersNextTask(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        CountDownLatch started = new CountDownLatch(1);
        e.submit(blocker(started, release));
        await(started);
        e.shutdownNow();
        assertTerminates(e);
        // The worker that ran the interrupted task serves the queue's next item with its interrupt cleared.
        WorkQueue q = t.queue("tck-after-" + kind).unbound().build();
        AtomicInteger interruptedItems = new AtomicInteger();
        for (int i = 0; i < 8; i++) {
            q.queue(new Work("probe-" + i, () -> {
                if (Thread.currentThread().isInterrupted()) {
                    interruptedItems.incrementAndGet();
                }
            }));
        }
        q.flush();
        assertThat(interruptedItems).hasValue(0);
    }

    // ------------------------------------------------------------------ close() (Java 19+)

    @ParameterizedTest
    @EnumSource(Kind.class)
    void closeWaitsForTheAcceptedTasksAndTerminates(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        assumeTrue(e instanceof AutoCloseable, "ExecutorService.close() exists from Java 19");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Future<String> f = e.submit(blocker(started, done));
        await(started);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread closer = parked("closer", () -> {
            try {
                ((AutoCloseable) e).close();
            } catch (Throwable x) {
                thrown.set(x);
            }
        });
        assertThat(closer.isAlive()).as("close waits for the running task").isTrue();
        assertThat(e.isShutdown()).isTrue();
        done.countDown();
        join(closer);
        assertThat(thrown.get()).isNull();
        assertThat(e.isTerminated()).isTrue();
        assertThat(f.get(0, SECONDS)).isEqualTo("blocker");
        ((AutoCloseable) e).close(); // again: returns at once
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anInterruptedCloseStopsTheTasksReturnsAndKeepsTheInterrupt(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        assumeTrue(e instanceof AutoCloseable, "ExecutorService.close() exists from Java 19");
        CountDownLatch started = new CountDownLatch(1);
        Future<String> f = e.submit(blocker(started, release));
        await(started);
        AtomicBoolean interruptKept = new AtomicBoolean();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread closer = parked("closer", () -> {
            try {
                ((AutoCloseable) e).close();
                interruptKept.set(Thread.currentThread().isInterrupted());
            } catch (Throwable x) {
                thrown.set(x);
            }
        });
        closer.interrupt();
        join(closer);
        assertThat(thrown.get()).isNull();
        assertThat(interruptKept).isTrue();
        assertThat(e.isTerminated()).isTrue();
        assertThatThrownBy(() -> f.get(0, SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(InterruptedException.class);
    }

    // ------------------------------------------------------------------ ExecutorCompletionService

    /** ExecutorCompletionServiceTest: take, timed poll, and a mix of callables and runnables with results. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void aCompletionServiceOverTheViewHandsBackEveryCompletedTask(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        java.util.concurrent.CompletionService<String> cs = new java.util.concurrent.ExecutorCompletionService<>(e);
        assertThat(cs.poll()).isNull();
        assertThat(cs.poll(1, MILLISECONDS)).as("nothing submitted: a timed poll times out").isNull();
        List<Future<String>> submitted = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String v = "v" + i;
            submitted.add((i & 1) == 0 ? cs.submit(() -> v) : cs.submit(() -> { }, v));
        }
        List<String> results = new ArrayList<>();
        List<Future<String>> completed = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Future<String> f = i < 2 ? cs.take() : cs.poll(LONG, SECONDS);
            assertThat(f).isNotNull();
            completed.add(f);
            results.add(f.get(0, SECONDS));
        }
        assertThat(results).containsExactlyInAnyOrder("v0", "v1", "v2", "v3");
        assertThat(completed).containsExactlyInAnyOrderElementsOf(submitted);
        assertThat(cs.poll()).isNull();
        e.shutdown();
        assertTerminates(e);
    }

    // ------------------------------------------------------------------ futures of the scheduled view

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = "SCHEDULED_VIEW")
    void aSubmittedTaskOfTheScheduledViewIsAScheduledFutureDueNow(Kind kind) throws Exception {
        ExecutorService e = executor(kind);
        CountDownLatch started = new CountDownLatch(1);
        Collection<Future<?>> fs = List.of(e.submit(blocker(started, release)), e.submit(() -> { }),
                e.submit(() -> { }, "x"));
        for (Future<?> f : fs) {
            assertThat(f).isInstanceOf(ScheduledFuture.class);
            assertThat(((ScheduledFuture<?>) f).getDelay(NANOSECONDS)).isLessThanOrEqualTo(0);
        }
    }
}
