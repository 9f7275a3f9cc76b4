package org.workqueue4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockMap;

import org.workqueue4j.internal.Barrier;
import org.workqueue4j.internal.Pending;
import org.workqueue4j.internal.WorkNode;
import org.workqueue4j.internal.WqRuntime;

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
 *       another CPU of the same queue while it runs. As in the kernel, this holds per queue:
 *       an item queued to a second queue while it still runs on the first may run on both at
 *       once (move an item only once it is idle, e.g. after {@link #cancelSync()});</li>
 *   <li>everything a thread did before a {@code queue} that returned true happens-before the
 *       run that follows.</li>
 * </ul>
 *
 * <p>An item belongs to one queue at a time: queueing it to a second queue while it is pending
 * on the first throws {@link IllegalStateException} naming both queues (it stays pending on
 * the first).
 */
public class Work extends WorkNode {
    /** {@link #busy()} bit: the item is pending. */
    public static final int BUSY_PENDING = 1;
    /** {@link #busy()} bit: a worker is running the item. */
    public static final int BUSY_RUNNING = 2;

    private static final VarHandle MAP;
    /**
     * The lock class of items without an explicit key, per function class (kernel INIT_WORK's
     * static per-site key). A ClassValue: a few nanoseconds, looked up only when a validator
     * first asks for the item's map, never at construction, and it lets the function's class
     * be unloaded with its key.
     */
    private static final ClassValue<LockClassKey> FUNCTION_KEYS = new ClassValue<>() {
        @Override
        protected LockClassKey computeValue(Class<?> type) {
            return new LockClassKey("(work_completion)" + displayName(type));
        }
    };

    static {
        try {
            MAP = MethodHandles.lookup().findVarHandle(Work.class, "map", LockMap.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final Runnable function;
    /** Explicit lock class, or null (then the class of the function). */
    private final LockClassKey lockClass;
    /** Created on first use while validating; installed once by CAS. */
    @SuppressWarnings("unused") // accessed through MAP
    private volatile LockMap map;

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
    public Work(String name, LockClassKey lockClass, Runnable function) {
        this.name = Objects.requireNonNull(name, "work name");
        this.function = Objects.requireNonNull(function, () -> "function of work '" + name + "'");
        this.lockClass = lockClass;
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

    /** The item's lock map for the validator (kernel work->lockdep_map). */
    @Override
    public final LockMap lockMap() {
        LockMap m = map;
        if (m == null) {
            LockClassKey k = lockClass != null ? lockClass : FUNCTION_KEYS.get(function.getClass());
            m = new LockMap("(work_completion)" + name, k);
            if (!MAP.compareAndSet(this, null, m)) { // volatile CAS: exactly one map per item
                m = map;
            }
        }
        return m;
    }

    /** The item's name. */
    @Override
    public final String name() {
        return name;
    }

    @Override
    protected void execute() {
        function.run();
    }

    /**
     * The item the calling worker thread is running, or null if the caller is not running a
     * work item (kernel {@code current_work}).
     */
    public static Work current() {
        WorkNode n = WqRuntime.currentWork();
        return n instanceof Work ? (Work) n : null;
    }

    /** True while the item is pending (queued, or its timer armed), not yet started. */
    public final boolean isPending() {
        return isPendingBit();
    }

    /**
     * Advisory snapshot (kernel {@code work_busy}): {@link #BUSY_PENDING} | {@link #BUSY_RUNNING}.
     * May be stale by the time it returns.
     */
    public final int busy() {
        return Pending.busy(this);
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
        return Barrier.flushWork(this, false);
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
        return Barrier.flushWorkInterruptibly(this);
    }

    /**
     * Takes the item off its queue if it is pending (kernel {@code cancel_work}). Does not wait
     * for a running instance.
     *
     * @return true if it was pending
     */
    public boolean cancel() {
        return Pending.cancel(this, false);
    }

    /**
     * Cancels and waits for a running instance to finish (kernel {@code cancel_work_sync}).
     * Correct for items that requeue themselves: on return the item is neither pending nor
     * running, unless another thread queued it again meanwhile. Not interruptible.
     *
     * @return true if it was pending
     * @throws IllegalStateException if called from this item's own function while it runs (it
     *                               would wait for itself); the item is enabled again
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public boolean cancelSync() {
        boolean was = Pending.cancel(this, true);
        try {
            Barrier.flushWork(this, true);
        } finally {
            Pending.enable(this);
        }
        return was;
    }

    /**
     * Increments the disable count and cancels (kernel {@code disable_work}). While the count
     * is non-zero every queue attempt returns false.
     *
     * @return true if it was pending
     * @throws IllegalStateException if the count would overflow (65535)
     */
    public boolean disable() {
        return Pending.cancel(this, true);
    }

    /**
     * {@link #disable()}, then waits for a running instance (kernel {@code disable_work_sync}).
     * Not interruptible.
     *
     * @return true if it was pending
     * @throws IllegalStateException if the count would overflow, or if called from this item's
     *                               own function while it runs (it would wait for itself; the
     *                               item stays disabled)
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    public boolean disableSync() {
        boolean was = disable();
        Barrier.flushWork(this, true);
        return was;
    }

    /**
     * Decrements the disable count (kernel {@code enable_work}).
     *
     * @return true if the count reached zero
     * @throws IllegalStateException if the item is not disabled
     */
    public boolean enable() {
        return Pending.enable(this);
    }

    /** The current disable count. */
    public final int disableDepth() {
        return disableCount();
    }

    @Override
    public String toString() {
        return "Work[" + name + "]";
    }
}
