package org.workqueue4j.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
     * One entry per waiting thread, the outermost wait only (close → destroy → drain → flush is
     * reported as the close): begin() is a putIfAbsent keyed by the thread and returns null for
     * a nested wait, end() removes only its own entry. ConcurrentHashMap publishes the entry to
     * the monitor (happens-before from put to the monitor's read). `reported` is touched by the
     * monitor thread only.
     */

    /** One registered wait. */
    static final class Waiter {
        final Thread thread = Thread.currentThread();
        final String op;
        final WorkqueueStruct wq;
        final WorkNode work;
        final long startNanos = System.nanoTime();
        boolean reported; // monitor thread only

        Waiter(String op, WorkqueueStruct wq, WorkNode work) {
            this.op = op;
            this.wq = wq;
            this.work = work;
        }

        String what() {
            return op + "(" + (work != null ? "work '" + work.name() + "'" : wq != null ? "queue '" + wq.name() + "'" : "runtime")
                    + ")";
        }
    }

    private final Map<Thread, Waiter> waiters = new ConcurrentHashMap<>();
    private final boolean enabled;

    HungWaits(boolean enabled) {
        this.enabled = enabled;
    }

    /** Registers the calling thread's wait; null (nothing to end) if nested or the watchdog is off. */
    Waiter begin(String op, WorkqueueStruct wq, WorkNode work) {
        if (!enabled) {
            return null;
        }
        Waiter w = new Waiter(op, wq, work);
        return waiters.putIfAbsent(w.thread, w) == null ? w : null;
    }

    void end(Waiter w) {
        if (w != null) {
            waiters.remove(w.thread, w);
        }
    }

    /** Monitor: the report for every wait longer than {@code thresholdNanos} not reported yet. */
    List<String> check(WqRuntime rt, long now, long thresholdNanos) {
        List<String> out = null;
        for (Waiter w : waiters.values()) {
            if (w.reported || now - w.startNanos <= thresholdNanos) {
                continue;
            }
            w.reported = true;
            if (out == null) {
                out = new ArrayList<>();
            }
            out.add(report(rt, w, now));
        }
        return out;
    }

    private static String report(WqRuntime rt, Waiter w, long now) {
        StringBuilder sb = new StringBuilder("INFO: workqueue: task '").append(w.thread.getName())
                .append("' blocked for more than ").append(TimeUnit.NANOSECONDS.toSeconds(now - w.startNanos))
                .append("s in ").append(w.what()).append('\n');
        StackTraceElement[] own = w.thread.getStackTrace();
        for (StackTraceElement e : own) {
            sb.append("    at ").append(e).append('\n');
        }
        // The items it waits for that are running now, with their workers' stacks.
        List<Worker> blockers = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        int pending = 0;
        for (WorkerPool p : rt.allPools()) {
            p.lock.lock();
            try {
                for (Worker k : p.workers) {
                    WorkNode cur = k.currentWork;
                    if (cur != null && (w.work != null ? cur == w.work : w.wq == null || (k.currentPwq != null && k.currentPwq.wq == w.wq))) {
                        blockers.add(k);
                        labels.add("'" + cur.name() + "' of queue '" + k.currentPwq.wq.name() + "'");
                    }
                }
                for (WorkNode n = p.worklist.first(); n != null; n = n.next) {
                    if (w.work != null ? n == w.work : w.wq == null || (n.pwq != null && n.pwq.wq == w.wq)) {
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
