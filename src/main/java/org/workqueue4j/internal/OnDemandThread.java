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
     * the one stop() returns. Nobody waits for a creation in flight.
     *
     * Memory ordering: `thread` is volatile and written once, under the monitor, before the
     * thread starts (release); unpark() and isThread() read it with a plain volatile load
     * (acquire) and see null or the started thread. `settled` (volatile, written under the
     * monitor once STARTED or STOPPED, never cleared) is the fast path of start(): once true,
     * start() is one volatile read, as the double-checked idiom allows because the thread and
     * the state were written before it (program order under the monitor, then release).
     */

    private static final int NEW = 0;
    private static final int CREATING = 1;
    private static final int STARTED = 2;
    private static final int STOPPED = 3;

    private final WqRuntime runtime;
    private final Runnable body;
    private final String name;
    private int state; // guarded by this
    private volatile Thread thread;
    private volatile boolean settled;

    OnDemandThread(WqRuntime runtime, Runnable body, String name) {
        this.runtime = runtime;
        this.body = body;
        this.name = name;
    }

    /**
     * Starts the thread unless it is started, being started by another call, or stopped. Must
     * not be called under an engine lock (it runs the user's thread factory). Whatever the
     * factory or {@code Thread.start()} throws propagates, and a later call tries again.
     */
    void start() {
        if (settled) {
            return;
        }
        synchronized (this) {
            if (state != NEW) {
                return;
            }
            state = CREATING;
        }
        Thread t = null;
        try {
            t = runtime.newThread(body, name);
        } finally {
            if (t == null) { // the factory threw: give the claim back
                synchronized (this) {
                    if (state == CREATING) {
                        state = NEW;
                    }
                }
            }
        }
        synchronized (this) {
            if (state != CREATING) { // stopped meanwhile: this thread never starts
                return;
            }
            thread = t;
            boolean ok = false;
            try {
                t.start();
                ok = true;
            } finally {
                if (ok) {
                    state = STARTED;
                    settled = true;
                } else { // OutOfMemoryError: unable to create native thread
                    thread = null;
                    state = NEW;
                }
            }
        }
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
     * True on the thread this object started. A body checks it first: a ThreadFactory that
     * starts the thread it returns runs the body on a thread the runtime refused and will never
     * stop or join (volatile read; {@code thread} is written before {@code Thread.start}, which
     * happens-before the started thread's first action).
     */
    boolean isCurrent() {
        return thread == Thread.currentThread();
    }
}
