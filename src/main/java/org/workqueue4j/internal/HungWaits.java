package org.workqueue4j.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The hung-waiter detector (kernel: the hung-task detector, in the watchdog's remit): every
 * {@code flush}, {@code cancelSync}, {@code drain}, {@code destroy} and {@code close} registers
 * its wait here while the watchdog is on; the monitor reports each one waiting longer than the
 * watchdog threshold, once, with what it waits for, the items blocking it and their workers'
 * stacks. This catches what the pool watchdog cannot see: a flush cycle (two items flushing
 * each other's queues, an ordered item flushing a later sibling) leaves every pool with a
 * running item, never a stalled worklist.
 */
final class HungWaits {
    /*
     * Implementation Overview
     *
     * One record per waiting thread and runtime, made on the thread's first wait and reused
     * for every later one (a flush allocates nothing here), kept in a ThreadLocal of this
     * runtime and registered once in `waiters` for the monitor. Only the outermost wait is
     * recorded (close → destroy → drain → flush is reported as the close): begin() finds the
     * record busy (odd `seq`) for a nested wait and returns null, and end() ends only the
     * record begin() returned.
     *
     * The record is a sequence lock with one writer, its thread: begin() writes the fields,
     * then bumps `seq` to odd (volatile store: releases the fields); end() bumps it back to
     * even, then a store-store fence (the next wait's field writes stay after it). The monitor reads `seq` (volatile load), the fields, an acquire fence, then `seq`
     * again: equal and odd means the fields belong to that one wait (StampedLock's validate
     * pattern); anything else is a wait that ended meanwhile and is skipped. `reportedSeq` (the
     * monitor's only) makes each wait reported once. Records of threads that have ended are
     * dropped by the monitor's check.
     */

    /** One thread's wait record, reused for each of its outermost waits. */
    static final class Waiter {
        final Thread thread = Thread.currentThread();
        /** Odd while a wait is recorded; written by the owner only (volatile: the seqlock stamp). */
        volatile int seq;
        // Written by the owner before the odd stamp, read by the monitor under the stamp.
        String op = "";
        @org.jspecify.annotations.Nullable WorkqueueStruct wq;
        @org.jspecify.annotations.Nullable WorkNode work;
        long startNanos;
        /** The stamp of the wait last reported (monitor thread only). */
        int reportedSeq;
    }

    /**
     * Every thread's record, copy-on-write: a thread adds its own once, on its first wait; the
     * monitor drops those of ended threads. Written under this object's monitor, published by
     * the volatile write; the monitor's scan walks the array it reads, allocating nothing (an
     * iterator over a map was about 70 bytes a scan, 400 scans a second while the runtime is
     * busy). Package-private: read by the jcstress seqlock test as check() reads it.
     */
    volatile Waiter[] waiters = new Waiter[0];
    private final ThreadLocal<Waiter> mine = new ThreadLocal<>();
    private final boolean enabled;

    HungWaits(boolean enabled) {
        this.enabled = enabled;
    }

    /** Records the calling thread's wait; null (nothing to end) if nested or the watchdog is off. */
    @org.jspecify.annotations.Nullable
    Waiter begin(String op, @org.jspecify.annotations.Nullable WorkqueueStruct wq,
                 @org.jspecify.annotations.Nullable WorkNode work) {
        if (!enabled) {
            return null;
        }
        Waiter w = mine.get();
        if (w == null) { // the thread's first wait on this runtime: the only allocation
            w = new Waiter();
            mine.set(w);
            add(w);
        } else if ((w.seq & 1) != 0) {
            return null; // nested in a recorded wait
        }
        w.op = op;
        w.wq = wq;
        w.work = work;
        w.startNanos = System.nanoTime();
        w.seq = w.seq + 1; // odd; volatile store releases the fields above
        return w;
    }

    /**
     * Registers a thread's record. Past {@link #pruneAt} records it first drops those of ended
     * threads, so the array stays within about twice the live ones and each add costs O(1)
     * amortized: with a thread per wait (one-shot threads, virtual threads), each add copied every
     * record of every thread ever seen, and only the monitor's scan, once a threshold when idle,
     * dropped dead ones, one array copy each (200k one-shot callers took 82 s instead of 2).
     */
    private synchronized void add(Waiter w) {
        Waiter[] old = waiters;
        if (old.length >= pruneAt) {
            old = live(old);
            pruneAt = Math.max(PRUNE_MIN, 2 * old.length);
        }
        Waiter[] next = java.util.Arrays.copyOf(old, old.length + 1);
        next[old.length] = w;
        waiters = next; // volatile write: publishes the record, built before it
    }

    /** Guarded by this: the array size at which add() drops the records of ended threads first. */
    private int pruneAt = PRUNE_MIN;
    private static final int PRUNE_MIN = 64;

    /** Drops the records of ended threads (the monitor, when its scan met one). */
    synchronized void prune() {
        Waiter[] old = waiters;
        Waiter[] kept = live(old);
        if (kept.length != old.length) {
            waiters = kept;
        }
        pruneAt = Math.max(PRUNE_MIN, 2 * kept.length);
    }

    /**
     * The records of threads still alive (the array itself if all are). One pass, each thread
     * asked once: a thread that ends while this runs is kept or dropped, never counted alive
     * and then skipped (two passes left a null slot at the end, and every later scan, add and
     * prune threw NullPointerException).
     */
    private static Waiter[] live(Waiter[] all) {
        Waiter[] kept = new Waiter[all.length];
        int n = 0;
        for (Waiter w : all) {
            if (w.thread.isAlive()) {
                kept[n++] = w;
            }
        }
        return n == all.length ? all : java.util.Arrays.copyOf(kept, n);
    }

    void end(@org.jspecify.annotations.Nullable Waiter w) {
        if (w != null) {
            w.seq = w.seq + 1; // even: the wait is over (volatile store)
            // Store-store fence: the clears below and the next wait's field writes must not
            // become visible before the even stamp, or the monitor could validate the odd
            // stamp of this wait with the next wait's fields (a release store orders only the
            // stores before it; the kernel's write_seqcount_begin has smp_wmb() here).
            java.lang.invoke.VarHandle.storeStoreFence();
            w.wq = null; // no reference to the queue or item kept past the wait
            w.work = null;
        }
    }

    /**
     * Monitor: reports (through {@code rt.report}, as it goes) every wait longer than
     * {@code thresholdNanos} not reported yet. Each report goes out as soon as it is built, so
     * an Error building a later one loses none taken before it (a list handed back at the end
     * was dropped with such an Error, its waits already marked reported). A report that cannot
     * be built goes out with its first line only; if even that fails, the wait stays unmarked
     * and the next scan tries again.
     */
    void check(WqRuntime rt, long now, long thresholdNanos) {
        boolean ended = false;
        for (Waiter w : waiters) { // volatile read of the array: pairs with add's write
            int stamp = w.seq;
            if ((stamp & 1) == 0) {
                ended |= !w.thread.isAlive();
                continue;
            }
            if (w.reportedSeq == stamp) {
                continue;
            }
            String op = w.op;
            WorkqueueStruct wq = w.wq;
            WorkNode work = w.work;
            long start = w.startNanos;
            java.lang.invoke.VarHandle.acquireFence(); // the field reads above come before the re-read below
            if (w.seq != stamp || now - start <= thresholdNanos) {
                continue; // ended (or reused) meanwhile, or not long enough yet
            }
            String text;
            try {
                text = report(rt, w.thread, op, wq, work, now - start);
            } catch (Throwable e) { // an allocation failure building the stacks, say
                try {
                    Log.log(System.Logger.Level.ERROR, "workqueue: a hung-wait report could not be built", e);
                    text = firstLine(w.thread, op, wq, work, now - start) + "  (its stacks are left out: the report could not be built)\n";
                } catch (Throwable again) {
                    continue; // not marked: the next scan tries again
                }
            }
            w.reportedSeq = stamp; // once built
            rt.report(text);
        }
        if (ended) {
            prune(); // one copy for every record of an ended thread met
        }
    }

    private static String firstLine(Thread thread, String op, @org.jspecify.annotations.Nullable WorkqueueStruct wq,
                                    @org.jspecify.annotations.Nullable WorkNode work, long waitedNanos) {
        return "INFO: workqueue: task '" + thread.getName() + "' blocked for more than "
                + TimeUnit.NANOSECONDS.toSeconds(waitedNanos) + "s in " + what(op, wq, work) + "\n";
    }

    private static String what(String op, @org.jspecify.annotations.Nullable WorkqueueStruct wq,
                               @org.jspecify.annotations.Nullable WorkNode work) {
        return op + "(" + (work != null ? "work '" + work.name() + "'" : wq != null ? "queue '" + wq.name() + "'" : "runtime")
                + ")";
    }

    private static String report(WqRuntime rt, Thread thread, String op, @org.jspecify.annotations.Nullable WorkqueueStruct wq,
                                 @org.jspecify.annotations.Nullable WorkNode work, long waitedNanos) {
        WqRuntime.testHook("hungWaits.report", thread);
        StringBuilder sb = new StringBuilder(firstLine(thread, op, wq, work, waitedNanos));
        StackTraceElement[] own = thread.getStackTrace();
        for (StackTraceElement e : own) {
            sb.append("    at ").append(e).append('\n');
        }
        // The items it waits for that are running now, with their workers' stacks.
        List<Worker> blockers = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        int pending = 0;
        Iterable<Worker> rescuers = rt.rescuerWorkers(); // a memReclaim queue's item may run on its rescuer
        for (WorkerPool p : rt.allPools()) {
            p.lock.lock();
            try {
                for (Worker k : p.busyWorkers(rescuers)) {
                    WorkNode cur = k.currentWork;
                    PoolWorkqueue cp = k.currentPwq; // read once: a rescuer's may change (see busyWorkers)
                    if (cur != null && cp != null && (work != null ? cur == work : wq == null || cp.wq == wq)) {
                        blockers.add(k);
                        labels.add("'" + cur.name() + "' of queue '" + cp.wq.name() + "'");
                    }
                }
                for (WorkNode n = p.worklist.first(); n != null; n = n.next) {
                    if (work != null ? n == work : wq == null || (n.pwq != null && n.pwq.wq == wq)) {
                        pending++;
                    }
                }
            } finally {
                p.lock.unlock();
            }
        }
        sb.append("  waits for ").append(blockers.size()).append(" running item(s)")
                .append(pending > 0 ? " and " + pending + " queued item(s) not started" : "")
                .append(blockers.isEmpty() ? " (none running: inactive, frozen or waiting for another flusher)" : ":").append('\n');
        for (int i = 0; i < blockers.size(); i++) {
            Worker k = blockers.get(i);
            sb.append("  ").append(labels.get(i)).append(" on ").append(k.thread.getName()).append(" (")
                    .append(k.thread.getState()).append("):\n");
            for (StackTraceElement e : k.thread.getStackTrace()) {
                sb.append("      at ").append(e).append('\n');
            }
        }
        return sb.toString();
    }
}
