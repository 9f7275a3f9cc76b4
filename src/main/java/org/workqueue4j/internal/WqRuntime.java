package org.workqueue4j.internal;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;
import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * The engine's global state (kernel: the per-CPU pools, the unbound pools, the workqueue list).
 * One per {@code WorkQueues} runtime; nothing here is static.
 */
public final class WqRuntime {
    /** Calls the user's handler for an exception thrown by a work function. */
    public interface ExceptionSink {
        void uncaught(WorkqueueStruct wq, WorkNode work, Throwable error);
    }

    private static final System.Logger LOG = System.getLogger("org.workqueue4j");

    private final int cpus;
    private final WorkerPool[] cpuPools;
    private final WorkerPool[] unboundPools;
    private final ThreadFactory threadFactory;
    private final long idleTimeoutNanos;
    private final ExceptionSink sink;
    private final Set<WorkqueueStruct> queues = ConcurrentHashMap.newKeySet();
    private final TimerQueue timer;
    private final Monitor monitor;
    private final Consumer<String> reportListener;
    private final LockDependencyValidator validator;
    /** Flush-annotation policy ALWAYS (true) or SKIP_NEVER_USED (false). */
    private final boolean annotateNeverUsed;
    private volatile boolean frozen;
    private volatile boolean closed;
    /**
     * Queue-to-start latency sampling: while true, each insertion reads the clock once (its
     * start already does). Volatile, read once per queue: a plain load on x86 and ARM's ldar.
     */
    private volatile boolean latencyStats;

    public WqRuntime(int cpus, ThreadFactory threadFactory, Duration idleTimeout, ExceptionSink sink,
                     Duration cpuIntensiveThreshold, Duration watchdogThreshold, Consumer<String> reportListener,
                     LockDependencyValidator validator, boolean annotateNeverUsed) {
        this.cpus = cpus;
        this.validator = validator;
        this.annotateNeverUsed = annotateNeverUsed;
        this.reportListener = reportListener;
        this.threadFactory = threadFactory;
        this.idleTimeoutNanos = idleTimeout.toNanos();
        this.sink = sink;
        cpuPools = new WorkerPool[cpus * 2];
        for (int cpu = 0; cpu < cpus; cpu++) {
            cpuPools[cpu * 2] = new WorkerPool(this, cpu * 2, cpu, false);
            cpuPools[cpu * 2 + 1] = new WorkerPool(this, cpu * 2 + 1, cpu, true);
        }
        unboundPools = new WorkerPool[] {
            new WorkerPool(this, cpus * 2, -1, false),
            new WorkerPool(this, cpus * 2 + 1, -1, true),
        };
        timer = new TimerQueue(this, threadFactory);
        timer.start();
        monitor = new Monitor(this, cpuIntensiveThreshold.toNanos(), watchdogThreshold.toNanos());
        Thread mt = threadFactory.newThread(monitor);
        mt.setName("kworker/monitor");
        mt.setDaemon(true);
        monitor.thread = mt;
        mt.start();
    }

    Monitor monitor() {
        return monitor;
    }

    /** Logs a runtime report (worker creation failure, lockup) and hands it to the listener. */
    void report(String text) {
        LOG.log(Level.ERROR, text);
        if (reportListener != null) {
            try {
                reportListener.accept(text);
            } catch (Throwable t) {
                LOG.log(Level.ERROR, "workqueue: report listener failed", t);
            }
        }
    }

    /** Kernel show_all_workqueues. */
    public org.workqueue4j.WorkQueuesDump dumpData() {
        return Dump.snapshot(this);
    }

    public String dump() {
        return Dump.showAllWorkqueues(this);
    }

    /**
     * Kernel freeze_workqueues_begin + freeze_workqueues_busy: freezable queues stop
     * activating items; returns when their active items have finished.
     */
    public void freeze() {
        frozen = true;
        for (WorkqueueStruct wq : queues) {
            if (wq.freezable) {
                wq.freeze();
            }
        }
        for (WorkqueueStruct wq : queues) {
            // Like the kernel's freezer, poll: the wait is rare and bounded by running items.
            while (wq.freezable && wq.freezeBusy()) {
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
        }
    }

    /** Kernel thaw_workqueues. */
    public void thaw() {
        frozen = false;
        for (WorkqueueStruct wq : queues) {
            if (wq.freezable) {
                wq.thaw();
            }
        }
    }

    public boolean isFrozen() {
        return frozen;
    }

    public int cpus() {
        return cpus;
    }

    WorkerPool cpuPool(int cpu, boolean highPri) {
        return cpuPools[cpu * 2 + (highPri ? 1 : 0)];
    }

    WorkerPool unboundPool(boolean highPri) {
        return unboundPools[highPri ? 1 : 0];
    }

    long idleTimeoutNanos() {
        return idleTimeoutNanos;
    }

    /**
     * The CPU a queueing thread counts as "local": a per-CPU worker's own CPU, otherwise a
     * stable function of the thread, so that one producer keeps feeding one pool.
     */
    @SuppressWarnings("deprecation") // Thread.getId: threadId() is Java 19+
    int localCpu() {
        Worker w = Worker.current();
        if (w != null && w.pool.cpu >= 0 && w.pool.runtime == this) {
            return w.pool.cpu;
        }
        return (int) (Thread.currentThread().getId() % cpus);
    }

    /** Creates the engine side of a queue and registers it. */
    public WorkqueueStruct newQueue(Object api, QueueSpec spec) {
        if (closed) {
            throw new IllegalStateException("workqueue runtime is closed; cannot create queue '" + spec.name() + "'");
        }
        WorkqueueStruct wq = new WorkqueueStruct(this, api, spec);
        queues.add(wq);
        if (wq.freezable && frozen) {
            wq.freeze();
        }
        return wq;
    }

    void unregister(WorkqueueStruct wq) {
        queues.remove(wq);
    }

    public List<WorkqueueStruct> queues() {
        return new ArrayList<>(queues);
    }

    Thread newThread(Runnable r, String name) {
        Thread t = threadFactory.newThread(r);
        if (t == null) {
            throw new IllegalStateException("thread factory returned null");
        }
        t.setName(name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Called under the pool lock: composes the report there (the pool's state is stable), and
     * leaves it for the monitor to log and hand to the listener outside any pool lock.
     */
    void reportWorkerCreationFailure(WorkerPool pool, Throwable e) {
        StringBuilder pending = new StringBuilder();
        for (PoolWorkqueue pwq : pool.pwqs) {
            if (pwq.nrActive > 0) {
                pending.append(pending.length() == 0 ? "" : ", ").append(pwq.wq.name()).append(" (")
                        .append(pwq.nrActive).append(pwq.wq.hasRescuer() ? " active, rescuer called)" : " active, no rescuer)");
            }
        }
        pool.creationFailureReport = "workqueue: failed to create a worker for " + pool + ": " + e
                + (pending.length() == 0 ? "" : "; waiting: " + pending) + "; retrying every second";
        monitor.noteBusy();
    }

    public LockDependencyValidator validator() {
        return validator;
    }

    boolean annotateNeverUsed() {
        return annotateNeverUsed;
    }

    /**
     * Runs one node's body, routing an exception to the handler. With validation on, the worker
     * holds the queue's map, then the work's map, around the function (kernel process_one_work),
     * so every lock the function takes depends on both.
     */
    void execute(WorkqueueStruct wq, WorkNode n) {
        LockDependencyValidator v = validator;
        LockMap workMap;
        if (!v.isEnabled() || (workMap = n.lockMap()) == null) {
            try {
                n.execute();
            } catch (Throwable t) {
                uncaught(wq, n, t);
            }
            return;
        }
        boolean wqHeld = false;
        boolean workHeld = false;
        try {
            v.acquire(wq.lockMap);
            wqHeld = true;
            v.acquire(workMap);
            workHeld = true;
        } catch (PotentialDeadlockException e) { // THROW policy: report, still run the item
            uncaught(wq, n, e);
        }
        try {
            n.execute();
        } catch (Throwable t) {
            uncaught(wq, n, t);
        } finally {
            if (workHeld) {
                v.release(workMap);
            }
            if (wqHeld) {
                v.release(wq.lockMap);
            }
        }
    }

    /** Hands a work item's failure (or a refused timer expiry) to the user's handler. */
    void uncaught(WorkqueueStruct wq, WorkNode n, Throwable t) {
        try {
            sink.uncaught(wq, n, t);
        } catch (Throwable t2) {
            LOG.log(Level.ERROR, "workqueue: uncaught-work handler failed", t2);
        }
    }

    public TimerQueue timer() {
        return timer;
    }

    /** The worker running on the calling thread's current item, or null. */
    public static WorkNode currentWork() {
        Worker w = Worker.current();
        return w == null ? null : w.currentWork;
    }

    /** Name of the queue the calling worker runs an item of, or null. */
    public static WorkqueueStruct currentQueue() {
        Worker w = Worker.current();
        return w == null || w.currentPwq == null ? null : w.currentPwq.wq;
    }

    /**
     * Destroys every queue still alive (draining it), then stops every worker and waits for
     * the threads to end.
     */
    public void close(Duration joinTimeout) throws InterruptedException {
        closed = true;
        for (WorkqueueStruct wq : queues()) {
            wq.destroy();
        }
        timer.stop();
        monitor.stop();
        List<Thread> threads = new ArrayList<>();
        threads.add(timer.thread());
        threads.add(monitor.thread);
        for (WorkerPool p : allPools()) {
            p.stop();
            threads.addAll(p.threads());
        }
        long deadline = System.nanoTime() + joinTimeout.toNanos();
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                TimeUnit.NANOSECONDS.timedJoin(t, left);
            }
        }
    }

    public boolean latencyStats() {
        return latencyStats;
    }

    public void setLatencyStats(boolean on) {
        latencyStats = on;
    }

    public boolean isClosed() {
        return closed;
    }

    List<WorkerPool> allPools() {
        List<WorkerPool> all = new ArrayList<>(List.of(cpuPools));
        all.addAll(List.of(unboundPools));
        return all;
    }
}
