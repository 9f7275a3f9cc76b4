package org.workqueue4j.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * A runtime thread that starts the first time something needs it ({@code kworker/timer},
 * {@code kworker/monitor}, {@code kworker/manager}), and never after the runtime began closing.
 * {@code WorkQueues.create()} starts no thread at all: a runtime that never arms a timer pays for
 * no timer thread, and the first item does not wait for threads it does not need.
 */
final class OnDemandThread {
    /*
     * Implementation Overview
     *
     * States, guarded by this object's monitor:
     *
     *   NEW ──start()──▶ CREATING ──(factory returned, Thread.start ok)──▶ STARTED
     *    │                  │   └──(factory or Thread.start threw)──▶ NEW   (a later start() retries)
     *    └──stop()──▶ STOPPED ◀──stop()──┘
     *
     * start() claims CREATING under the monitor, then calls the user's ThreadFactory with no lock
     * held (a factory may be slow, may queue work, may even call back into start(): it then finds
     * CREATING and returns). It retakes the monitor to start the thread: if stop() came meanwhile
     * the state is STOPPED and the made thread is never started; otherwise Thread.start() runs
     * under the monitor together with the move to STARTED. stop() takes the same monitor, so it
     * sees either a state from which no thread can start any more (NEW, CREATING: the creator
     * will find STOPPED) or STARTED with the thread already started, which it returns for close()
     * to join. Hence: no thread starts after stop() returned, and every thread that started is
     * the one stop() returns. stop() never waits for a creation in flight.
     *
     * Check-in. A ThreadFactory may return a thread that never runs the Runnable it was given
     * (a wrapper that forgets to call it, a thread whose own run() ignores it). Such a thread
     * starts, ends at once, and the runtime would count on a timer, manager or monitor that
     * does not exist: delayed items would never fire, dead workers never be reaped, and
     * nothing would say so. So the call that started the thread waits, outside the monitor,
     * until the body checks in (checkIn(), the body's first action) or the thread is seen dead
     * without having checked in. Dead: the state goes back to NEW (the thread is forgotten, a
     * later start() calls the factory again) and start() throws, refusing the operation that
     * needed the thread, as a throwing factory does. The wait ends after CHECK_IN_NANOS even
     * if the thread neither ran nor ended (a slow factory thread is not a broken one); if such
     * a thread later ends without having run, the next start() sees it (settled, `ran` false,
     * the thread dead), forgets it and makes a new one (endedUnrun). Other
     * start() callers share the outcome: one that finds STARTED before the start settled waits
     * for the same check-in (and is refused with the first if the thread ended without it);
     * one that finds CREATING on another thread waits, up to CHECK_IN_NANOS, for the factory
     * call to end, then looks again (NEW after a failure: it calls the factory itself). Before,
     * such a caller went on at once and its operation (a second first queue, a second first
     * delayed item) counted on a thread that never ran while the first one was refused. The
     * creator's own re-entrant start() (a factory that calls back) returns at once.
     * The wait costs one thread start-up (the body's first instruction) while the JVM is cold,
     * about a millisecond. start() is launch() then awaitLaunched(), so that the first queue,
     * which needs two threads, launches both, builds itself meanwhile and only then waits for
     * the two check-ins (WqRuntime.newQueue): the waits overlap each other and that work.
     *
     * Memory ordering: `thread` is volatile and written once, under the monitor, before the
     * thread starts (release); unpark() and isThread() read it with a plain volatile load
     * (acquire) and see null or the started thread. `settled` (volatile, written under the
     * monitor once STARTED or STOPPED; cleared, under the monitor, only by endedUnrun) is the
     * fast path of start(): once true, start() is two volatile reads (`settled`, `ran`), as
     * the double-checked idiom allows because the thread and the state were written before it
     * (program order under the monitor, then release).
     */

    private static final int NEW = 0;
    private static final int CREATING = 1;
    private static final int STARTED = 2;
    private static final int STOPPED = 3;

    private final WqRuntime runtime;
    private final Runnable body;
    private final String name;
    private int state; // guarded by this
    /** The thread in the factory while CREATING, else null (guarded by this). */
    private @org.jspecify.annotations.Nullable Thread creator;
    private volatile Thread thread;
    private volatile boolean settled;
    /** The body ran on the started thread (set by checkIn; volatile: read by the waiting starter). */
    private volatile boolean ran;
    /** The start() call waiting for the check-in, unparked by it (volatile: written before Thread.start). */
    private volatile @org.jspecify.annotations.Nullable Thread starter;

    /** How long start() waits for a started thread that is alive to run its body. */
    static final long CHECK_IN_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    OnDemandThread(WqRuntime runtime, Runnable body, String name) {
        this.runtime = runtime;
        this.body = body;
        this.name = name;
    }

    /**
     * Starts the thread unless it is started or stopped; if another call is starting it, waits
     * (up to CHECK_IN_NANOS per phase, no lock held) for that start's outcome and shares it. Must
     * not be called under an engine lock (it runs the user's thread factory). Whatever the
     * factory or {@code Thread.start()} throws propagates, and a later call tries again. Not
     * interruptible: an interrupt that arrives meanwhile is kept.
     *
     * @throws IllegalStateException if the thread started (by this call or the one it waited
     *         for) ended without running its body
     */
    void start() {
        IllegalStateException dropped = awaitLaunched(launch());
        if (dropped != null) {
            throw dropped;
        }
    }

    /**
     * The first half of {@link #start()}: everything but this call's own check-in wait, so that
     * a caller can start several threads and do other work while they start (the first queue
     * starts the manager and the monitor, then builds the queue, then waits for both). The
     * thread returned must be handed to {@link #awaitLaunched} by the same caller, on every
     * path (also when something between the two calls threw).
     *
     * @return the thread this call started, whose check-in is still to be awaited, or null
     *         when there is nothing to wait for (started and settled before, stopped, or
     *         another call's start, already waited for here)
     * @throws IllegalStateException if another call's start, waited for here, ended without
     *         running its body
     */
    @org.jspecify.annotations.Nullable
    Thread launch() {
        long deadline = 0;
        boolean interrupted = false;
        try {
            while (true) { // until this call claims the start, or another one's start is settled
                if (settled && (ran || !endedUnrun())) {
                    return null;
                }
                Thread other;
                synchronized (this) {
                    if (state == NEW) {
                        state = CREATING;
                        creator = Thread.currentThread();
                        break;
                    }
                    if (state == STOPPED || creator == Thread.currentThread()) {
                        return null; // stopped, or the factory called back into start() on its own thread
                    }
                    other = state == STARTED ? thread : null;
                }
                if (other != null) { // another call started it and waits for its check-in: so does this one
                    IllegalStateException dropped = awaitCheckIn(other, false);
                    if (dropped != null) {
                        throw dropped;
                    }
                    return null;
                }
                // CREATING on another thread, in the factory: wait for its outcome (bounded, as
                // the check-in), then look again; a failure leaves NEW and this call retries.
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + CHECK_IN_NANOS;
                } else if (now - deadline >= 0) {
                    return null; // a slow factory: go on as for a start in flight
                }
                LockSupport.parkNanos(this, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1));
                if (Thread.interrupted()) {
                    interrupted = true; // kept for the return; parkNanos would not park with it set
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        Thread t = null;
        try {
            t = runtime.newServiceThread(body, name);
        } finally {
            if (t == null) { // the factory threw: give the claim back
                synchronized (this) {
                    creator = null;
                    if (state == CREATING) {
                        state = NEW;
                    }
                }
            }
        }
        synchronized (this) {
            creator = null;
            if (state != CREATING) { // stopped meanwhile: this thread never starts
                return null;
            }
            thread = t;
            starter = Thread.currentThread();
            boolean ok = false;
            try {
                t.start();
                ok = true;
            } finally {
                if (ok) {
                    state = STARTED;
                } else { // OutOfMemoryError: unable to create native thread
                    thread = null;
                    starter = null;
                    state = NEW;
                }
            }
        }
        return t;
    }

    /**
     * The second half of {@link #start()}: waits (no lock held, up to CHECK_IN_NANOS) for the
     * check-in of {@code t}, the thread {@link #launch()} returned to this caller. Not
     * interruptible: an interrupt that arrives meanwhile is kept.
     *
     * @param t the thread launch() returned, or null (nothing to wait for)
     * @return null, or the refusal to throw if {@code t} ended without running its body (then
     *         forgotten: the next start() calls the factory again)
     */
    @org.jspecify.annotations.Nullable
    IllegalStateException awaitLaunched(@org.jspecify.annotations.Nullable Thread t) {
        return t == null ? null : awaitCheckIn(t, true);
    }

    /**
     * A start settled by the check-in wait's timeout (the thread alive, its body not run yet)
     * whose thread has since ended without running it: forgets that thread (NEW, not settled)
     * so that this start() makes a new one, whose body serves what was armed meanwhile.
     * {@return true if it was forgotten} Only on the settled path with {@code ran} false: a
     * started thread that ran, a stopped one, or one still alive costs nothing more.
     */
    private boolean endedUnrun() {
        Thread t = thread; // volatile read
        return t != null && !t.isAlive() && t.getState() != Thread.State.NEW && !ran && forget(t);
    }

    /**
     * {@code t} ended without running its body: unless it was stopped (close() joins it) or
     * replaced meanwhile, forgets it (NEW, not settled), so that the next start() calls the
     * factory again. {@return true if it was forgotten}
     */
    private synchronized boolean forget(Thread t) {
        if (state != STARTED || thread != t || ran) {
            return false;
        }
        state = NEW;
        thread = null;
        settled = false;
        return true;
    }

    /**
     * Waits (no lock held) until {@code t}'s body checked in, {@code t} ended without checking
     * in (then forgets it and returns the refusal for the caller to throw), or CHECK_IN_NANOS
     * passed. Not interruptible: an interrupt that arrives meanwhile is kept for the caller.
     */
    private @org.jspecify.annotations.Nullable IllegalStateException awaitCheckIn(Thread t, boolean own) {
        boolean interrupted = false;
        long deadline = System.nanoTime() + CHECK_IN_NANOS;
        try {
            while (!ran) {
                if (!t.isAlive()) {
                    if (ran || t.getState() == Thread.State.NEW) {
                        // Checked in, then ended (a stop() came meanwhile); or never started:
                        // a Thread subclass whose start() does not start it (a test's
                        // hand-driven runtime). Neither is a thread that dropped its body.
                        break;
                    }
                    forget(t);
                    return new IllegalStateException("workqueue: runtime thread '" + t.getName()
                            + "' ended without running the Runnable given to the ThreadFactory (does the factory's"
                            + " thread run it?); refused what needed the thread, the next need tries again");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break; // alive and not yet running its body: slow, not broken
                }
                LockSupport.parkNanos(this, Math.min(left, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1)));
                if (Thread.interrupted()) {
                    interrupted = true; // or parkNanos would return at once from now on
                }
            }
        } finally {
            if (own) {
                starter = null;
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            if (state == STARTED) {
                settled = true;
            }
        }
        return null;
    }

    /**
     * No thread starts after this returns.
     *
     * @return the started thread, to be joined, or null if none was started
     */
    synchronized Thread stop() {
        state = STOPPED;
        settled = true;
        return thread;
    }

    /** Unparks the thread if it was started (a no-op before). Safe under any lock. */
    void unpark() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** {@return the started thread, or null} */
    Thread thread() {
        return thread;
    }

    /**
     * The body's first action: true on the thread this object started, which then counts as
     * running (the starter waiting in start() is released). False on any other thread: a
     * ThreadFactory that starts the thread it returns runs the body on a thread the runtime
     * refused and will never stop or join, and the body must return at once (volatile read;
     * {@code thread} is written before {@code Thread.start}, which happens-before the started
     * thread's first action).
     */
    boolean checkIn() {
        if (thread != Thread.currentThread()) {
            return false;
        }
        ran = true; // volatile store before the unpark: the starter's re-check sees it
        Thread s = starter;
        if (s != null) {
            LockSupport.unpark(s);
        }
        return true;
    }
}
