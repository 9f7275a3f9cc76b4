package org.workqueue4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A one-waiter count-down (kernel {@code completion}): the waiter parks until the count reaches
 * zero. Waiting from a worker counts as a library wait for concurrency management.
 */
final class Completion {
    private static final VarHandle COUNT;

    static {
        try {
            COUNT = MethodHandles.lookup().findVarHandle(Completion.class, "count", int.class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e); // the JVM wraps it in ExceptionInInitializerError (named here, the verifier would load it at start-up)
        }
    }

    /** Read and set directly, changed by read-modify-writes through COUNT. */
    private volatile int count;
    private volatile Thread waiter;

    Completion(int count) {
        this.count = count;
    }

    /** Re-arms for a new wait; only when no count-down of the previous round can still come. Volatile write. */
    void reset(int n) {
        count = n; // the field, not COUNT.setVolatile (the same access, no call site to link: see WorkNode.state())
    }

    void add(int n) {
        int unused = (int) COUNT.getAndAdd(this, n); // typed as countDown's: one call site to link
    }

    /**
     * Volatile decrement: the last one happens-before the waiter's return.
     *
     * @return true if this call brought the count to zero
     */
    boolean countDown() {
        if ((int) COUNT.getAndAdd(this, -1) == 1) {
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
            return true;
        }
        return false;
    }

    boolean isDone() {
        return count <= 0; // volatile read of the field (see reset)
    }

    /** Spin iterations before a waiter that is not a worker parks. */
    static final int SPINS = 256;

    /**
     * A waiter that is not a worker spins briefly (volatile reads of the count) before it parks:
     * a short wait (one item, a few microseconds) then costs neither side an unpark and a
     * scheduler wake-up, which is most of a single item's round trip. A worker does not spin: it
     * leaves the running set first, so that its pool may wake another worker at once.
     *
     * @return true if done
     */
    private boolean spinDone(Worker w) { // w: null for a thread that is not a worker
        return w == null && spin();
    }

    /**
     * The interruptible waits spin only without an interrupt pending: an interrupted caller
     * that would wait gets its InterruptedException at once, as before the spin existed.
     */
    private boolean spinDoneInterruptibly(Worker w) {
        return w == null && !Thread.currentThread().isInterrupted() && spin();
    }

    private boolean spin() {
        for (int i = 0; i < SPINS; i++) {
            if (isDone()) {
                return true;
            }
            Thread.onSpinWait();
        }
        return isDone();
    }

    /**
     * Waits until done. Not interruptible: an interrupt is remembered and re-asserted on
     * return, as Java users expect of an uninterruptible wait.
     */
    void await() {
        await(true);
    }

    /**
     * {@link #await()}; with {@code spin} false a thread that is not a worker parks at once
     * (a wait known to be long, whose spin would only take a CPU from the threads it waits for).
     */
    void await(boolean spin) {
        if (isDone()) {
            return;
        }
        Worker w = Worker.current();
        if (spin && spinDone(w)) {
            return;
        }
        if (w != null) {
            w.sleeping();
        }
        boolean interrupted = false;
        waiter = Thread.currentThread();
        try {
            while (!isDone()) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
        } finally {
            waiter = null;
            if (w != null) {
                w.running();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until done or interrupted. */
    void awaitInterruptibly() throws InterruptedException {
        awaitInterruptibly(true);
    }

    /** {@link #awaitInterruptibly()}, spinning first only if {@code spin} (see {@link #await(boolean)}). */
    void awaitInterruptibly(boolean spin) throws InterruptedException {
        if (isDone()) {
            return;
        }
        Worker w = Worker.current();
        if (spin && spinDoneInterruptibly(w)) {
            return;
        }
        if (w != null) {
            w.sleeping();
        }
        waiter = Thread.currentThread();
        try {
            while (!isDone()) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                LockSupport.park(this);
            }
        } finally {
            waiter = null;
            if (w != null) {
                w.running();
            }
        }
    }

    /**
     * Waits until done, {@code deadline} (System.nanoTime()) passes, or the thread is
     * interrupted.
     *
     * @return true if done, false if the deadline passed first
     * @throws InterruptedException if interrupted first (the status is cleared)
     */
    boolean awaitUntil(long deadline) throws InterruptedException {
        return awaitUntil(deadline, true);
    }

    /**
     * {@link #awaitUntil(long)}, spinning first only if {@code spin} (see {@link #await(boolean)}).
     *
     * @return true if done, false if the deadline passed first
     * @throws InterruptedException if interrupted first (the status is cleared)
     */
    boolean awaitUntil(long deadline, boolean spin) throws InterruptedException {
        if (isDone()) {
            return true;
        }
        Worker w = Worker.current();
        // No spin once the deadline has passed: a zero timeout means "do not wait".
        if (spin && deadline - System.nanoTime() > 0 && spinDoneInterruptibly(w)) {
            return true;
        }
        if (w != null) {
            w.sleeping();
        }
        waiter = Thread.currentThread();
        try {
            while (!isDone()) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LockSupport.parkNanos(this, left);
            }
            return true;
        } finally {
            waiter = null;
            if (w != null) {
                w.running();
            }
        }
    }
}
