package org.workqueue4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockMap;

import org.workqueue4j.internal.Barrier;
import org.workqueue4j.internal.Pending;
import org.workqueue4j.internal.WorkNode;
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
 *
 * <p>Thread-safe: every method may be called from any thread, concurrently with workers and the
 * timer; the item's engine state is one atomic word, so queueing allocates nothing and takes no
 * lock while the item is already pending.
 */
public class Work extends WorkNode {
    /** {@link #busy()} bit: the item is pending. */
    public static final int BUSY_PENDING = 1;
    /** {@link #busy()} bit: a worker is running the item. */
    public static final int BUSY_RUNNING = 2;

    private static final VarHandle MAP;
    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    /** Construction-site keys, one per source line (kernel INIT_WORK's static key); bounded by the code. */
    private static final ConcurrentHashMap<String, LockClassKey> SITE_KEYS = new ConcurrentHashMap<>();
    /**
     * Set once any runtime validates locks (or -Dworkqueue4j.lockdep=true): from then on items
     * learn their construction site. Volatile: a plain flag could stay unseen by other threads.
     */
    private static volatile boolean captureSites = Boolean.getBoolean("workqueue4j.lockdep");

    static {
        try {
            MAP = MethodHandles.lookup().findVarHandle(Work.class, "map", LockMap.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final Runnable function;
    /** Explicit or construction-site lock class, or null (then one of the item's own). */
    private final @Nullable LockClassKey lockClass;
    /** Created on first use while validating; installed once by CAS. */
    @SuppressWarnings("unused") // accessed through MAP
    private volatile @Nullable LockMap map;

    /**
     * An item whose lock class (for the validator) is its construction site, as the kernel's
     * {@code INIT_WORK}: items made on the same source line share one class.
     *
     * @param name     a name for dumps, reports and exceptions
     * @param function the body; it may queue this same item again
     * @throws NullPointerException if either is null
     */
    public Work(String name, Runnable function) {
        this(name, captureSites ? siteKey() : null, function);
    }

    /**
     * An item with an explicit lock class (kernel {@code INIT_WORK_ONSTACK_KEY}).
     *
     * @param function the body; it may queue this same item again
     * @param name a name for dumps, reports and exceptions
     * @param lockClass the validator class of this item's map; null for a class of its own
     */
    public Work(String name, @Nullable LockClassKey lockClass, Runnable function) {
        this.name = Objects.requireNonNull(name, "work name");
        this.function = Objects.requireNonNull(function, () -> "function of work '" + name + "'");
        this.lockClass = lockClass;
    }

    /** Called when a runtime with an enabled validator starts. */
    static void captureConstructionSites() {
        captureSites = true;
    }

    /** The first frame outside Work constructors (and their subclasses' constructors). */
    private static LockClassKey siteKey() {
        String site = WALKER.walk(frames -> frames
                .filter(f -> !(f.getMethodName().equals("<init>") && Work.class.isAssignableFrom(f.getDeclaringClass()))
                        && f.getDeclaringClass() != Work.class)
                .findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber())
                .orElse("?"));
        return SITE_KEYS.computeIfAbsent(site, s -> new LockClassKey("(work_completion)" + s));
    }

    /** The item's lock map for the validator (kernel work->lockdep_map). */
    @Override
    public final LockMap lockMap() {
        LockMap m = map;
        if (m == null) {
            LockClassKey k = lockClass != null ? lockClass : new LockClassKey("(work_completion)" + name);
            m = new LockMap("(work_completion)" + name, k);
            LockMap won = (LockMap) MAP.compareAndExchange(this, null, m); // volatile CAS: exactly one map per item
            if (won != null) {
                m = won;
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
     *
     * @return the running item, or null off a worker thread or between items
     */
    public static @Nullable Work current() {
        WorkNode n = WqRuntime.currentWork();
        return n instanceof Work ? (Work) n : null;
    }

    /** {@return true while the item is pending (queued, or its timer armed), not yet started} */
    public final boolean isPending() {
        return isPendingBit();
    }

    /**
     * Advisory snapshot (kernel {@code work_busy}): {@link #BUSY_PENDING} | {@link #BUSY_RUNNING}.
     * May be stale by the time it returns.
     *
     * @return {@link #BUSY_PENDING}, {@link #BUSY_RUNNING}, both or-ed, or 0
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
     * running, unless another thread queued it again meanwhile. Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return.
     *
     * @return true if it was pending
     * @throws IllegalStateException if called from this item's own function (it would wait
     *                               for itself)
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
     * Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return.
     *
     * @return true if it was pending
     * @throws IllegalStateException if called from this item's own function (it would wait
     *                               for itself), or if the count would overflow (65535)
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

    /**
     * {@return the current disable count: 0 when enabled, one more per {@link #disable()} not yet
     * matched by {@link #enable()}}
     */
    public final int disableDepth() {
        return disableCount();
    }

    @Override
    public String toString() {
        return "Work[" + name + "]";
    }
}
