package org.workqueue4j.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The runtime's sampling thread ("kworker/monitor"), standing in for the kernel's scheduler
 * hooks, scheduler tick and watchdog timer, none of which a JVM offers.
 */
final class Monitor implements Runnable {
    /*
     * Implementation Overview
     *
     * Every tick (a quarter of the CPU-intensive threshold, 2.5 ms by default; see the constructor) it visits each pool under
     * its lock, reading the clock there (what it sees under the lock happened before that time), and:
     *
     *  1. takes long items out of concurrency management. A counted worker whose current item
     *     was first seen by a scan more than `cpuIntensiveNanos` ago stops counting in nr_running: as
     *     CPU_INTENSIVE if its thread is RUNNABLE (kernel wq_worker_tick), as UNMANAGED_SLEEP if
     *     it is BLOCKED/WAITING outside a library wait (the kernel learns this from schedule();
     *     we sample Thread.getState). Either way the pool is kicked, so a pending item waits at
     *     most threshold + two ticks (15 ms by default) behind an item that blocks where the
     *     library cannot see it. Both flags are cleared when the item ends.
     *  2. samples CPU time: a RUNNABLE busy worker adds one tick to its queue's cpu_time, as
     *     the kernel samples at its tick (wq_monitor's CPUtime column is sampled too).
     *  3. asks the manager thread (Manager) to create a worker for a pool that needs one and has
     *     none idle, every tick while it lacks one (kernel manager with CREATE_COOLDOWN); runs the
     *     mayday timer (a pool
     *     lacking a worker for 10 ms calls its rescuers, then every 100 ms); while the worker cap
     *     holds work back, retires idle workers of pools with nothing pending and reports the
     *     episode once.
     *  4. reports worker-creation failures recorded under a pool lock, outside any lock.
     *  5. watchdog: a pool whose worklist is non-empty and has not progressed for the watchdog
     *     threshold is reported once per stall as "BUG: workqueue lockup" with a state dump
     *     and the busy workers' stacks.
     *
     *  6. hung waiters (HungWaits): a flush, cancelSync, drain, destroy or close waiting longer
     *     than the watchdog threshold is reported once, with the items blocking it.
     *
     * When a scan finds no pool busy or pending, the thread parks until a worker starts an
     * item (noteBusy: one volatile read on that path) or for the watchdog threshold.
     *
     * As it starts (with the runtime's first queue), before its first park, it loads the classes
     * the first item will need (FIRST_ITEM_CLASSES) while the caller is still building the queue.
     */

    private final WqRuntime runtime;
    private final long tickNanos;
    private final long cpuIntensiveNanos;
    private final long watchdogNanos;
    /**
     * Idle, waiting for noteBusy(). True from the start: the monitor starts with the runtime's
     * first queue, before which nothing can be busy, and every busy event since then clears it;
     * so a new monitor parks at once instead of scanning idle pools while the first items load.
     */
    private volatile boolean parkedIdle = true;
    private volatile boolean stopped;
    /** Started with the runtime's first queue, after the manager. */
    OnDemandThread thread;
    /** Test seam: run on the monitor thread at the start of each idle re-check; null in production. */
    volatile Runnable idleRecheckHook;

    Monitor(WqRuntime runtime, long cpuIntensiveNanos, long watchdogNanos) {
        this.runtime = runtime;
        this.cpuIntensiveNanos = cpuIntensiveNanos;
        this.watchdogNanos = watchdogNanos;
        // A quarter of the CPU-intensive threshold (an item is timed from the first tick that
        // sees it, see Worker.runSeq: it is found at most two ticks after the threshold, 1.5x
        // in all), a quarter of the watchdog's, and at most 100 ms so that CPU-time sampling
        // and creation retries keep a useful resolution.
        long tick = Math.min(cpuIntensiveNanos / 4, TimeUnit.MILLISECONDS.toNanos(100));
        if (watchdogNanos > 0) {
            tick = Math.min(tick, watchdogNanos / 4);
        }
        this.tickNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), tick);
    }

    long tickNanos() {
        return tickNanos;
    }

    /** A worker started an item: make sure the monitor is ticking. */
    void noteBusy() {
        if (parkedIdle) {
            parkedIdle = false;
            thread.unpark(); // before the start: the monitor's first scan comes without a wake-up
        }
    }

    /** Stops the monitor: it starts no more; returns its thread to join, or null if it never started. */
    Thread stop() {
        Thread t = thread.stop();
        stopped = true;
        thread.unpark();
        return t;
    }


    /**
     * The classes the runtime's first item needs after its queue's threads have started, in the
     * order it needs them: the rest of the queue's build, the item's queueing, the worker that
     * runs it and the flush that waits for it. Each costs about half a millisecond to load from
     * the library jar while the JVM is cold; the calling thread is busy meanwhile (building the
     * queue, creating the user's item), so the monitor loads them (preloadFirstItemPath).
     */
    static final String[] FIRST_ITEM_CLASSES = {
        "org.workqueue4j.internal.FlushColors",
        "org.workqueue4j.internal.Completion",
        "org.workqueue4j.internal.PoolWorkqueue",
        "org.workqueue4j.Work",
        "org.workqueue4j.internal.Worker",
        "org.workqueue4j.internal.WorkEvents",
        "jdk.jfr.FlightRecorder", // asked by WorkEvents; from the runtime image, not the archive
        "org.workqueue4j.internal.HungWaits$Waiter",
        "org.workqueue4j.internal.FlushColors$Flusher",
    };

    /**
     * Loads, without initializing, the classes of FIRST_ITEM_CLASSES, on the monitor's thread as
     * it starts (with the runtime's first queue, whose caller does not wait for this): on a
     * machine with a second core, the first item then finds them loaded. Best effort, and it
     * changes nothing else: a class that cannot be loaded here (no jdk.jfr in this runtime
     * image) is loaded, or fails, where it is used, as before; a second runtime finds them loaded.
     */
    private void preloadFirstItemPath() {
        ClassLoader loader = Monitor.class.getClassLoader();
        try {
            for (String name : FIRST_ITEM_CLASSES) {
                try {
                    Class.forName(name, false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    // not loadable here (no jdk.jfr in this runtime image): its user meets that itself
                }
            }
        } catch (RuntimeException | Error e) { // out of memory, say: the monitor's own work comes first
            Log.log(System.Logger.Level.DEBUG, "workqueue: the monitor's class preload stopped", e);
        }
        WqRuntime.testHook("monitor.preloaded", runtime);
    }

    /*
     * The wake-up protocol. The signals are the volatile fields, not the thread's permit:
     * noteBusy() clears `parkedIdle`, stop() sets `stopped`, and the monitor re-checks both
     * after every return from a park. A permit consumed elsewhere (the re-check's scan parks
     * while it waits for a contended pool lock, and that park eats an unpark sent meanwhile)
     * only makes a park return late by nothing: the flag is still there to be seen.
     *
     * Ordering: the monitor writes `parkedIdle = true` (volatile) and then takes each pool lock;
     * a worker publishes its item under the pool lock, releases it and then reads `parkedIdle`
     * (volatile). Both are synchronization actions in one total order, so either the worker's
     * read sees `true` (and clears it) or the monitor's lock acquisition follows the worker's
     * release (and its scan sees the item).
     */
    @Override
    public void run() {
        if (!thread.checkIn()) {
            return; // started by the factory itself, not by this runtime (see OnDemandThread.checkIn)
        }
        try {
            preloadFirstItemPath();
            idleWait(); // started idle (see parkedIdle): the first busy event wakes it
            tick();
        } catch (Throwable e) {
            survived(e); // as in the loop below; the loop's first scan then starts at once
        }
        long last = System.nanoTime();
        while (!stopped) {
            try {
                long now = System.nanoTime();
                boolean busy = scan(now, now - last);
                last = now;
                Thread.interrupted(); // a report listener may leave one: parkNanos would return at once, forever
                if (busy) {
                    tick();
                } else {
                    parkedIdle = true;
                    Runnable hook = idleRecheckHook;
                    if (hook != null) {
                        hook.run();
                    }
                    if (!scan(System.nanoTime(), 0)) { // re-check: a worker may have started meanwhile
                        idleWait();
                        tick();
                    }
                    parkedIdle = false;
                    last = System.nanoTime();
                }
            } catch (Throwable e) {
                survived(e);
                tick(); // the next scan a tick later, so that an Error that recurs on every scan does not spin
                last = System.nanoTime();
            }
        }
    }

    /**
     * An Error in the monitor's own work, at its start or in a scan (an allocation failure
     * building a report, say; each pool lock is released by its finally): the monitor must
     * outlive it, or the mayday timer, the watchdog, the hung-wait reports and the safety net
     * for stranded items stop for good. Logged (Log.log never throws).
     */
    private void survived(Throwable e) {
        parkedIdle = false;
        Log.log(System.Logger.Level.ERROR, "workqueue: monitor thread survived an error", e);
    }

    /**
     * Parks one tick (or until stop). Also between a wake-up from idle and the scan after it:
     * nothing the monitor does is due sooner than a tick after work appears (the mayday timer,
     * the CPU-intensive and watchdog thresholds are all at least a tick; reaping and the inbox
     * safety net only lose that much), and a scan at once would compete for the CPUs with the
     * workers that the busy event is about.
     */
    private void tick() {
        long deadline = System.nanoTime() + tickNanos;
        while (!stopped) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            Thread.interrupted(); // never park with one pending: parkNanos would return at once
            LockSupport.parkNanos(this, left);
        }
    }

    /**
     * Parks while {@code parkedIdle} holds (until noteBusy clears it or stop), at most the
     * watchdog threshold (60 s without a watchdog), then clears it: the caller scans next.
     */
    private void idleWait() {
        long idleNanos = watchdogNanos > 0 ? watchdogNanos : TimeUnit.SECONDS.toNanos(60);
        long deadline = System.nanoTime() + idleNanos;
        while (parkedIdle && !stopped) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            Thread.interrupted(); // never park with one pending: parkNanos would return at once
            LockSupport.parkNanos(this, left);
        }
        parkedIdle = false;
    }

    /**
     * One tick over every pool; true if any pool has running or pending work. {@code scanStart}
     * times the hung waits only: each pool is timed by a clock read under its lock, so that
     * what the scan sees there (an item's start, progress) happened before the time it records
     * (read before the locks, an item that started while the scan waited for them was timed
     * from before its start, and progress stamped early).
     */
    private boolean scan(long scanStart, long elapsed) {
        WqRuntime.testHook("monitor.scan", runtime);
        boolean busy = false;
        boolean anyStarved = false;
        boolean capHeld = runtime.workerCapHeld();
        List<String> stalls = null;
        List<String> failures = null;
        boolean visitedAll = false;
        try {
            for (WorkerPool p : runtime.allPools()) {
                boolean create = false;
                p.lock.lock();
                try {
                    long now = System.nanoTime();
                    if (p.inboxHint != 0 || p.needMoreWorker()) {
                        // Items pushed lock-free behind a running (perhaps blocked) worker are pending
                        // work too: land them, and wake a worker if none runs, before the checks below
                        // (concurrency management, mayday, watchdog) look at the worklist. Also the
                        // safety net for a wake-up an Error cut short: pending items, no worker running.
                        p.kick();
                    }
                    if (!p.worklist.isEmpty()) {
                        busy = true;
                    }
                    p.reapDeadWorkers(now);
                    for (int i = 0, n = p.pwqs.size(); i < n; i++) { // indexed: a tick allocates no iterator
                        PoolWorkqueue pwq = p.pwqs.get(i);
                        String dead = pwq.wq.rescuer == null ? null : pwq.wq.rescuer.deadThreadReport();
                        if (dead != null) {
                            if (failures == null) {
                                failures = new ArrayList<>();
                            }
                            failures.add(dead);
                        }
                    }
                    for (int i = 0, n = p.workers.size(); i < n; i++) {
                        Worker w = p.workers.get(i);
                        if (w.currentWork == null) {
                            continue;
                        }
                        long start = w.observeRun(now);
                        busy = true;
                        Thread.State st = w.thread.getState();
                        PoolWorkqueue pwq = w.currentPwq;
                        if (st == Thread.State.RUNNABLE && pwq != null) {
                            pwq.wq.stats().cpuTimeNanos.add(elapsed);
                        }
                        if (p.concurrencyManaged && (w.flags & Worker.NOT_RUNNING) == 0 && w.sleepDepth == 0
                                && now - start > cpuIntensiveNanos) {
                            if (st == Thread.State.RUNNABLE) {
                                w.setFlags(Worker.CPU_INTENSIVE);
                                if (pwq != null) {
                                    pwq.wq.stats().cpuIntensive.increment();
                                }
                            } else {
                                w.setFlags(Worker.UNMANAGED_SLEEP);
                                if (pwq != null) {
                                    pwq.wq.stats().cmWakeup.increment();
                                }
                            }
                            p.kick();
                        }
                    }
                    boolean starved = !p.dying && p.needMoreWorker() && p.idle.isEmpty();
                    if (starved && p.nrCreating == 0) {
                        create = true;
                    }
                    if (!starved) {
                        p.starvedSinceNanos = 0;
                    } else {
                        anyStarved = true;
                        if (p.starvedSinceNanos == 0) {
                            p.starvedSinceNanos = now | 1;
                        }
                        // Kernel mayday timer: MAYDAY_INITIAL_TIMEOUT after the pool first lacked a
                        // worker, then every MAYDAY_INTERVAL while it still lacks one.
                        if (now - p.starvedSinceNanos >= WorkerPool.MAYDAY_INITIAL_TIMEOUT_NANOS
                                && (p.lastMaydayNanos == 0 || now - p.lastMaydayNanos >= WorkerPool.MAYDAY_INTERVAL_NANOS)) {
                            p.lastMaydayNanos = now | 1;
                            p.sendMaydays();
                        }
                    }
                    if (capHeld) {
                        p.retireIdleWorker();
                    }
                    if (p.capReport != null) {
                        if (failures == null) {
                            failures = new ArrayList<>();
                        }
                        failures.add(p.capReport);
                        p.capReport = null;
                    }
                    p.observeProgress(now);
                    if (watchdogNanos > 0 && !p.worklist.isEmpty() && !p.stallReported
                            && now - p.lastProgressNanos > watchdogNanos) {
                        if (stalls == null) {
                            stalls = new ArrayList<>();
                        }
                        stalls.add(stallHeader(p, now) + runtime.exitedThreadsHoldingSlots());
                        p.stallReported = true; // after the header is built: an Error building it leaves it to the next scan
                    }
                    if (p.creationFailureReport != null) {
                        if (failures == null) {
                            failures = new ArrayList<>();
                        }
                        failures.add(p.creationFailureReport);
                        p.creationFailureReport = null;
                        busy = true;
                    }
                } finally {
                    p.lock.unlock();
                }
                if (failures != null) {
                    WqRuntime.testHook("monitor.reportsTaken", runtime);
                }
                if (create) {
                    busy = true;
                    startManager();
                    if (managerDead()) {
                        // Nothing else creates a pool's first worker: the monitor does, with no lock
                        // held (a slow factory then delays its ticks, which beats no worker at all).
                        if (p.lacksWorker()) {
                            p.createWorker();
                        }
                    } else {
                        runtime.manager().request(); // the manager thread calls the factory, with no pool lock held
                    }
                }
            }
            visitedAll = true;
        } finally {
            // What the visits took out of the pools is delivered even when a later visit threw
            // (an Error): each report was cleared from its pool, each stall marked reported, as
            // it was taken, and nothing else would ever report them. A stall taken before such
            // an Error goes out with its header only.
            if (failures != null) {
                for (String f : failures) {
                    runtime.report(f);
                }
            }
            if (!visitedAll && stalls != null) {
                for (String header : stalls) {
                    runtime.report(header);
                }
            }
        }
        // The lockups first: each pool is marked reported already, so nothing that can throw
        // (the hung-wait check below) may come between the scan and their reports.
        if (stalls != null) {
            for (String header : stalls) {
                String text = header;
                try {
                    WqRuntime.testHook("monitor.stallReport", runtime);
                    text = header + "\n" + Dump.showAllWorkqueues(runtime) + Dump.busyWorkerStacks(runtime);
                } catch (Throwable e) {
                    // The pool is marked reported already and a stall stays reported while it
                    // lasts: an Error building the dump (an allocation failure) must not lose the
                    // lockup, which is reported with its header alone (built before).
                    Log.log(System.Logger.Level.ERROR, "workqueue: the dump of a lockup report could not be built", e);
                }
                runtime.report(text);
            }
        }
        if (capHeld && !anyStarved) {
            runtime.workerCapEpisodeOver();
        }
        if (watchdogNanos > 0) {
            WqRuntime.testHook("monitor.hungCheck", runtime);
            runtime.hungWaits().check(runtime, scanStart, watchdogNanos);
        }
        return busy;
    }

    /** The dead manager has been reported (monitor thread only). */
    private boolean managerDeadReported;

    /**
     * The manager's thread has ended although the manager was never stopped: the ThreadFactory's
     * thread did not run the Runnable it was given (or the loop died). Reported once; the monitor
     * then creates the workers that pools ask the manager for.
     */
    private boolean managerDead() {
        Manager m = runtime.manager();
        Thread t = m.thread.thread();
        if (t == null || t.getState() != Thread.State.TERMINATED || m.isStopped()) {
            return false;
        }
        if (!managerDeadReported) {
            String report = "workqueue: the worker manager thread '" + t.getName() + "' has ended without being stopped"
                    + " (does the ThreadFactory run the Runnable it is given?): the monitor creates workers instead";
            managerDeadReported = true; // once built: an Error building it leaves it to the next scan
            runtime.report(report);
        }
        return true;
    }

    /**
     * The manager starts with the first queue; if that start failed on one thread while another
     * built a queue meanwhile (its start found the first one in flight and went on), the manager
     * may be missing: start it here, with no lock held. A failure was thrown to the builder that
     * hit it; here it is retried on the next tick.
     */
    private void startManager() {
        try {
            runtime.manager().thread.start();
        } catch (RuntimeException | Error retriedNextTick) {
            // the thread factory fails: the watchdog reports the stalled pool meanwhile
        }
    }

    private static String stallHeader(WorkerPool p, long now) {
        long secs = TimeUnit.NANOSECONDS.toSeconds(now - p.lastProgressNanos);
        return "BUG: workqueue lockup - pool " + p.describe() + " stuck for " + secs + "s!";
    }
}
