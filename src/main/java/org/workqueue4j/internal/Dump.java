package org.workqueue4j.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.workqueue4j.WorkQueuesDump;

/**
 * State dumps in the kernel's {@code show_all_workqueues} layout. Each pool is read under its
 * lock, one pool at a time, so a dump is consistent per pool, not globally.
 */
final class Dump {
    private Dump() {
    }

    /**
     * <pre>
     * Showing busy workqueues and worker pools:
     * workqueue events: flags=0x0
     *   pwq 0: cpus=0 flags=0x0 nice=0 active=1 refcnt=2
     *     in-flight: kworker/0:1:slow_work
     *     pending: w1, BAR(w1)
     *     inactive: w2
     * pool 0: cpus=0 flags=0x0 nice=0 hung=0s workers=2 idle: kworker/0:2
     * </pre>
     */
    static String showAllWorkqueues(WqRuntime rt) {
        return snapshot(rt).toString();
    }

    /** The data behind {@link #showAllWorkqueues}: busy queues, and pools with a worker or an item. */
    static WorkQueuesDump snapshot(WqRuntime rt) {
        List<WorkQueuesDump.Queue> queueRows = new ArrayList<>();
        Iterable<Worker> rescuers = rt.rescuerWorkers(); // a rescuer's item is in flight in the pool it rescues
        List<WorkqueueStruct> queues = new ArrayList<>(rt.queues());
        queues.sort((a, b) -> a.name().compareTo(b.name()));
        for (WorkqueueStruct wq : queues) {
            List<WorkQueuesDump.PoolQueue> rows = new ArrayList<>();
            for (PoolWorkqueue pwq : wq.pwqs) {
                WorkerPool p = pwq.pool;
                p.acquireFromCaller(); // probed: a user's dump() may run at the end of its stack
                try {
                    pwq.landInbox(); // lock-free pushes are pending items too
                    if (pwq.isIdle()) {
                        continue;
                    }
                    List<String> inFlight = new ArrayList<>();
                    for (Worker w : p.busyWorkers(rescuers)) {
                        WorkNode cur = w.currentWork;
                        if (cur != null && w.currentPwq == pwq) {
                            inFlight.add(w.name + ":" + cur.name());
                        }
                    }
                    List<String> pending = new ArrayList<>();
                    for (WorkNode n = p.worklist.first(); n != null; n = n.next) {
                        if (n.pwq == pwq) {
                            pending.add(n.name());
                        }
                    }
                    for (Worker w : p.workers) {
                        w.scheduled.forEach(n -> {
                            if (n.pwq == pwq) {
                                pending.add(n.name());
                            }
                        });
                    }
                    List<String> inactive = new ArrayList<>();
                    pwq.inactive.forEach(n -> inactive.add(n.name()));
                    rows.add(new WorkQueuesDump.PoolQueue(p.id, p.describe(), pwq.nrActive, pwq.maxActive,
                            pwq.totalInFlight() + 1, pwq.mayday, inFlight, pending, inactive));
                } finally {
                    p.lock.unlock();
                }
            }
            if (!rows.isEmpty()) {
                queueRows.add(new WorkQueuesDump.Queue(wq.name(), flagsOf(wq), rows));
            }
        }
        List<WorkQueuesDump.Pool> poolRows = new ArrayList<>();
        for (WorkerPool p : rt.allPools()) {
            p.acquireFromCaller(); // probed: a user's dump() may run at the end of its stack
            try {
                // Read under the pool's lock: progress this look observes happened before it (read
                // before the locks, a pool that progressed while the dump waited for an earlier
                // pool's lock was stamped earlier than its progress, and its lockup seemed longer).
                long now = System.nanoTime();
                p.spliceInboxes();
                if (p.workers.isEmpty() && p.worklist.isEmpty()) {
                    continue;
                }
                p.observeProgress(now);
                long hung = p.worklist.isEmpty() ? 0 : TimeUnit.NANOSECONDS.toSeconds(now - p.lastProgressNanos);
                int running = p.busyWorkers(rescuers).size();
                List<String> idle = new ArrayList<>();
                for (Worker w : p.idle) {
                    idle.add(w.name);
                }
                poolRows.add(new WorkQueuesDump.Pool(p.id, p.describe(), hung, p.workers.size(), running,
                        p.worklist.size(), idle));
            } finally {
                p.lock.unlock();
            }
        }
        return new WorkQueuesDump(queueRows, poolRows);
    }

    /** Stacks of the workers running an item: for lockup reports. */
    static String busyWorkerStacks(WqRuntime rt) {
        StringBuilder sb = new StringBuilder("Showing backtraces of busy workers:\n");
        Iterable<Worker> rescuers = rt.rescuerWorkers();
        for (WorkerPool p : rt.allPools()) {
            List<Worker> busy;
            p.acquireFromCaller(); // (the monitor's; probed as the dumps' are)
            try {
                busy = p.busyWorkers(rescuers);
            } finally {
                p.lock.unlock();
            }
            for (Worker w : busy) {
                WorkNode cur = w.currentWork;
                sb.append(w.name).append(" running '").append(cur == null ? "?" : cur.name()).append("' (")
                        .append(w.thread.getState()).append("):\n");
                for (StackTraceElement e : w.thread.getStackTrace()) {
                    sb.append("    at ").append(e).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /** The kernel's WQ_* bits, for the dump's flags= field. */
    static int flagsOf(WorkqueueStruct wq) {
        int f = 0;
        f |= wq.unbound ? 1 << 1 : 0;
        f |= wq.freezable ? 1 << 2 : 0;
        f |= wq.memReclaim ? 1 << 3 : 0;
        f |= wq.highPri ? 1 << 4 : 0;
        f |= wq.cpuIntensive ? 1 << 5 : 0;
        f |= wq.ordered ? 1 << 17 : 0;
        return f;
    }
}
