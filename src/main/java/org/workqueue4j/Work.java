package org.workqueue4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockMap;

import org.workqueue4j.internal.Barrier;
import org.workqueue4j.internal.Pending;
import org.workqueue4j.internal.TimerQueue;
import org.workqueue4j.internal.WorkqueueStruct;
import org.workqueue4j.internal.WqRuntime;
import org.jspecify.annotations.Nullable;

/**
 * A work item (kernel {@code work_struct}): a function that a {@link WorkQueue} runs on a worker
 * thread. Create it once and queue it as often as needed; queueing allocates nothing.
 *
 * <p>Guarantees, as the kernel's:
 * <ul>
 *   <li><b>pending at most once</b>: {@link WorkQueue#queue(Work)} returns false while the item
 *       is pending, so many queue requests collapse into one run;</li>
 *   <li>the pending state is cleared just before the function runs, so queueing a running item
 *       returns true and it runs again afterwards;</li>
 *   <li><b>non-reentrant</b>: an item never runs on two workers at once, even when requeued to
 *       another CPU of the same queue while it runs (the worker already running it runs it
 *       again). Unlike the kernel, where this holds per queue, it holds across queues and
 *       runtimes: queueing (or arming) an item on a second queue while it still runs on the
 *       first throws {@link IllegalStateException} naming the item and both queues, and leaves
 *       it unchanged. Move an item once it is idle, e.g. after {@link #flush()} or
 *       {@link #cancelSync()};</li>
 *   <li><b>truthful item-level answers</b>: since an item has at most one running instance,
 *       {@link #busy()}, {@link #flush()} and {@link #cancelSync()} speak for every queue:
 *       when {@code cancelSync()} returns, the item runs nowhere (unless queued again
 *       meanwhile);</li>
 *   <li><b>nothing is lost by a false return</b>: everything the caller did before
 *       {@code queue()} — whatever it returns — happens-before the start of some run that
 *       begins after the call. A true return queued that run; a false return found an
 *       instance that had not started yet, and it is that run (the same holds for
 *       {@code queueOn}, {@code queueDelayed} and {@code modDelayed}). So a producer may
 *       write plain fields and then queue, and the item sees the writes. The exception is a
 *       disabled item: {@link #disable()}, and also a {@link #cancelSync()} or
 *       {@link #disableSync()} in progress on another thread (the item counts as disabled
 *       until it returns, as the kernel's cancel_work_sync), make every queue attempt
 *       return false and queue nothing: no run follows such a false return.</li>
 *   <li><b>interrupts</b>: an interrupt aimed at a worker thread interrupts the item running on
 *       it, only; the worker clears its thread's interrupt status after every item (and
 *       before it parks), so an item that ends with the status set (the usual
 *       {@code catch (InterruptedException e) { Thread.currentThread().interrupt(); }}) does
 *       not pass it on to the next item. The engine never relies on interrupts itself.</li>
 * </ul>
 *
 * <p>An item belongs to one queue at a time: queueing it to a second queue while it is pending
 * on the first throws {@link IllegalStateException} naming both queues (it stays pending on
 * the first); so does queueing it while it runs on the first (it keeps running there).
 *
 * <p>Why refuse rather than let the item run on both queues and make {@code flush} and
 * {@code cancelSync} wait for every instance: the refusal keeps one instance per item, so the
 * state word and the one worker recorded as running it stay the whole truth, and the per-item
 * operations stay as cheap as the kernel's. A Java caller reads {@code cancelSync()} as "runs
 * nowhere now", and two overlapping runs of one item are almost always a bug in the caller.
 *
 * <p>"Its own function", where a wait refuses to wait for itself ({@link #flush()},
 * {@link #cancelSync()}, {@link #disableSync()} and their variants, and a wait for the item's
 * queue), includes the {@link UncaughtWorkHandler} told that the function threw: that report is
 * made on the item's worker as the last part of its run (a flush of the item returns only after
 * it), so such a wait from the handler would wait for itself and is refused with
 * {@link IllegalStateException} as from the function. {@link #cancel()} and {@link #disable()},
 * which do not wait, work there.
 *
 * <p>Thread-safe: every method may be called from any thread, concurrently with workers and the
 * timer; the item's engine state is one atomic word, so queueing allocates nothing and takes no
 * lock while the item is already pending.
 */
// JSpecify is optional at run time (requires static): its @Nullable in this API is not re-exported on purpose.
@SuppressWarnings("exports")
public class Work {
    /** {@link #busy()} bit: the item is pending. */
    public static final int BUSY_PENDING = 1;
    /** {@link #busy()} bit: a worker is running the item. */
    public static final int BUSY_RUNNING = 2;

    private static final VarHandle MAP;
    /**
     * Initializes the lock-class holder, and the JDK's ClassValue machinery behind it, now (see
     * FirstUseOverflowTest): for a runtime that validates, whose items' first validated
     * flush would otherwise do it on a user's thread.
     */
    static void initializeHolders() {
        FunctionKeys.FUNCTION_KEYS.get(Runnable.class);
    }

    /**
     * The lock class of items without an explicit key, per function class (kernel INIT_WORK's
     * static per-site key). A ClassValue: a few nanoseconds, looked up only when a validator
     * first asks for the item's map, never at construction, and it lets the function's class
     * be unloaded with its key.
     */
    private static final class FunctionKeys { // a holder: loaded with the first validated item, not with Work
        static final ClassValue<LockClassKey> FUNCTION_KEYS = new ClassValue<>() {
            @Override
            protected LockClassKey computeValue(Class<?> type) {
                return new LockClassKey("(work_completion)" + displayName(type));
            }
        };
    }

    static {
        try {
            MAP = MethodHandles.lookup().findVarHandle(Work.class, "map", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e); // the JVM wraps it in ExceptionInInitializerError (named here, the verifier would load it at start-up)
        }
    }

    /**
     * The engine's half of this item: the state word and the intrusive links, held by
     * composition so that no engine method or state is reachable from the public API. Only
     * this package hands it to the engine.
     */
    final ItemNode node = new ItemNode(this);
    private final String name;
    private final Runnable function;
    /** Explicit lock class, or null (then the class of the function). */
    private final @Nullable LockClassKey lockClass;
    /**
     * The {@link LockMap}, created on first use while validating; installed once by CAS. Typed
     * Object so that the VarHandle made when Work is initialized names no lockdep class: with
     * validation off, items never load LockMap.
     */
    @SuppressWarnings("unused") // accessed through MAP
    private volatile @Nullable Object map;

    /**
     * An item whose lock class (for the validator) is the class of its function, the Java
     * counterpart of the kernel's {@code INIT_WORK} per-site key: every item whose function
     * comes from the same lambda expression or method reference in the source (the JVM gives
     * each its own class) or is an instance of the same {@code Runnable} class shares one lock
     * class, in every program and whatever ran before. A generic wrapper (one {@code Runnable}
     * class used for unrelated jobs) puts them all in one class: give those an explicit key
     * with {@link #Work(String, LockClassKey, Runnable)}. Construction costs nothing for this:
     * the class is looked up only when a validator first asks for the item's map.
     *
     * @param name     a name for dumps, reports and exceptions
     * @param function the body; it may queue this same item again
     * @throws NullPointerException if either is null
     */
    public Work(String name, Runnable function) {
        this(name, null, function);
    }

    /**
     * An item with an explicit lock class (kernel {@code INIT_WORK_ONSTACK_KEY}).
     *
     * @param name      a name for dumps, reports and exceptions
     * @param lockClass the validator class of this item's map; null for the class of its
     *                  function, as {@link #Work(String, Runnable)}
     * @param function  the body; it may queue this same item again
     * @throws NullPointerException if {@code name} or {@code function} is null
     */
    public Work(String name, @Nullable LockClassKey lockClass, Runnable function) {
        this.name = Objects.requireNonNull(name, "work name");
        if (function == null) { // no lambda here: a message supplier would cost a lambda class per start-up
            throw new NullPointerException("function of work '" + name + "'");
        }
        this.function = function;
        this.lockClass = lockClass;
    }

    /**
     * The object whose class is this item's lock class when none was given: its function; for
     * an executor view's task, the user's task (every task would otherwise share the view's
     * wrapper class).
     */
    Object lockClassSource() {
        return function;
    }

    /** {@code pkg.Host$$Lambda$45/0x0000000800c0a230} reads as {@code Host$$Lambda$45}. */
    private static String displayName(Class<?> type) {
        String n = type.getName();
        int slash = n.indexOf('/');
        if (slash >= 0) {
            n = n.substring(0, slash);
        }
        return n.substring(n.lastIndexOf('.') + 1);
    }

    /**
     * The item's lock map for the validator (kernel {@code work->lockdep_map}), created on first
     * use.
     *
     * @return the map, never null
     */
    public final LockMap lockMap() {
        LockMap m = (LockMap) map;
        if (m == null) {
            LockClassKey k = lockClass != null ? lockClass : FunctionKeys.FUNCTION_KEYS.get(lockClassSource().getClass());
            m = new LockMap("(work_completion)" + name, k);
            LockMap won = (LockMap) MAP.compareAndExchange(this, null, m); // volatile CAS: exactly one map per item
            if (won != null) {
                m = won;
            }
        }
        return m;
    }

    /** The lock map of the item's timer (kernel {@code timer->lockdep_map}); null: only a {@link DelayedWork} has a timer. */
    org.workqueue4j.lockdep.@Nullable LockMap timerLockMap() {
        return null;
    }

    /**
     * The item's name, as given to the constructor.
     *
     * @return the name used in dumps, reports and exceptions
     */
    public final String name() {
        return name;
    }

    /** Runs the item's body; called by the engine on a worker, with no engine lock held. */
    void execute() {
        function.run();
    }

    /**
     * The engine will never run this item's armed instance (its queue was destroyed with it
     * armed, or refused its expiry); the report to the uncaught-work handler follows. Nothing
     * here: an executor view's task fails its future.
     */
    void neverRuns(Throwable reason) {
    }

    /** The timer the item was last armed on (only a {@link DelayedWork} is ever armed). */
    @Nullable TimerQueue armedTimer() {
        return null;
    }

    /**
     * The item the calling worker thread is running, or null if the caller is not running a
     * work item (kernel {@code current_work}).
     *
     * @return the running item, or null off a worker thread or between items
     */
    public static @Nullable Work current() {
        return ItemNode.workOf(WqRuntime.currentWork());
    }

    /**
     * Whether the item is pending (queued, or its timer armed), not yet started (kernel
     * {@code work_pending}). It stays true for a moment after a pending instance has been taken
     * off its queue by {@link #cancel()}, {@link #cancelSync()}, {@link #disable()} or
     * {@link #disableSync()}: the canceller holds the pending bit until it has finished taking
     * the instance back (kernel {@code try_to_grab_pending}), so a queue attempt meanwhile
     * returns false, as for a pending item. A snapshot: it may be stale when it returns.
     *
     * @return true if the item is pending, or a canceller is taking its pending instance back
     */
    public final boolean isPending() {
        return node.isPendingBit();
    }

    /**
     * Advisory snapshot (kernel {@code work_busy}): {@link #BUSY_PENDING} | {@link #BUSY_RUNNING}.
     * May be stale by the time it returns.
     *
     * @return {@link #BUSY_PENDING}, {@link #BUSY_RUNNING}, both or-ed, or 0
     */
    public final int busy() {
        return Pending.busy(node);
    }

    /**
     * Waits until the last queueing instance of this item has finished (kernel
     * {@code flush_work}). Not interruptible; an interrupt is kept and re-asserted.
     *
     * @return true if it waited, false if the item was idle
     * @throws IllegalStateException if called from this item's own function (it would wait
     *                               for itself)
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public boolean flush() {
        return Barrier.flushWork(node, false);
    }

    /**
     * {@link #flush()}, but gives up waiting when the calling thread is interrupted. Giving up
     * changes nothing for the item or its queue: the item stays queued (or running) and runs
     * as if no one had flushed it; the flush's barrier, already linked behind it, completes
     * unobserved when the item finishes.
     *
     * @return true if it waited, false if the item was idle
     * @throws InterruptedException  if interrupted while waiting (the interrupt status is then
     *                               cleared, as usual)
     * @throws IllegalStateException if called from this item's own function
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public boolean flushInterruptibly() throws InterruptedException {
        return Barrier.flushWorkInterruptibly(node);
    }

    /**
     * The non-blocking {@link #flush()}: a future that completes when the last queueing instance
     * of this item (queued or running at the call) has finished, with true, or at once with
     * false if the item was idle. No thread waits: a barrier linked behind the instance
     * completes the future when a worker runs it.
     *
     * <p>Dependent actions attached without an executor run on that worker thread, outside any
     * engine lock; they must not wait for this item's queue from there (a flush of it is
     * refused as a self-wait): use the {@code ...Async} variants to move them elsewhere.
     * Cancelling or completing the returned future changes nothing for the item.
     *
     * <p>Lock validation: {@link #flush()} is recorded as acquiring the item's (and sometimes
     * its queue's) pseudo-lock, because the caller blocks; this method records nothing, because
     * it does not block. A caller that blocks on the future ({@code join}, {@code get}) while
     * holding locks takes the deadlock risk that {@code flush()} would have reported. For the
     * same reason a call from the item's own function is allowed: the future completes once
     * that run has finished.
     *
     * <p>Thread-safe; never blocks (beyond the pool lock it takes to link the barrier).
     *
     * @return a future completed with true once the instance finished, or completed with false
     *         if there was nothing to wait for
     */
    public CompletableFuture<Boolean> flushAsync() {
        return Barrier.flushWorkAsync(node);
    }

    /**
     * {@link #flushInterruptibly()}, giving up after {@code timeout} as it gives up when
     * interrupted: the item and its queue are unaffected. Interruptible.
     *
     * @param timeout how long to wait at most; zero or negative: do not wait
     * @return true if the last queueing instance has finished (or the item was idle), false
     *         if the timeout elapsed first
     * @throws InterruptedException  if interrupted while waiting (the status is then cleared)
     * @throws IllegalStateException if called from this item's own function
     * @throws NullPointerException  if {@code timeout} is null
     */
    public boolean flush(java.time.Duration timeout) throws InterruptedException {
        return Barrier.flushWorkUntil(node, false, org.workqueue4j.internal.Blocking.deadlineAfter(timeout));
    }

    /**
     * {@link #cancelSync()} with a bounded wait: cancels a pending instance, then waits up to
     * {@code timeout} for a running one (the item counts as disabled while it waits, as for
     * {@code cancelSync()}). At the timeout (or an interrupt) it stops waiting; the
     * running instance completes on its own and the item can be queued again as usual.
     * Interruptible. The return value does not say whether a pending instance was cancelled:
     * one that was, when the call then times out or is interrupted, is reported to the
     * uncaught-work handler (with a {@link java.util.concurrent.TimeoutException} or the
     * {@link InterruptedException}), so that no queued instance ends unaccounted for.
     *
     * @param timeout how long to wait at most for a running instance; zero or negative: do
     *                not wait
     * @return true if on return the item is neither pending nor running (unless queued again
     *         meanwhile), false if the timeout elapsed while it still ran, or while another
     *         thread still reported an expiry of it that its queue refused (see {@link #cancelSync()})
     * @throws InterruptedException  if interrupted while waiting (the status is then cleared)
     * @throws IllegalStateException if called from this item's own function
     * @throws NullPointerException  if {@code timeout} is null
     */
    public boolean cancelSync(java.time.Duration timeout) throws InterruptedException {
        long deadline = org.workqueue4j.internal.Blocking.deadlineAfter(timeout);
        Barrier.refuseSelfCancelWait(node, "cancelSync(Duration)");
        boolean[] disabled = new boolean[1];
        WorkqueueStruct taken = Pending.cancelTakingForWait(node, disabled);
        boolean stopped;
        try {
            stopped = Barrier.flushWorkUntil(node, true, deadline)
                    && node.awaitNotFiredElsewhereUntil("cancel_work_sync", deadline);
        } catch (InterruptedException | RuntimeException | Error e) {
            reportTakenIfAny(taken, e);
            throw e;
        } finally {
            Pending.endWaitDisable(node, disabled[0]);
        }
        if (!stopped && taken != null) {
            // false says "still running", not "a pending instance was cancelled": reported instead
            Pending.reportTakenThenTimedOut(taken, node, "cancelSync(Duration)");
        }
        return stopped;
    }

    /**
     * A cancel-and-wait that took a pending instance back and then throws (a validator's
     * PotentialDeadlockException under THROW, before it waits) no longer says that it cancelled
     * it: the instance is reported, as the faults table promises for every cancel that throws.
     */
    private void reportTakenIfAny(@Nullable WorkqueueStruct taken, Throwable e) {
        if (taken != null) {
            Pending.reportTakenBack(taken, node, e);
        }
    }

    /**
     * Takes the item off its queue if it is pending (kernel {@code cancel_work}). Does not wait
     * for a running instance.
     *
     * @return true if it was pending
     */
    public boolean cancel() {
        return Pending.cancel(node, false);
    }

    /**
     * Cancels and waits for a running instance to finish (kernel {@code cancel_work_sync}).
     * Correct for items that requeue themselves: on return the item is neither pending nor
     * running, unless another thread queued it again after the return. While it waits the
     * item counts as disabled: a queue attempt meanwhile (from its own function or another
     * thread) returns false and queues nothing. A delayed item's expiry that its queue refused
     * (destroyed, or draining) ends with its report to the uncaught-work handler, delivered by
     * the thread that fired it: this waits for that report too (as the kernel's
     * {@code del_timer_sync} waits for a running timer callback), so on return every instance
     * queued before the call ran, was cancelled, or was reported; a call from that handler does
     * not wait for its own report. Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return. The wait's disable is its own: on an
     * item disabled to the limit already, nothing is added; an {@link #enable()} without a
     * {@link #disable()} made meanwhile by another thread consumes it (logged as a warning; the
     * item is then enabled again and can be queued before this returns).
     *
     * @return true if it was pending
     * @throws IllegalStateException if called from this item's own function while it runs (it
     *                               would wait for itself); the item is enabled again
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public boolean cancelSync() {
        Barrier.refuseSelfCancelWait(node, "cancelSync()");
        boolean[] disabled = new boolean[1];
        WorkqueueStruct taken = Pending.cancelTakingForWait(node, disabled);
        try {
            Barrier.flushWork(node, true);
            node.awaitNotFiredElsewhere("cancel_work_sync"); // the report of a refused expiry, if under way (see the javadoc)
        } catch (RuntimeException | Error e) {
            reportTakenIfAny(taken, e);
            throw e;
        } finally {
            Pending.endWaitDisable(node, disabled[0]);
        }
        return taken != null;
    }

    /**
     * Increments the disable count and cancels (kernel {@code disable_work}). While the count
     * is non-zero every queue attempt returns false.
     *
     * @return true if it was pending
     * @throws IllegalStateException if the count would overflow (65535)
     */
    public boolean disable() {
        return Pending.cancel(node, true);
    }

    /**
     * {@link #disable()}, then waits for a running instance (kernel {@code disable_work_sync}),
     * and for the report of a refused expiry, as {@link #cancelSync()}. Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return.
     *
     * @return true if it was pending
     * @throws IllegalStateException if the count would overflow, or if called from this item's
     *                               own function while it runs (it would wait for itself;
     *                               refused before anything changes: the count is unchanged)
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public boolean disableSync() {
        Barrier.refuseSelfCancelWait(node, "disableSync()");
        WorkqueueStruct taken = Pending.cancelTaking(node, true);
        try {
            Barrier.flushWork(node, true);
            node.awaitNotFiredElsewhere("disable_work_sync");
        } catch (RuntimeException | Error e) {
            reportTakenIfAny(taken, e);
            throw e;
        }
        return taken != null;
    }

    /**
     * Decrements the disable count (kernel {@code enable_work}).
     *
     * @return true if the count reached zero
     * @throws IllegalStateException if the item is not disabled
     */
    public boolean enable() {
        return Pending.enable(node);
    }

    /**
     * {@return the current disable count: 0 when enabled, one more per {@link #disable()} not yet
     * matched by {@link #enable()}}
     */
    public final int disableDepth() {
        return node.disableCount();
    }

    @Override
    public String toString() {
        return "Work[" + name + "]";
    }
}
