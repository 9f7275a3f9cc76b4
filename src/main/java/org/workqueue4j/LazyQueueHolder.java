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
     * kept.
     *
     * @return the queue; the same instance for every caller
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
        mutex.lock();
        try {
            WorkQueue q = (WorkQueue) QUEUE.getAcquire(this);
            if (q == null) {
                q = create();
                QUEUE.setRelease(this, q); // publish the constructed queue
            }
            return q;
        } finally {
            mutex.unlock();
        }
    }

    private WorkQueue createAndRace() {
        WorkQueue mine = create();
        WorkQueue witness = (WorkQueue) QUEUE.compareAndExchangeRelease(this, null, mine);
        if (witness == null) {
            return mine;
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
     * Destroys the queue if it was created; waits as {@link WorkQueue#destroy()} does (not
     * interruptible).
     */
    public void destroy() {
        WorkQueue q = peek();
        if (q != null) {
            q.destroy();
        }
    }
}
