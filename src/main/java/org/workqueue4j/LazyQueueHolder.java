package org.workqueue4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A queue created on first use by a long-lived owner (the kernel's {@code sb_init_dio_done_wq()}:
 * a superblock's direct-I/O completion queue). {@link #get()} is safe from any number of
 * threads; every caller gets the same queue.
 *
 * <pre>{@code
 * private final LazyQueueHolder dio = new LazyQueueHolder(LazyQueueHolder.Strategy.MUTEX,
 *         () -> runtime.queueBuilder("dio/" + id).memReclaim().build());
 * ...
 * dio.get().queue(completion);
 * }</pre>
 *
 * <p>Thread-safe: that is its purpose; {@link #get()} may race from any number of threads.
 */
// JSpecify is optional at run time (requires static): its @Nullable in this API is not re-exported on purpose.
@SuppressWarnings("exports")
public final class LazyQueueHolder {
    /*
     * Implementation Overview
     *
     * The queue reference is published once. Both strategies read it with an acquire load on
     * the fast path (the READ_ONCE/smp_load_acquire the thread asked for): a reader that sees
     * the reference also sees the fully constructed queue, which was published with release.
     *
     *   MUTEX (Eric Biggers' fix): miss -> take the mutex -> re-read -> create -> setRelease.
     *     Only the mutex holder allocates, so the loser of the race never creates a queue and
     *     never destroys one: no flush annotation on a never-used queue can happen here.
     *   CAS_DISCARD (upstream fs/super.c): miss -> create -> compareAndExchangeRelease(null,
     *     mine). The loser re-reads with acquire to use the winner's queue, and destroys its own
     *     never-used queue: the destroy whose flush annotation caused the 2020 false report.
     *
     * destroy() ends the holder: it sets `destroyed` (volatile), then reads the queue (volatile).
     * A first get() that publishes a queue (volatile) then reads `destroyed` (volatile): of a
     * destroy() and a creation racing it, at least one sees the other (Dekker) and destroys the
     * published queue (WorkQueue.destroy() is idempotent: a second call waits for the first); a
     * creator that finds the holder destroyed throws instead of returning the queue.
     */

    /**
     * How a race between first users is resolved.
     *
     * <p>Immutable; safe to share between threads.
     */
    public enum Strategy {
        /** Serialize creation with a mutex; the loser never allocates. */
        MUTEX,
        /** Create, publish with compare-and-exchange; the loser destroys its own, unused queue. */
        CAS_DISCARD
    }

    private static final VarHandle QUEUE;

    static {
        try {
            QUEUE = MethodHandles.lookup().findVarHandle(LazyQueueHolder.class, "queue", WorkQueue.class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e); // the JVM wraps it in ExceptionInInitializerError (named here, the verifier would load it at start-up)
        }
    }

    private final Strategy strategy;
    private final Supplier<WorkQueue> factory;
    private final ReentrantLock mutex = new ReentrantLock();
    private final LongAdder created = new LongAdder();
    private final LongAdder discarded = new LongAdder();
    @SuppressWarnings("unused") // accessed through QUEUE
    private @Nullable WorkQueue queue;
    /** destroy() was called; volatile: the Dekker check against a creation publishing meanwhile. */
    private volatile boolean destroyed;

    /**
     * Creates a holder; the queue is made on the first {@link #get()}.
     *
     * @param strategy how racing first users are resolved
     * @param factory  creates the queue; called at most once under MUTEX, once per racing
     *                 thread under CAS_DISCARD (a loser's queue is destroyed unless it is the
     *                 very queue that was published, as when the factory returns a shared queue)
     */
    public LazyQueueHolder(Strategy strategy, Supplier<WorkQueue> factory) {
        this.strategy = Objects.requireNonNull(strategy, "strategy");
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * Returns the queue, creating it on the first call. Under {@code MUTEX} a first caller may
     * wait for another's creation: not interruptible (a plain lock); the interrupt status is
     * kept. After {@link #destroy()}, returns the destroyed queue if one was made (its
     * operations then refuse, naming it); else it throws, as does a first call whose creation
     * raced the destroy (the queue it made is destroyed).
     *
     * @return the queue; the same instance for every caller
     * @throws IllegalStateException if this holder was destroyed before it published a queue
     */
    public WorkQueue get() {
        WorkQueue q = (WorkQueue) QUEUE.getAcquire(this); // pairs with the publisher's release
        if (q != null) {
            return q;
        }
        return strategy == Strategy.MUTEX ? createUnderMutex() : createAndRace();
    }

    private WorkQueue createUnderMutex() {
        // A StackOverflowError inside the JDK's acquisition is delivered after the mutex was
        // taken, before the try below: every later first get() would wait for good. Probed here,
        // it strikes with nothing taken (see WorkerPool.stackProbe).
        org.workqueue4j.internal.WorkerPool.probeStack();
        WorkQueue q;
        boolean published = false;
        mutex.lock();
        try {
            q = (WorkQueue) QUEUE.getAcquire(this);
            if (q == null) {
                refuseIfDestroyed();
                q = create();
                QUEUE.setVolatile(this, q); // publish the constructed queue; volatile: then read `destroyed` (Dekker)
                published = true;
            }
        } finally {
            mutex.unlock();
        }
        return published ? checkPublished(q) : q;
    }

    private WorkQueue createAndRace() {
        refuseIfDestroyed();
        WorkQueue mine = create();
        // Volatile (full-fence) exchange: then read `destroyed` (Dekker with destroy()).
        WorkQueue witness = (WorkQueue) QUEUE.compareAndExchange(this, null, mine);
        if (witness == null) {
            return checkPublished(mine);
        }
        // Lost: use the winner's queue (acquire pairs with its release), free ours (never used),
        // unless the factory handed both of us one queue it did not make (a shared or system
        // queue): that one is the winner's, published, and must live.
        WorkQueue winner = (WorkQueue) QUEUE.getAcquire(this);
        if (mine != winner) {
            discarded.increment();
            mine.destroy();
        }
        return winner;
    }

    /**
     * The calling first user published {@code q}: if a destroy() came meanwhile (it may have
     * read no queue), the queue is destroyed here too, and the call is refused.
     */
    private WorkQueue checkPublished(WorkQueue q) {
        if (!destroyed) {
            return q;
        }
        q.destroy();
        throw destroyedHolder();
    }

    private void refuseIfDestroyed() {
        if (destroyed) {
            throw destroyedHolder();
        }
    }

    private IllegalStateException destroyedHolder() {
        return new IllegalStateException("LazyQueueHolder was destroyed before its queue was made; no queue is made after destroy()");
    }

    private WorkQueue create() {
        WorkQueue q = Objects.requireNonNull(factory.get(), "LazyQueueHolder factory returned null");
        created.increment();
        return q;
    }

    /** {@return the queue if created, else null; never creates} */
    public @Nullable WorkQueue peek() {
        return (WorkQueue) QUEUE.getAcquire(this);
    }

    /** {@return the strategy racing first users are resolved by} */
    public Strategy strategy() {
        return strategy;
    }

    /** {@return queues the factory created (the winner's included)} */
    public long created() {
        return created.sum();
    }

    /** {@return queues that lost the race and were destroyed (CAS_DISCARD only; a loser handed the published queue itself destroys nothing)} */
    public long discarded() {
        return discarded.sum();
    }

    /**
     * Destroys the queue if it was created, and ends the holder: no queue is made after this
     * (a later {@link #get()} that finds none throws). Waits as {@link WorkQueue#destroy()} does
     * (not interruptible). A first {@code get()} racing it either published its queue before,
     * and this destroys it, or finds the holder destroyed: it then destroys the queue it made
     * itself and throws. A second call waits as a second {@link WorkQueue#destroy()} does.
     */
    public void destroy() {
        destroyed = true; // volatile: then read the queue (Dekker with a creation publishing)
        WorkQueue q = (WorkQueue) QUEUE.getVolatile(this);
        if (q != null) {
            q.destroy();
        }
    }
}
