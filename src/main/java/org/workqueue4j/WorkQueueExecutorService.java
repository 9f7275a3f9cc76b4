package org.workqueue4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Delayed;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.internal.WorkerPool;
import org.workqueue4j.internal.WorkqueueStruct;

/**
 * {@link java.util.concurrent.ExecutorService} over a {@link WorkQueue}: each task is a one-shot
 * item (a {@link DelayedWork}, so that the scheduled view can arm it). {@code shutdown} refuses
 * new tasks and concerns only this view's tasks; a view made by {@link WorkQueue#asExecutorService()}
 * shares its queue and never destroys it, a view made by
 * {@link WorkQueue.Builder#buildExecutorService()} owns its queue and destroys it once terminated.
 * {@code shutdownNow} returns exactly the tasks that never started (none of them starts
 * afterwards) and interrupts the running ones. {@code Future.cancel} cancels the item too, also
 * for futures that {@code invokeAny} or an {@code ExecutorCompletionService} wraps.
 */
class WorkQueueExecutorService extends AbstractExecutorService {
    /*
     * Implementation Overview
     *
     * Every accepted task is a TaskWork in `live` until it has finished, or has been taken back
     * (cancelled before it began, or returned by shutdownNow). Its `phase` word decides, with one
     * CAS, which of the worker and a canceller owns it:
     *
     *   WAITING --worker, at start--> RUNNING --end--> DONE        (or back to WAITING: periodic)
     *   WAITING --Future.cancel / shutdownNow / periodic stop--> TAKEN
     *
     * A task is "started" exactly when the worker's CAS WAITING -> RUNNING wins, so shutdownNow
     * (which CASes every WAITING task to TAKEN) returns exactly the tasks that never started, and
     * a worker that took an item off the queue but lost the CAS runs nothing (the engine item is
     * then a no-op). Before the CAS the worker also reads `stopping` (ThreadPoolExecutor's run
     * state re-check before each task): once shutdownNow has begun, no task starts, even one that
     * shutdownNow has not looked at yet; it stays WAITING, and shutdownNow collects it.
     *
     * Interrupts: `runner` is set after the start CAS and cleared before the item returns, both
     * under the item's monitor, and shutdownNow interrupts under that monitor: an interrupt lands
     * while the task runs or not at all, and the worker clears it before it moves on. A runner
     * set after shutdownNow's interrupt pass reads `stopping` (set before that pass, and ordered
     * by the monitor) and interrupts itself.
     *
     * Periodic tasks (the scheduled view) go back to WAITING and re-arm their own DelayedWork
     * after each run. shutdown() sets `shutdown`, then takes every WAITING periodic task; the
     * worker sets WAITING, then reads `shutdown`: both are volatile, so at least one of them sees
     * the other (Dekker), and the task is taken by whichever CAS wins. A running periodic task
     * is left to its worker (its future is not done before the run ends, as in
     * ScheduledThreadPoolExecutor).
     *
     * Whoever takes a task (WAITING -> TAKEN) cancels its item; an arming (enqueue, the periodic
     * re-arm) that the taker's cancel preceded re-reads the phase afterwards and cancels the item
     * itself (disarmIfTaken), so no taken task stays armed on the timer.
     *
     * Futures made by newTaskFor are remembered per thread until execute() receives them or a
     * wrapper of them (ExecutorCompletionService, and so invokeAny, wraps the future it got from
     * newTaskFor and passes the wrapper to execute on the same thread): the wrapper becomes the
     * item's body, and cancelling the future still cancels the item.
     */

    static final int WAITING = 0;
    static final int RUNNING = 1;
    static final int DONE = 2;
    static final int TAKEN = 3;

    private static final VarHandle PHASE;

    static {
        try {
            PHASE = MethodHandles.lookup().findVarHandle(TaskWork.class, "phase", int.class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e); // the JVM wraps it in ExceptionInInitializerError (named here, the verifier would load it at start-up)
        }
    }

    /** The future newTaskFor made on this thread, until execute() queues it (or its wrapper). */
    private static final ThreadLocal<ViewFuture<?>> UNQUEUED = new ThreadLocal<>();

    final WorkQueue queue;
    private final boolean ownsQueue;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition terminatedCond = lock.newCondition();
    /** Tasks accepted and neither finished nor taken back; added under lock. */
    private final Set<TaskWork> live = ConcurrentHashMap.newKeySet();
    /** Written under lock; volatile: the worker's periodic re-arm reads it lock-free (see above). */
    private volatile boolean shutdown;
    /** The owned queue's destroy was queued (see tryTerminate); guarded by lock. */
    private boolean destroyQueued;
    private boolean terminated; // guarded by lock
    /** shutdownNow has begun; volatile: read by workers before each task start. */
    private volatile boolean stopping;
    /**
     * Breaks ties between futures due at the same time, of every view (static, as
     * ScheduledThreadPoolExecutor's sequencer): two futures of two views never compare equal.
     */
    private static final AtomicLong SEQUENCE = new AtomicLong();

    WorkQueueExecutorService(WorkQueue queue, boolean ownsQueue) {
        this.queue = queue;
        this.ownsQueue = ownsQueue;
        // What a first execute/submit/schedule initializes (FutureTask and DelayedWork behind
        // them, the task-naming holder): here, not on a caller at the end of its stack.
        initialize(TaskWork.class, ViewFuture.class);
        WorkQueue.initializeHolders();
    }

    /**
     * Initializes {@code classes} of this package now, on this thread. For the classes an
     * operation would otherwise first initialize on a user's thread, perhaps at the very end of
     * its stack: a StackOverflowError that strikes a class's initialization marks the class
     * failed for the JVM's life (JVMS 5.5), and every later use of it throws
     * NoClassDefFoundError (FirstUseOverflowTest). Here, not in WorkQueues: its catch would make
     * the verifier load two exception classes from the runtime image on every first create().
     */
    private static void initialize(Class<?>... classes) {
        java.lang.invoke.MethodHandles.Lookup lookup = java.lang.invoke.MethodHandles.lookup();
        for (Class<?> c : classes) {
            try {
                lookup.ensureInitialized(c);
            } catch (IllegalAccessException e) {
                throw new AssertionError(e); // classes of this package, to this package's lookup
            }
        }
    }

    /**
     * The {@link RejectedExecutionException} for a refusal by the queue, typed as
     * RuntimeException: WorkQueue.execute throws it, and an athrow of the exception's own type
     * there would make the verifier load it (not in the JDK's CDS archive) on every first
     * queue's path.
     *
     * @return a RejectedExecutionException with the refusal's message and cause
     */
    static RuntimeException rejected(IllegalStateException refusal) {
        return new RejectedExecutionException(refusal.getMessage(), refusal);
    }

    /** {@code t.getMessage()}, or its class name if that throws (a user's exception, an injected Error). */
    static @Nullable String messageOf(Throwable t) {
        try {
            return t.getMessage();
        } catch (Throwable e) {
            return t.getClass().getName() + " (its getMessage() threw " + e.getClass().getName() + ")";
        }
    }

    /** The item of one task. */
    final class TaskWork extends DelayedWork {
        /** What runs: the user's runnable, the future, or a wrapper of the future. Set before queueing. */
        Runnable body;
        /** The future of this task, or null for a task given to execute() directly. */
        final @Nullable ViewFuture<?> future;
        @SuppressWarnings("unused") // accessed through PHASE
        private volatile int phase;
        private @Nullable Thread runner; // guarded by this

        /** The user's task (a Runnable or Callable): its class is this item's lock class. */
        private final Object task;

        TaskWork(String name, Object task, Runnable body, @Nullable ViewFuture<?> future) {
            super(name, body);
            this.task = task;
            this.body = body;
            this.future = future;
        }

        @Override
        Object lockClassSource() {
            return task;
        }

        boolean casPhase(int expect, int update) {
            return PHASE.compareAndSet(this, expect, update); // volatile CAS: one owner per task
        }

        @Override
        protected void execute() {
            runTask(this);
        }

        /**
         * The engine will never run this task (its queue was destroyed with it armed, or refused
         * its expiry): taken as {@link #failStranded} takes a stranded task, its future fails
         * with the refusal, and the view stops counting it (so a shut-down view terminates).
         * On the reporting thread (a destroyer, the timer), no engine lock held. The failure is
         * built before the take: once TAKEN, nothing else completes the future (failStranded
         * takes WAITING tasks only), so nothing that can throw comes between the take and the
         * future's completion, and the view stops counting the task whatever happens.
         */
        @Override
        void neverRuns(Throwable reason) {
            Throwable failure = reason; // the refusal itself if its description cannot be built
            try {
                failure = new IllegalStateException("queue '" + queue.name() + "' never ran task '" + name() + "': "
                        + messageOf(reason), reason);
            } catch (Throwable cannotBuild) { // an allocation failure, an overflow: the future fails with the reason
            }
            if (!casPhase(WAITING, TAKEN)) {
                return; // taken back, cancelled or running elsewhere: its owner finishes it
            }
            try {
                if (future != null) {
                    future.fail(failure);
                    runWrapperOfEnded(this); // a completion service (and so invokeAny) receives the failed future
                }
            } finally {
                finished(this); // the item is idle already: nothing to take back from the queue
            }
        }

        /** A task this view took (TAKEN) whose cancel threw: its future fails with that throw. */
        void failTaken(Throwable why) {
            if (future != null) {
                future.fail(why);
            }
        }

        synchronized void setRunner(@Nullable Thread t) {
            runner = t;
        }

        synchronized void interruptIfRunning() {
            if (runner != null) {
                runner.interrupt();
            }
        }
    }

    /**
     * The future of a task: cancelling it cancels the item. It is a {@link RunnableScheduledFuture}
     * so that the scheduled view can hand it out; for plain tasks the delay is the time since
     * submission (negative).
     */
    final class ViewFuture<V> extends FutureTask<V> implements RunnableScheduledFuture<V> {
        final TaskWork work;
        /** System.nanoTime() of the (next) run; volatile: the worker advances it, any thread reads it. */
        private volatile long time;
        /** 0: one-shot; positive: fixed rate; negative: fixed delay (as ScheduledThreadPoolExecutor). */
        private final long period;
        private final long seq = SEQUENCE.incrementAndGet();

        ViewFuture(Callable<V> callable, Object task, long delayNanos, long period) {
            super(callable);
            this.time = System.nanoTime() + delayNanos;
            this.period = period;
            this.work = new TaskWork(queue.taskName(task), task, this, this);
        }

        ViewFuture(Runnable runnable, @Nullable V result, long delayNanos, long period) {
            super(runnable, result);
            this.time = System.nanoTime() + delayNanos;
            this.period = period;
            this.work = new TaskWork(queue.taskName(runnable), runnable, this, this);
        }

        WorkQueueExecutorService view() {
            return WorkQueueExecutorService.this;
        }

        @Override
        public boolean isPeriodic() {
            return period != 0;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(time - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        long delayNanos() {
            return Math.max(0, time - System.nanoTime());
        }

        @Override
        public int compareTo(Delayed other) {
            if (other == this) {
                return 0;
            }
            if (other instanceof ViewFuture<?> x) {
                long diff = time - x.time;
                return diff < 0 ? -1 : diff > 0 ? 1 : Long.compare(seq, x.seq);
            }
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }

        /** Runs one period; true if the task is to run again (its next time is then set). */
        boolean runPeriod() {
            if (!runAndReset()) {
                return false; // threw (the future holds the exception) or was cancelled
            }
            time = period > 0 ? time + period : System.nanoTime() - period;
            return true;
        }

        @Override
        public void run() {
            if (isPeriodic()) {
                runPeriod();
            } else {
                super.run();
            }
        }

        /**
         * As FutureTask's; a wait (the task not done yet) is first recorded for the validator as
         * a flush of the task's item ({@link WorkqueueStruct#annotateItemWait}): a get() under a
         * lock that the task takes is predicted, and under THROW refused before it blocks.
         */
        @Override
        public V get() throws InterruptedException, java.util.concurrent.ExecutionException {
            if (!isDone()) {
                queue.engine().annotateItemWait(work.node);
            }
            return super.get();
        }

        /** As {@link #get()}, with FutureTask's bound. */
        @Override
        public V get(long timeout, TimeUnit unit)
                throws InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
            if (!isDone() && unit.toNanos(timeout) > 0) { // no time to wait: no wait to record
                queue.engine().annotateItemWait(work.node);
            }
            return super.get(timeout, unit);
        }

        void fail(Throwable t) {
            setException(t);
        }

        /** Completes the future as cancelled, without interrupt and without taking the task back: the caller took it. */
        void cancelTaken() {
            super.cancel(false);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            probeAtEntry(); // before the future's state changes: takeBack takes the lock below
            boolean r = super.cancel(mayInterruptIfRunning);
            if (r) {
                takeBack(work);
            }
            return r;
        }

        @Override
        public String toString() {
            return work.name();
        }
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
        return remember(new ViewFuture<>(runnable, value, 0, 0));
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
        return remember(new ViewFuture<>(callable, callable, 0, 0));
    }

    private <T> ViewFuture<T> remember(ViewFuture<T> f) {
        UNQUEUED.set(f);
        return f;
    }

    /**
     * As {@link AbstractExecutorService}'s; then forgets the future made last on this thread.
     * This variant makes every future before it executes any, and one that the deadline (or a
     * null task, or a rejection) leaves unexecuted would otherwise stay reachable from the
     * calling thread, and with it this view, its queue and its runtime.
     *
     * @throws InterruptedException if interrupted while waiting (unfinished tasks are cancelled)
     * @throws NullPointerException if {@code tasks}, any of its elements, or {@code unit} is null
     * @throws java.util.concurrent.RejectedExecutionException if any task cannot be accepted
     */
    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        try {
            return super.invokeAll(tasks, timeout, unit);
        } finally {
            UNQUEUED.remove();
        }
    }

    /**
     * As {@link AbstractExecutorService}'s. When every task is of one class (the lock class of
     * their items), the wait is first recorded for the validator as a {@code get()} of one of
     * their futures is (a flush of the task's item): an {@code invokeAny} under a lock that its
     * tasks take is predicted, and under THROW refused before anything is queued. Tasks of
     * several classes: not recorded (it waits for any one of them, and a dependency of one
     * says nothing of the others).
     *
     * @throws NullPointerException     if {@code tasks} or any of its elements is null
     * @throws IllegalArgumentException if {@code tasks} is empty
     */
    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks)
            throws InterruptedException, java.util.concurrent.ExecutionException {
        annotateAnyWait(tasks);
        return super.invokeAny(tasks);
    }

    /**
     * As {@link #invokeAny(Collection)}, with {@link AbstractExecutorService}'s bound; with no
     * time to wait (zero or less) no wait is recorded.
     *
     * @throws NullPointerException     if {@code tasks}, any of its elements, or {@code unit} is null
     * @throws IllegalArgumentException if {@code tasks} is empty
     */
    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        if (unit != null && unit.toNanos(timeout) > 0) {
            annotateAnyWait(tasks);
        }
        return super.invokeAny(tasks, timeout, unit);
    }

    /** Records an invokeAny's wait as a get() of its first task's future, if all its tasks share one class. */
    private void annotateAnyWait(@Nullable Collection<? extends Callable<?>> tasks) {
        if (tasks == null) {
            return; // AbstractExecutorService throws
        }
        Callable<?> first = null;
        for (Callable<?> t : tasks) {
            if (t == null || (first != null && t.getClass() != first.getClass())) {
                return; // a null: refused before anything runs; several classes: not recorded
            }
            if (first == null) {
                first = t;
            }
        }
        if (first != null) {
            // A stand-in item of the tasks' lock class, named for the wait: not queue.taskName(),
            // which would call the task's toString() and use up a task number.
            queue.engine().annotateItemWait(new TaskWork(queue.name() + "/invokeAny", first, () -> { }, null).node);
        }
    }

    /**
     * Queues a one-shot task, or a future of this view (or a wrapper of the future this view
     * made last on the calling thread, as ExecutorCompletionService passes).
     *
     * @throws RejectedExecutionException if this view is shut down or its queue destroyed
     * @throws NullPointerException       if {@code command} is null
     */
    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        ViewFuture<?> made = UNQUEUED.get();
        if (made != null) {
            UNQUEUED.remove();
        }
        TaskWork w;
        if (command instanceof WorkQueueExecutorService.ViewFuture<?> f && f.view() == this) {
            w = f.work;
            if (live.contains(w) || f.isDone()) {
                // Accepted already (or over): a future of this view runs at most once. But a view
                // shut down, or whose queue is destroyed, accepts nothing, its own futures included
                // (a ThreadPoolExecutor rejects them too).
                if (shutdown) { // volatile read
                    throw shutDownRefusal(w);
                }
                if (queue.isDestroyed()) {
                    throw new RejectedExecutionException("queue '" + queue.name() + "' is destroyed; task '"
                            + w.name() + "' rejected");
                }
                return;
            }
        } else if (made != null && made.view() == this && command instanceof FutureTask<?> && !made.work.isPending()
                && !made.isDone()) {
            w = made.work; // a wrapper of our future (ExecutorCompletionService.QueueingFuture)
            w.body = command;
        } else {
            w = new TaskWork(queue.taskName(command), command, command, null);
        }
        enqueue(w, 0);
    }

    private RejectedExecutionException shutDownRefusal(TaskWork w) {
        return new RejectedExecutionException("executor of queue '" + queue.name() + "' is shut down; task '"
                + w.name() + "' rejected");
    }

    /** Accepts {@code w} and queues it after {@code delayNanos}. */
    final void enqueue(TaskWork w, long delayNanos) {
        // An overflow between `live.add` and the catch's finished(w) (or inside either) would
        // leave the task counted live, never queued: the view would never terminate. Probed
        // here, it strikes before anything changed.
        WorkerPool.probeStack();
        TestHooks.at("executor.enqueue", w);
        lock.lock();
        try {
            if (shutdown) {
                throw shutDownRefusal(w);
            }
            // Under the lock, against a concurrent execute() of the same future: its check in
            // execute() is advisory; this one decides. A task runs at most once.
            if ((int) PHASE.getVolatile(w) != WAITING || !live.add(w)) {
                return; // accepted already, or over (run or taken back)
            }
        } finally {
            lock.unlock();
        }
        try {
            TestHooks.at("executor.accepted", w);
            queue.queueDelayedNanos(-1, w, delayNanos);
            disarmIfTaken(w); // a shutdownNow since live.add returned it: it cancelled nothing yet
        } catch (Throwable e) { // IllegalStateException: the queue was destroyed under the view
            boolean mine = w.casPhase(WAITING, TAKEN);
            if (!mine && stopping) {
                return; // a concurrent shutdownNow took it back and returned it
            }
            if (mine) {
                finished(w); // accepted, then not queued: never left in `live`
            } // else a shutdown that found the queue destroyed took it (failStranded): it is refused here
            if (e instanceof IllegalStateException) {
                throw rejected((IllegalStateException) e);
            }
            throw e;
        }
    }

    /** The worker's side of a task; see the overview. */
    private void runTask(TaskWork w) {
        if (stopping || !w.casPhase(WAITING, RUNNING)) {
            return; // shutdownNow returns (or returned) it, or it was cancelled: it never starts
        }
        w.setRunner(Thread.currentThread());
        boolean again = false;
        try {
            if (stopping) {
                Thread.currentThread().interrupt(); // shutdownNow's interrupt pass may have missed us
            }
            ViewFuture<?> f = w.future;
            if (f != null && f.isPeriodic()) {
                again = f.runPeriod();
            } else {
                w.body.run();
            }
        } finally {
            w.setRunner(null);
            Thread.interrupted(); // an interrupt aimed at this task must not leak to the next item
            afterRun(w, again);
        }
    }

    private void afterRun(TaskWork w, boolean again) {
        if (!again) {
            PHASE.setVolatile(w, DONE);
            finished(w);
            return;
        }
        ViewFuture<?> f = Objects.requireNonNull(w.future, "a periodic task has its future");
        PHASE.setVolatile(w, WAITING); // volatile: then read `shutdown` (Dekker with shutdown())
        boolean armed = false;
        if (!shutdown) {
            try {
                TestHooks.at("executor.rearm", w);
                queue.rearmPeriodic(w, f.delayNanos()); // re-armed in place: no allocation
                armed = true;
            } catch (Throwable destroyedOrWorse) { // IllegalStateException: the queue was destroyed
                f.fail(destroyedOrWorse); // the task ends; it is not left waiting unarmed
            }
        }
        if ((!armed || shutdown || f.isDone()) && w.casPhase(WAITING, TAKEN)) {
            // This worker ends the task, only if it takes it: a shutdownNow() that took it first
            // returns it uncancelled (finishTaken and disarmIfTaken end its item), and before,
            // this cancelled the future shutdownNow() had just handed back. Cancelled first, then
            // no longer counted: the count's end may terminate the view, and a caller whose
            // awaitTermination() returned true must find the future done.
            if (!f.isDone()) {
                f.cancelTaken(); // not run again because of shutdown: cancelled, as ScheduledThreadPoolExecutor does
            }
            endTaken(w); // failed or cancelled elsewhere: ended here
        }
        if (armed) {
            disarmIfTaken(w); // a cancel or shutdown between WAITING and the arming cancelled nothing yet
        }
    }

    /**
     * After arming {@code w}'s item: whoever took {@code w} back (WAITING -> TAKEN) cancels the
     * item, but if it did so before this arming, the item would stay armed for its whole delay,
     * holding the task (and an owning view's destroy would report it). Volatile read after the
     * arming's volatile claim of the item: either it sees TAKEN, or the taker's CAS comes after
     * it and the taker's cancel sees the item armed (Dekker). A TAKEN task never runs again, so
     * a second cancel is harmless.
     */
    private static void disarmIfTaken(TaskWork w) {
        if ((int) PHASE.getVolatile(w) == TAKEN) {
            w.cancel();
        }
    }

    /**
     * Takes the view's lock on a caller's thread: probes the stack first, as the engine's
     * caller-side locks do (WorkerPool.lockFromCaller). A StackOverflowError inside the JDK's
     * acquisition is delivered after the lock was taken, before the caller's {@code try}: the
     * lock would stay held by a thread that never releases it, and every later shutdown,
     * awaitTermination or task end of this view would wait for it for good. Only at the entry
     * of an operation, before it changed anything: on the way from a state change to its
     * commit or undo (finished, tryTerminate) a probe would itself throw half-way (see
     * {@link #probeAtEntry}).
     */
    private void lockFromCaller() {
        WorkerPool.probeStack();
        lock.lock();
    }

    /**
     * The stack probe at the entry of a caller-side operation that changes a task's phase or
     * the run state and then takes the lock a frame or two deeper (finished, markShutdown): an
     * overflow strikes here, with nothing changed, rather than between the change and the
     * release. What is left half-way by an overflow that still strikes later (in the engine's
     * own, deeper probes inside {@code Work.cancel}) is a task TAKEN but still counted live:
     * the next shutdown or shutdownNow finishes it ({@link #finishTaken}).
     */
    private static void probeAtEntry() {
        WorkerPool.probeStack();
    }

    /** Takes a task that has not started (this period) back off the queue, if nobody else did. */
    private void takeBack(TaskWork w) {
        if (w.casPhase(WAITING, TAKEN)) {
            endTaken(w);
        }
    }

    /** Ends a task the caller took (WAITING -> TAKEN) whose future is done: its item, its wrapper, its count. */
    private void endTaken(TaskWork w) {
        w.cancel(); // off the worklist or the timer; false if a worker took it (it then runs nothing)
        try {
            runWrapperOfEnded(w);
        } finally {
            finished(w); // after the wrapper's run: the view terminates only once it is delivered
        }
    }

    /**
     * A wrapper of a task's future (ExecutorCompletionService's QueueingFuture) that will now
     * never run on a worker, the future being done (cancelled, or failed because the task never
     * runs): run here, as a ThreadPoolExecutor's worker runs a cancelled task's wrapper. The
     * future is done, so the run only completes the wrapper: the completion service receives
     * the future (and an invokeAny waiting on it sees every task end). What it throws (a full
     * completion queue) is reported to the uncaught-work handler, as a worker would report it,
     * not to the canceller.
     */
    private void runWrapperOfEnded(TaskWork w) {
        Runnable wrapper = w.body;
        if (w.future == null || wrapper == w.future || !w.future.isDone()) {
            return;
        }
        try {
            wrapper.run();
        } catch (RuntimeException | Error e) {
            queue.engine().reportFailure(w.node, e);
        }
    }

    /**
     * Cancels the item of, and stops counting, every TAKEN task still counted live: the ones
     * this caller took, and any that a taker cut short by an overflow left behind (a taker
     * that is merely slower does the same: both steps are idempotent).
     */
    private void finishTaken() {
        Throwable failure = null;
        List<TaskWork> taken = new ArrayList<>();
        for (TaskWork w : live) {
            if ((int) PHASE.getVolatile(w) == TAKEN) {
                taken.add(w);
                try {
                    w.cancel();
                } catch (RuntimeException | Error e) {
                    if (failure == null) {
                        failure = e;
                    }
                } finally {
                    finished(w);
                }
            }
        }
        if (failure == null) {
            return;
        }
        // The caller gets this throw, not the list of tasks that never started: every task this
        // call took has its future failed with it (its taker, this call, finishes them all; a
        // future cancelled or done already stays as it is), each taken task still cancelled and
        // counted above.
        for (TaskWork w : taken) {
            w.failTaken(failure);
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        throw (Error) failure;
    }

    /** The lock is taken without a probe: this is the commit or undo of a change (see lockFromCaller). */
    private void finished(TaskWork w) {
        lock.lock();
        try {
            if (live.remove(w)) {
                tryTerminate();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lock held. Terminated once shut down with no task left (as a {@code ThreadPoolExecutor}: no
     * wait for anything else). Then a view that owns its queue has it destroyed, from a system
     * queue's worker (never from its own item, whose run may not have ended yet), as the clean-up
     * that follows termination: it waits for no worker of its own, and a runtime closing
     * destroys the queue itself. Nothing here probes or takes another lock of this view: a throw
     * (an overflow in the system queue's {@code queue}) leaves {@code destroyQueued} unset, and
     * the next shutdown, shutdownNow or awaitTermination tries again.
     */
    private void tryTerminate() {
        if (!shutdown || !live.isEmpty()) {
            return;
        }
        if (!terminated) {
            terminated = true;
            terminatedCond.signalAll();
        }
        if (!ownsQueue || destroyQueued || queue.isSystem() || queue.isDestroyed() || queue.runtime().isClosing()) {
            return;
        }
        WorkQueue sys;
        try {
            sys = queue.runtime().systemUnbound(); // made on first use: refused once the runtime is closed
        } catch (IllegalStateException closed) {
            return; // closed since the check above: close() destroys the queue itself
        }
        if (sys == queue) {
            return;
        }
        destroyQueued = true;
        try {
            // Not annotated: see WorkqueueStruct.destroyUnannotated. A failure is the item's,
            // reported as any item's; the queue is then left to the runtime's close().
            sys.queue(new Work("destroy/" + queue.name(), queue::destroyOwned));
        } catch (IllegalStateException closing) {
            // runtime closing: it destroys the queue itself
        } catch (Throwable e) {
            destroyQueued = false; // queued nothing (queue() fails before it changes anything)
            throw e;
        }
    }

    /** Sets the shutdown state; false if it was set already. The caller probed the stack. */
    private boolean markShutdown() {
        lock.lock();
        try {
            if (shutdown) {
                return false;
            }
            shutdown = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** tryTerminate under the lock; the caller probed the stack. */
    private void lockAndTryTerminate() {
        lock.lock();
        try {
            tryTerminate();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Refuses new tasks. Tasks already accepted run, delayed ones at their time; periodic tasks
     * are cancelled (ScheduledThreadPoolExecutor's default policies): a waiting one at once, a
     * running one once its current run has ended (its future is not done before). The queue
     * itself is destroyed only by a view that owns it, once the last task finished. A task that
     * its queue will never run (the queue destroyed under this view while the task was armed, or
     * its expiry refused by a draining or closed queue) fails with an
     * {@link IllegalStateException} when that happens, whether before or after this call, and
     * no longer keeps the view from terminating.
     */
    @Override
    public void shutdown() {
        probeAtEntry();
        boolean first = markShutdown();
        if (queue.isDestroyed()) {
            failStranded();
        }
        if (first) {
            for (TaskWork w : live) {
                ViewFuture<?> f = w.future;
                if (f != null && f.isPeriodic() && w.casPhase(WAITING, TAKEN)) {
                    // A running one is the worker's: afterRun reads `shutdown` and cancels it.
                    f.cancelTaken(); // no probe between the take and finishTaken below
                }
            }
        }
        finishTaken();
        lockAndTryTerminate();
    }

    /**
     * The queue was destroyed under this view (a view never destroys a queue it does not own):
     * a task still waiting can never run, its armed item having been cancelled and reported by
     * the destroy. It is told so as the destroy tells it ({@link TaskWork#neverRuns}: its
     * future fails and the view stops counting it), so that neither its getters nor this view's
     * termination wait for it for good. The destroy has told each such task already; this
     * shutdown-time check stays for a task that was not told.
     */
    private void failStranded() {
        for (TaskWork w : live) {
            if ((int) PHASE.getVolatile(w) == WAITING) { // a filter only: neverRuns takes it by CAS
                w.neverRuns(new IllegalStateException("queue '" + queue.name() + "' was destroyed while the task waited to run"));
            }
        }
    }

    /**
     * Refuses new tasks, takes back every task that has not started (none of them starts
     * afterwards) and interrupts every running one.
     *
     * @return the tasks that never started: the runnables given to {@code execute}, the futures
     *         of submitted or scheduled tasks (not cancelled), in no particular order
     */
    @Override
    public List<Runnable> shutdownNow() {
        probeAtEntry();
        stopping = true; // first: from now on no task starts
        markShutdown();
        List<Runnable> never = new ArrayList<>();
        for (TaskWork w : live) {
            if (w.casPhase(WAITING, TAKEN)) {
                never.add(w.body);
            }
        }
        for (TaskWork w : live) {
            w.interruptIfRunning();
        }
        finishTaken();
        lockAndTryTerminate();
        return never;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        lockFromCaller();
        try {
            return terminated;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until terminated or the timeout elapses. Interruptible.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        if (!terminated && nanos > 0) { // a racy read: at worst one record too many, never a wait unrecorded
            queue.engine().annotateItemsWait(); // waits for this view's tasks: items of the queue (see annotateItemsWait)
        }
        lockFromCaller();
        try {
            tryTerminate(); // completes a termination an overflow cut short (see tryTerminate)
            while (!terminated) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = terminatedCond.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + queue.name() + (stopping ? ", stopped" : shutdown ? ", shut down" : "")
                + ", tasks=" + live.size() + "]";
    }
}
