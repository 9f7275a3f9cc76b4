package org.workqueue4j;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;

import org.workqueue4j.internal.Pending;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.internal.TimerQueue;
import org.workqueue4j.internal.WorkNode;
import org.workqueue4j.internal.WorkqueueStruct;
import org.jspecify.annotations.Nullable;

/**
 * A workqueue (kernel {@code workqueue_struct}): runs {@link Work} items on the worker pools of
 * its {@link WorkQueues} runtime. Build one with {@link #builder(String)}; destroy it with
 * {@link #destroy()} (or try-with-resources).
 *
 * <pre>{@code
 * try (WorkQueue q = WorkQueue.builder("refresh").build()) {
 *     Work w = new Work("refresh-cache", cache::refresh);
 *     q.queue(w);          // true: now pending
 *     q.queue(w);          // false: already pending, collapses into the same run
 *     q.flush();           // waits for everything queued before this call
 * }
 * }</pre>
 *
 * <p>Kinds: per-CPU (the default: one pool per CPU, concurrency managed), {@code unbound()},
 * {@code ordered()} (one item at a time, strict FIFO). {@code maxActive} limits the items
 * running at once per CPU (per-CPU queues) or in all (unbound).
 *
 * <p>A {@code WorkQueue} is an {@link Executor}: {@link #execute(Runnable)} queues a one-shot
 * item. {@link #asExecutorService()} adapts it to a full {@link ExecutorService}.
 *
 * <p>Thread-safe: every method may be called from any thread, including from work items running on
 * this queue (except the waits that would wait for themselves, which throw).
 */
public final class WorkQueue implements Executor, AutoCloseable {
    /** Kernel WQ_DFL_ACTIVE: what maxActive 0 means. */
    public static final int DEFAULT_MAX_ACTIVE = 1024;
    /** Kernel WQ_MAX_ACTIVE. */
    public static final int MAX_ACTIVE = 2048;


    private final WorkQueues runtime;
    private final WorkqueueStruct wq;
    private final boolean ordered;
    private final boolean unbound;
    private final boolean system;
    /** Serializes setMaxActive, which updates the pwqs one by one. */
    private final Object maxActiveLock = new Object();
    /** Numbers the tasks of execute() and the executor views that have no name of their own. */
    private final AtomicLong taskSeq = new AtomicLong();
    /**
     * Initializes the task-naming holder, and the JDK's ClassValue machinery behind it, now (see
     * WorkQueueExecutorService#initialize): for an executor view, whose first task would otherwise do
     * it on a user's thread.
     */
    static void initializeHolders() {
        Named.NAMED.get(Runnable.class);
    }

    /** Whether a class overrides Object.toString (a lambda or a plain class does not). */
    private static final class Named { // a holder: only task names need it, not every queue's start-up
        static final ClassValue<Boolean> NAMED = new ClassValue<>() {
            @Override
            protected Boolean computeValue(Class<?> type) {
                try {
                    return !type.isHidden() && type.getMethod("toString").getDeclaringClass() != Object.class;
                } catch (NoSuchMethodException impossible) {
                    return false;
                }
            }
        };
    }

    private WorkQueue(Builder b, WorkQueues runtime) {
        this(runtime, b.name, flags(b), b.ordered ? 1 : clampMaxActive(b.name, b.maxActive, true), b.lockClass, false);
    }

    /** {@code flags}: the engine's {@code WorkqueueStruct.WQ_*} (ordered implies unbound). */
    private WorkQueue(WorkQueues runtime, String name, int flags, int maxActive, @Nullable LockClassKey lockClass, boolean system) {
        this.runtime = runtime;
        this.ordered = (flags & WorkqueueStruct.WQ_ORDERED) != 0;
        this.unbound = (flags & WorkqueueStruct.WQ_UNBOUND) != 0;
        this.system = system;
        this.wq = runtime.engine().newQueue(this, name, flags, maxActive, lockClass);
    }

    private static int flags(Builder b) {
        boolean unbound = b.unbound || b.ordered;
        return (unbound ? WorkqueueStruct.WQ_UNBOUND : 0) | (b.ordered ? WorkqueueStruct.WQ_ORDERED : 0)
                | (b.highPri ? WorkqueueStruct.WQ_HIGHPRI : 0) | (b.cpuIntensive ? WorkqueueStruct.WQ_CPU_INTENSIVE : 0)
                | (b.memReclaim ? WorkqueueStruct.WQ_MEM_RECLAIM : 0) | (b.freezable ? WorkqueueStruct.WQ_FREEZABLE : 0);
    }

    /**
     * A system queue ({@code WorkQueues.system()} and its siblings), made without a
     * {@link Builder}: one class less to load on the way to a runtime's first item.
     *
     * @param flags     the engine's {@code WorkqueueStruct.WQ_*} flags
     * @param maxActive in [1, MAX_ACTIVE]
     */
    static WorkQueue createSystem(WorkQueues runtime, String name, int flags, int maxActive) {
        return new WorkQueue(runtime, name, flags, maxActive, null, true);
    }

    /**
     * Kernel wq_clamp_max_active for the values a caller can mean: 0 is the default when
     * building (alloc_workqueue) and is clamped to 1 with a warning when changing
     * (workqueue_set_max_active); more than 2048 is clamped with a warning. A negative count
     * means nothing: it is bad input.
     *
     * @param zeroIsDefault true at build time, false for setMaxActive
     * @throws IllegalArgumentException if {@code n} is negative
     */
    static int clampMaxActive(String name, int n, boolean zeroIsDefault) {
        if (n < 0) {
            throw new IllegalArgumentException("max_active " + n + " for queue '" + name
                    + "' is negative (0 means the default " + DEFAULT_MAX_ACTIVE + " when building, at most "
                    + MAX_ACTIVE + ")");
        }
        if (n == 0 && zeroIsDefault) {
            return DEFAULT_MAX_ACTIVE;
        }
        if (n == 0 || n > MAX_ACTIVE) {
            org.workqueue4j.internal.Log.logFormat(Level.WARNING, "workqueue: max_active {0} requested for {1} is out of range, clamping between 1 and {2}",
                    String.valueOf(n), name, String.valueOf(MAX_ACTIVE)); // strings: MessageFormat would print "5,000"
            return n == 0 ? 1 : MAX_ACTIVE;
        }
        return n;
    }

    /**
     * Starts building a queue named {@code name}.
     *
     * @param name the queue name, shown in dumps and reports; not blank
     * @return a builder for a queue of that name
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** {@return the queue's name} */
    public String name() {
        return wq.name();
    }

    /** {@return the runtime this queue belongs to} */
    public WorkQueues runtime() {
        return runtime;
    }

    /** {@return the current max_active} */
    public int maxActive() {
        return wq.maxActive();
    }

    /**
     * {@return true if the queue runs one item at a time in FIFO order (built with {@link Builder#ordered()})}
     */
    public boolean isOrdered() {
        return ordered;
    }

    /** {@return true if unbound pools serve the queue (built with {@link Builder#unbound()})} */
    public boolean isUnbound() {
        return unbound;
    }

    /**
     * True once an item was queued here (tracked only while lock validation is on; it decides
     * whether flush, drain and destroy annotate under {@link FlushAnnotation#SKIP_NEVER_USED}).
     *
     * @return true once an item was queued while validation was on
     */
    public boolean wasUsed() {
        return wq.wasUsed();
    }

    /** {@return true once {@link #destroy()} has finished} */
    public boolean isDestroyed() {
        return wq.isDestroyed();
    }

    WorkqueueStruct engine() {
        return wq;
    }

    boolean isSystem() {
        return system;
    }

    // ------------------------------------------------------------------------------- queueing

    /**
     * Queues {@code work} on the calling thread's CPU (kernel {@code queue_work}).
     *
     * @param work the item to queue; not null
     * @return false if the item was already pending on this queue (or is disabled, which
     *         includes while a {@link Work#cancelSync()} of it is in progress), true if it
     *         was queued
     * @throws IllegalStateException if this queue is destroyed, or draining and the caller is
     *                               not one of its own items (the item is then not pending); if
     *                               the item is pending on another queue, or runs on another
     *                               queue (of any runtime) right now; if it is a
     *                               {@link DelayedWork} whose timer is armed (use
     *                               {@link #modDelayed}). The item's state is then unchanged.
     * @throws NullPointerException  if {@code work} is null
     */
    public boolean queue(Work work) {
        return queueOnChecked(-1, work);
    }

    /**
     * Queues {@code work} on the pool of CPU {@code cpu} (kernel {@code queue_work_on}). For
     * unbound queues the CPU is checked but any worker may run the item.
     *
     * @param cpu the CPU whose pool runs the item, in [0, cpus)
     * @param work the item to queue; not null
     * @return false if the item was already pending (or is disabled), true if it was queued
     * @throws IllegalArgumentException if {@code cpu} is not in [0, cpus)
     */
    public boolean queueOn(int cpu, Work work) {
        checkCpu(cpu, work);
        return queueOnChecked(cpu, work);
    }

    private boolean queueOnChecked(int cpu, Work work) {
        if (work == null) {
            throw new NullPointerException("work queued on '" + name() + "'");
        }
        if (!wq.queue(cpu, work.node)) {
            wq.checkPendingHere(work.node, true);
            return false;
        }
        return true;
    }

    /*
     * `work` is typed Object so that a DelayedWork passed here is no subtype check for the
     * verifier: verifying this class then does not load DelayedWork, which a runtime that never
     * queues delayed work does not need (each class from the jar costs about half a millisecond
     * at start-up).
     */
    private void checkCpu(int cpu, Object work) {
        if (cpu < 0 || cpu >= runtime.cpus()) {
            throw new IllegalArgumentException("cpu " + cpu + " out of range [0, " + runtime.cpus()
                    + ") for work '" + (work == null ? "null" : ((Work) work).name()) + "' on queue '" + name() + "'");
        }
    }

    /**
     * Queues {@code work} after {@code delay} (kernel {@code queue_delayed_work}). A zero delay
     * queues it now.
     *
     * @param delay how long from now; zero queues it at once; not negative
     * @param work the item to arm; not null
     * @return false if it was already pending on this queue
     * @throws IllegalArgumentException if the delay is negative or longer than 292 years
     * @throws IllegalStateException    if this queue is destroyed, or the item is pending on
     *                                  another queue or runs on another queue right now, or
     *                                  (for the runtime's first delayed item) the thread
     *                                  factory's timer thread ended without running the
     *                                  {@code Runnable} it was given; the item's state is then
     *                                  unchanged
     */
    public boolean queueDelayed(DelayedWork work, Duration delay) {
        return queueDelayedChecked(-1, work, delay);
    }

    /**
     * {@link #queueDelayed} on a given CPU.
     *
     * @param cpu the CPU whose pool runs the item, in [0, cpus)
     * @param delay how long from now; zero queues it at once; not negative
     * @param work the item to arm; not null
     * @return false if it was already pending on this queue, true if it was armed or queued
     * @throws IllegalArgumentException if {@code cpu} is not in [0, cpus), or the delay is bad
     */
    public boolean queueDelayedOn(int cpu, DelayedWork work, Duration delay) {
        if (work == null) {
            throw new NullPointerException("delayed work queued on '" + name() + "'");
        }
        checkCpu(cpu, work);
        return queueDelayedChecked(cpu, work, delay);
    }

    private boolean queueDelayedChecked(int cpu, DelayedWork work, Duration delay) {
        if (work == null) {
            throw new NullPointerException("delayed work queued on '" + name() + "'");
        }
        return queueDelayedNanos(cpu, work, checkDelay(work, delay));
    }

    /**
     * Re-arms {@code work} to run after {@code delay} from now, whether it was pending or not
     * (kernel {@code mod_delayed_work}). The new deadline may be earlier or later.
     *
     * @param delay how long from now; zero queues it at once; not negative
     * @param work the item to re-arm; not null
     * @return true if it was pending and was modified; false if it was idle and is now queued
     *         (or disabled, and so not queued)
     * @throws IllegalArgumentException if the delay is negative or too long; nothing changes
     * @throws IllegalStateException    if this queue is destroyed (or draining, for a zero
     *                                  delay), or the item runs on another queue right now;
     *                                  nothing changes. Only when a destroy or drain begins
     *                                  during the call, or a run on another queue begins
     *                                  during it, can the exception come after a pending
     *                                  instance was taken back: the item is then idle, and that
     *                                  instance is reported to the uncaught-work handler with
     *                                  this exception (an executor task's future fails), as a
     *                                  destroy reports an armed item; nothing is lost silently.
     */
    public boolean modDelayed(DelayedWork work, Duration delay) {
        if (work == null) {
            throw new NullPointerException("delayed work modified on '" + name() + "'");
        }
        long nanos = checkDelay(work, delay);
        wq.checkAccepting(work.node, nanos == 0);
        wq.checkNotRunningElsewhere(work.node); // before taking a pending instance back
        startTimerFor(nanos);
        WorkqueueStruct takenFrom = Pending.grab(work.node); // null: it was idle
        try {
            Pending.grabbedForRearm(work.node);
            if (work.node.disableCount() == 0) {
                if (nanos != 0) {
                    wq.checkNotRunningElsewhere(work.node); // a run that began meanwhile (the insert checks a zero delay)
                }
                arm(-1, work, nanos);
                return takenFrom != null;
            }
        } catch (Throwable e) {
            // Refused (a destroy or drain that began meanwhile, a run elsewhere) or an Error on
            // the way: the item is idle. An instance taken back is reported, as a destroy reports
            // an armed item: the call throws, so it cannot say what became of that instance.
            work.node.clearState(WorkNode.PENDING);
            if (takenFrom != null) {
                Pending.reportTakenBack(takenFrom, work.node, e);
            }
            throw e;
        }
        work.node.clearState(WorkNode.PENDING); // disabled: not queued
        return false;
    }

    /**
     * Arms (or queues at once) a delayed item whose PENDING the caller owns. Returns normally
     * iff the item is armed or queued; whatever it throws (a refusal, or an Error on the way)
     * leaves it neither, with PENDING still claimed for the caller to release.
     */
    private void arm(int cpu, DelayedWork work, long nanos) {
        if (nanos == 0) {
            wq.insertClaimed(cpu, work.node);
            return;
        }
        TimerQueue t = runtime.engine().timer();
        work.bindTimer(t); // before TIMER is set (in arm): a canceller that sees TIMER finds the timer
        if (!t.arm(work.node, wq, cpu, nanos)) { // takes the node back out if it throws
            throw new IllegalStateException("queue '" + name() + "' is destroyed; cannot queue delayed work '"
                    + work.name() + "'");
        }
    }

    /**
     * The name of a task's item: the task's own {@code toString} when its class defines one,
     * else {@code <queue>/task-<n>} (a lambda's default name, {@code Foo$$Lambda/0x…@4e50df2e},
     * says nothing in a dump or a report); also when that {@code toString} throws or returns null
     * or an empty string (or overflows the stack): naming a task never refuses it.
     */
    String taskName(Object task) {
        if (Named.NAMED.get(task.getClass())) {
            String s;
            try {
                s = task.toString(); // user code on the submitting thread: it names the task, it vetoes nothing
            } catch (RuntimeException | StackOverflowError e) { // an overflow: a task whose collection holds itself
                s = null;
            }
            if (s != null && !s.isEmpty()) {
                return s;
            }
        }
        return name() + "/task-" + taskSeq.incrementAndGet();
    }

    /**
     * {@link #queueDelayedOn} with a delay in nanoseconds, already checked (0 queues now); no
     * {@link Duration} is made, so re-arming a periodic task allocates nothing.
     *
     * @throws IllegalStateException as {@link #queueDelayed}
     */
    boolean queueDelayedNanos(int cpu, DelayedWork work, long nanos) {
        startTimerFor(nanos);
        if (!wq.claimForArm(work.node)) {
            wq.checkPendingHere(work.node, false);
            return false;
        }
        try { // in the claiming frame: an Error even at arm's entry releases the claim
            arm(cpu, work, nanos);
        } catch (Throwable e) {
            work.node.clearState(WorkNode.PENDING); // never landed: idle again
            throw e;
        }
        return true;
    }

    /**
     * A scheduled view's re-arm of its periodic task {@code work} for its next period,
     * {@code nanos} from now (0: the period is overdue). While this queue is draining or being
     * destroyed, an overdue re-arm goes through the timer too (1 ns), as a positive one does:
     * queued directly from the task's own run it would count as chained work, which the drain
     * accepts, so a task that has fallen behind its period (or has a 1 ns one) would keep the
     * drain, and so {@code destroy()}, from ever ending. Through the timer, a destroy refuses it
     * (the task's future fails, naming the queue), and so does a drain when the timer fires
     * while it is still under way, as for any delayed item ({@link #drain()}: cancel delayed
     * items before draining; the kernel drops such an expiry too): the drain completes, and the
     * periodic task ends with its future failed.
     */
    boolean rearmPeriodic(DelayedWork work, long nanos) {
        return queueDelayedNanos(-1, work, nanos == 0 && wq.isDraining() ? 1 : nanos);
    }

    /**
     * The runtime's timer thread starts with the first delayed item (a zero delay needs none).
     * Called before the item is claimed or taken back, with no lock held: a thread factory that
     * fails here changes nothing (its exception propagates).
     */
    private void startTimerFor(long nanos) {
        if (nanos != 0) {
            runtime.engine().timer().start();
        }
    }

    private long checkDelay(DelayedWork work, Duration delay) {
        if (delay == null) {
            throw new NullPointerException("delay of work '" + work.name() + "' on '" + name() + "'");
        }
        if (delay.isNegative()) {
            throw new IllegalArgumentException("negative delay " + delay + " for work '" + work.name()
                    + "' on queue '" + name() + "'");
        }
        try {
            return delay.toNanos();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("delay " + delay + " for work '" + work.name() + "' on queue '"
                    + name() + "' is too long (at most 292 years)", e);
        }
    }

    /**
     * Queues a one-shot item running {@code command} ({@link Executor} contract). Each call
     * allocates one {@link Work}.
     *
     * @throws java.util.concurrent.RejectedExecutionException if the queue is destroyed
     */
    @Override
    public void execute(Runnable command) {
        if (command == null) {
            throw new NullPointerException("command executed on '" + name() + "'");
        }
        try {
            queue(new Work(taskName(command), command));
        } catch (IllegalStateException e) {
            throw WorkQueueExecutorService.rejected(e);
        }
    }

    // ------------------------------------------------------------------------------- waiting

    /**
     * Waits until every item queued before this call has finished (kernel
     * {@code flush_workqueue}). Items queued meanwhile do not delay it. Concurrent callers are
     * batched as by the kernel's flusher queue: one that arrives while others wait advances the
     * flush colour at once and waits alongside them (callers that arrive together share one
     * colour), so k concurrent flushes cost about one. Not interruptible: an
     * interrupt that arrives while it waits does not end the wait; the thread's interrupt
     * status is kept and set again on return. See {@link #flushInterruptibly()}.
     *
     * @throws IllegalStateException if called from one of this queue's own items
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public void flush() {
        wq.flush();
    }

    /**
     * {@link #flush()}, but gives up waiting when the calling thread is interrupted (while
     * waiting for the items, or briefly for another flusher's colour flip). Giving up changes
     * nothing for the queue: its items run as usual, and the colour flip already made finishes
     * on its own; later flushes wait for it as for any earlier one (it covers items that they
     * must wait for anyway).
     *
     * @throws InterruptedException  if interrupted while waiting (the interrupt status is then
     *                               cleared, as usual)
     * @throws IllegalStateException if called from one of this queue's own items
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public void flushInterruptibly() throws InterruptedException {
        wq.flushInterruptibly();
    }

    /**
     * The non-blocking {@link #flush()}: a future that completes once every item queued before
     * this call has finished (the same condition as {@code flush()}: items queued meanwhile do
     * not delay it). No thread waits for it: the flush colour is advanced at once (or, while 15
     * flushes are in flight, as soon as the oldest is done), and the worker that finishes the
     * last item of the flushed colour leaves a step on its pool that completes the future.
     * Callers that arrive together share one colour, with blocking flushers too. On an idle or
     * destroyed queue the future is complete on return.
     *
     * <p>Dependent actions attached without an executor run in the thread that completes the
     * future, outside any engine lock: usually a worker thread of this queue's pools (they must
     * not wait for this queue from there: a {@code flush()} would be refused as a self-wait),
     * sometimes a thread that calls {@code flush()} or {@code flushAsync()} on this queue. Use
     * the {@code ...Async} variants to choose the thread.
     * Cancelling or completing the returned future changes nothing for the queue.
     *
     * <p>Lock validation: {@link #flush()} is recorded as acquiring the queue's pseudo-lock
     * because its caller blocks; this method records nothing because it does not block (the
     * flush-as-lock annotation belongs to the wait, and there is none). A caller that blocks on
     * the future while holding a lock that this queue's items take can deadlock where
     * {@code flush()} would have been reported. A call from one of this queue's own items is
     * allowed: its future completes after that item has finished.
     *
     * <p>Thread-safe; never blocks (beyond the pool locks it takes to advance the colours).
     *
     * @return a future completed (with null) once every item queued before the call finished
     */
    public CompletableFuture<Void> flushAsync() {
        return wq.flushAsync();
    }

    /**
     * {@link #flushInterruptibly()}, giving up after {@code timeout} as it gives up when
     * interrupted: the flush already started completes on its own, and the queue and its
     * items are unaffected. Interruptible.
     *
     * @param timeout how long to wait at most; zero or negative: do not wait
     * @return true if every item queued before the call has finished, false if the timeout
     *         elapsed first
     * @throws InterruptedException  if interrupted while waiting (the status is then cleared)
     * @throws IllegalStateException if called from one of this queue's own items
     * @throws NullPointerException  if {@code timeout} is null
     */
    public boolean flush(Duration timeout) throws InterruptedException {
        return wq.flushUntil(org.workqueue4j.internal.Blocking.deadlineAfter(timeout));
    }

    /**
     * {@link #drain()}, giving up after {@code timeout} or when interrupted. Giving up ends the
     * drain: the queue accepts items from every caller again, and what it was waiting for
     * completes on its own. Interruptible.
     *
     * @param timeout how long to wait at most; zero or negative: do not wait
     * @return true if the queue was drained, false if the timeout elapsed first
     * @throws InterruptedException  if interrupted while waiting (the status is then cleared)
     * @throws IllegalStateException if called from one of this queue's own items
     * @throws NullPointerException  if {@code timeout} is null
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        return wq.drainUntil(org.workqueue4j.internal.Blocking.deadlineAfter(timeout));
    }

    /**
     * Flushes until the queue is empty (kernel {@code drain_workqueue}). Meanwhile only this
     * queue's own items may queue to it (chained work); other callers get an
     * {@link IllegalStateException}. A delayed item armed for this queue whose timer expires
     * meanwhile (or that a flush fires) is refused as well, as the kernel's {@code __queue_work}
     * refuses it, and reported to the uncaught-work handler naming the queue and the item:
     * cancel delayed items before draining. A frozen queue ({@link WorkQueues#freeze()}) holds
     * its items, so its drain returns only after {@link WorkQueues#thaw()} (as the kernel's;
     * {@link WorkQueues#close()} thaws first). Not interruptible: an interrupt does not end the
     * wait; the interrupt status is kept and set again on return.
     *
     * @throws IllegalStateException if called from one of this queue's own items
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public void drain() {
        wq.drain();
    }

    /**
     * Drains the queue, then refuses every later {@code queue} with an
     * {@link IllegalStateException} (kernel {@code destroy_workqueue}). Delayed work whose timer
     * is still armed is the caller's duty to cancel first; if any is left it is cancelled and
     * reported to the uncaught-work handler, never dropped silently. A timer that expired just
     * before the call (its item off the timer, not yet queued, on the timer thread or a
     * flusher's) is waited for: the item lands in time to be drained and run, or is refused,
     * and is no longer pending when this returns (its report to the handler comes from that
     * thread, possibly after the return). Calling it again does
     * nothing; a call made while another thread's {@code destroy()} runs waits for that one to
     * end, and returns once the queue is destroyed. A frozen queue's destroy drains it, so it
     * returns only after {@link WorkQueues#thaw()} (see {@link #drain()}). Not interruptible: an
     * interrupt does not end the wait; the interrupt status is kept and set again on return.
     *
     * @throws IllegalStateException if this is a system queue, or if called from one of this
     *                               queue's own items
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public void destroy() {
        if (system && !runtime.isClosing()) {
            throw new IllegalStateException("system queue '" + name() + "' cannot be destroyed; close its runtime");
        }
        wq.destroy();
    }

    /**
     * Destroys the queue of an executor view that owns it, once the view has terminated (every
     * task finished; see WorkqueueStruct.destroyUnannotated).
     */
    void destroyOwned() {
        wq.destroyUnannotated();
    }

    /** Destroys a system queue that lost the race to be published (it never had an item). */
    void discardUnused() {
        wq.destroy();
    }

    /**
     * Same as {@link #destroy()}.
     *
     * @throws IllegalStateException as {@link #destroy()}
     */
    @Override
    public void close() {
        destroy();
    }

    // ------------------------------------------------------------------------------- tuning

    /**
     * Changes max_active (kernel {@code workqueue_set_max_active}), activating waiting items in
     * order up to the new limit. As the kernel's, it clamps to [1, 2048] with a logged warning
     * naming the queue: 0 sets 1 (unlike {@link Builder#maxActive(int)}, where 0 means the
     * default 1024), more than 2048 sets 2048.
     *
     * @param maxActive the new limit, in [1, 2048] (0 and larger values are clamped)
     * @throws IllegalStateException on an ordered queue (its limit is fixed at 1)
     * @throws IllegalArgumentException if {@code maxActive} is negative; the limit is unchanged
     */
    public void setMaxActive(int maxActive) {
        if (ordered) {
            throw new IllegalStateException("ordered queue '" + name() + "' has max_active fixed at 1");
        }
        int n = clampMaxActive(name(), maxActive, false);
        synchronized (maxActiveLock) { // kernel wq->mutex: concurrent setters must not interleave per pwq
            wq.setMaxActive(n);
        }
    }

    /**
     * A snapshot of this queue's counters (wq_monitor.py's columns). Items only: the engine's own
     * flush barriers and steps are not counted. Counting the items that wait for an active slot
     * walks their list, pool by pool, under the pool's lock.
     *
     * @return the snapshot
     */
    public WorkQueueStats stats() {
        org.workqueue4j.internal.WqStats s = wq.stats();
        org.workqueue4j.internal.WqStats.Counts c = wq.counts();
        return new WorkQueueStats(name(), unbound, wq.hasRescuer(), c.started(), c.completed(),
                c.started() - c.completed(), s.cpuTimeNanos.sum(), s.cpuIntensive.sum(), s.cmWakeup.sum(),
                s.mayday.sum(), s.rescued.sum(), c.pending(), c.inactive(), c.running(), c.latencySamples(),
                c.latencyTotalNanos(), c.latencyMaxNanos());
    }

    /**
     * An {@link ExecutorService} view of this queue. Views share the queue: each call returns a
     * new view, and a view's {@code shutdown}/{@code shutdownNow}/{@code awaitTermination}
     * concern only the tasks submitted through that view; the queue is never destroyed by a
     * view (destroy it yourself, or use {@link Builder#buildExecutorService()} for an executor
     * that owns its queue). {@code shutdownNow} returns exactly the tasks that never started and
     * none of them starts afterwards; {@code Future.cancel} takes the task's item off the queue.
     * Tasks are named by their {@code toString} when their class defines one, else
     * {@code <queue>/task-<n>}.
     *
     * <p>Thread-safe. Each task allocates one item and one future.
     *
     * @return a new view sharing this queue
     */
    public ExecutorService asExecutorService() {
        return new WorkQueueExecutorService(this, false);
    }

    /**
     * A {@link ScheduledExecutorService} view of this queue, sharing it as
     * {@link #asExecutorService()} does. Every scheduled task is backed by one
     * {@link DelayedWork}, armed on the runtime's timer and re-armed in place after each run of
     * a periodic task (no allocation per period); {@code ScheduledFuture.cancel} cancels the
     * item (its timer too). Shutdown policy as {@link java.util.concurrent.ScheduledThreadPoolExecutor}'s
     * defaults: after {@code shutdown} delayed one-shot tasks still run at their time and
     * periodic tasks are cancelled (a running one once its current run has ended);
     * {@code shutdownNow} returns every task not running at that moment (periodic ones
     * included, not cancelled). A periodic task that throws runs no more
     * and its future completes with the exception. Negative and zero delays mean "now". A task
     * the queue will never run (the queue destroyed while the task is armed, which
     * {@link #destroy()} reports as it reports any armed item, or its expiry refused while the
     * queue drains) has its future fail with an {@link IllegalStateException} naming the queue
     * and the task, at that moment.
     *
     * <p>Thread-safe.
     *
     * @return a new scheduled view sharing this queue
     */
    public ScheduledExecutorService asScheduledExecutorService() {
        return WorkQueueScheduledExecutorService.of(this, false);
    }

    @Override
    public String toString() {
        return "WorkQueue[" + name() + "]";
    }

    /**
     * Options for a new queue (kernel {@code alloc_workqueue} flags).
     *
     * <p>Not thread-safe: a builder is meant for one thread; the object it builds is thread-safe.
     */
    public static final class Builder {
        private final String name;
        private boolean unbound;
        private boolean highPri;
        private boolean cpuIntensive;
        private boolean memReclaim;
        private boolean freezable;
        private boolean ordered;
        private int maxActive;
        private @Nullable WorkQueues runtime;
        private @Nullable LockClassKey lockClass;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "queue name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("queue name is blank");
            }
        }

        /**
         * Served by unbound pools, not concurrency managed (WQ_UNBOUND).
         *
         * @return this builder
         */
        public Builder unbound() {
            unbound = true;
            return this;
        }

        /**
         * Served by the high-priority pools (WQ_HIGHPRI).
         *
         * @return this builder
         */
        public Builder highPriority() {
            highPri = true;
            return this;
        }

        /**
         * Items do not count toward concurrency management (WQ_CPU_INTENSIVE).
         *
         * @return this builder
         */
        public Builder cpuIntensive() {
            cpuIntensive = true;
            return this;
        }

        /**
         * Gets a rescuer thread that guarantees progress (WQ_MEM_RECLAIM).
         *
         * @return this builder
         */
        public Builder memReclaim() {
            memReclaim = true;
            return this;
        }

        /**
         * Held by {@link WorkQueues#freeze()} (WQ_FREEZABLE).
         *
         * @return this builder
         */
        public Builder freezable() {
            freezable = true;
            return this;
        }

        /**
         * One item at a time, strict FIFO (alloc_ordered_workqueue); max_active fixed at 1.
         *
         * @return this builder
         */
        public Builder ordered() {
            ordered = true;
            return this;
        }

        /**
         * Items active at once; 0 = 1024 (kernel {@code alloc_workqueue}; only here: a later
         * {@link WorkQueue#setMaxActive(int) setMaxActive(0)} clamps to 1); more than 2048 is
         * clamped with a warning; a negative value makes {@link #build()} throw
         * {@link IllegalArgumentException}.
         *
         * @param n the limit; 0 for the default 1024
         * @return this builder
         */
        public Builder maxActive(int n) {
            maxActive = n;
            return this;
        }

        /**
         * Shares the lock class of the queue's flush pseudo-lock with every queue built with the
         * same key (kernel {@code alloc_workqueue_lockdep_map}, and the per-allocation-site
         * classes of kernels before 5.1). By default each queue has a class of its own.
         *
         * @param key the shared class key; not null
         * @return this builder
         */
        public Builder lockClass(LockClassKey key) {
            lockClass = Objects.requireNonNull(key, "lockClass");
            return this;
        }

        /**
         * The runtime to build on (default {@link WorkQueues#global()}).
         *
         * @param rt the runtime; not null
         * @return this builder
         */
        public Builder runtime(WorkQueues rt) {
            runtime = Objects.requireNonNull(rt, "runtime");
            return this;
        }

        /**
         * Creates the queue with the options set so far.
         *
         * @return the new queue, registered with its runtime
         * @throws IllegalArgumentException if an option is out of range (a negative {@link #maxActive(int)})
         * @throws IllegalStateException if the runtime is closed; or if a thread this build
         *         starts ended without running the {@code Runnable} the thread factory was
         *         given: the runtime's manager or monitor (started by its first queue) or a
         *         {@link #memReclaim()} queue's rescuer. The queue then does not exist, and the
         *         next build asks the factory again. Whatever the factory itself throws
         *         propagates the same way.
         */
        public WorkQueue build() {
            return new WorkQueue(this, runtime != null ? runtime : WorkQueues.global());
        }

        /**
         * Builds a queue owned by the returned executor: as {@link WorkQueue#asExecutorService()},
         * and once the executor has terminated (shutdown, and its last task finished; as a
         * {@code ThreadPoolExecutor}, nothing else is waited for) the queue is destroyed, by an
         * item of {@link WorkQueues#systemUnbound()} (flush that queue to wait for it), or by the
         * runtime's {@code close()}.
         *
         * @return an executor over a new queue of its own
         */
        public ExecutorService buildExecutorService() {
            return new WorkQueueExecutorService(build(), true);
        }

        /**
         * Builds a queue owned by the returned scheduled executor: as
         * {@link WorkQueue#asScheduledExecutorService()}, and the queue is destroyed once the
         * executor has terminated, as {@link #buildExecutorService()} says.
         *
         * @return a scheduled executor over a new queue of its own
         */
        public ScheduledExecutorService buildScheduledExecutorService() {
            return WorkQueueScheduledExecutorService.of(build(), true);
        }
    }
}
