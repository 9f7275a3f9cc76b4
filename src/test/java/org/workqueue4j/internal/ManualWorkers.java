package org.workqueue4j.internal;

import java.util.concurrent.ThreadFactory;

/**
 * Test hook for model checking: a runtime whose threads never start, and whose work items run
 * on the calling thread, one at a time, through the engine's own worker code.
 *
 * <p>{@link #neverStartedThreads()} is the runtime's thread factory: every thread it makes
 * (workers, timer, monitor) ignores {@code start()}, so the pools keep their {@link Worker}
 * objects (created and put on the idle list by the pool itself) but nothing runs on its own. A
 * model checker then drives execution with {@link #runOne(WorkqueueStruct)}, which is one turn of
 * {@link Worker#run()}'s loop limited to one item: leave idle, make a spare (on this thread: no manager runs here) if no idle
 * worker is left behind, take the first item of the worklist with the pool's own
 * {@link WorkerPool#assignWork} (after landing the pwqs' lock-free inboxes, as the worker loop
 * does) and run it with {@link Worker#processScheduled()} (PENDING
 * cleared under the pool lock, the function run outside it, the completion accounted with
 * {@link PoolWorkqueue#decInFlight}: flush colours, max-active activation), then go idle again.
 * Only the park and the wake-up are not exercised: a worker here runs when asked, not when kicked.
 *
 * <p>The timer thread never starts either: expiry is {@link TimerQueue#fireNow}, the timer's own
 * remove-and-queue path, called when the test says the deadline has passed (a virtual clock).
 */
public final class ManualWorkers {
    private ManualWorkers() {
    }

    /** A factory whose threads never start: {@code start()} does nothing. */
    public static ThreadFactory neverStartedThreads() {
        return r -> new Thread(r) {
            @Override
            public synchronized void start() {
                // never started: the test runs the worker code on its own threads
            }
        };
    }

    /**
     * Runs the first item of the worklist of {@code wq}'s pool (its first pwq's pool: use an
     * unbound queue, which has one) on the calling thread, as one of the pool's workers would.
     *
     * @return false if the worklist was empty (nothing ran)
     */
    public static boolean runOne(WorkqueueStruct wq) {
        return runOne(wq, null);
    }

    /**
     * {@link #runOne(WorkqueueStruct)}, calling {@code whileLocked} (if not null) once the item's
     * completion is accounted, before the pool lock is dropped; then, as the worker loop does,
     * the flushers the completion released are woken.
     *
     * @return false if the worklist was empty (nothing ran)
     */
    public static boolean runOne(WorkqueueStruct wq, Runnable whileLocked) {
        WorkerPool p = wq.pwqs[0].pool;
        if (p.lacksWorker()) {
            p.createWorker(); // the manager thread's job (kworker/manager never starts here)
        }
        Worker w = null;
        p.lock.lock();
        try {
            p.takeInboxes(); // the worker lands lock-free pushes before it looks (Worker.run)
            if (p.worklist.isEmpty()) {
                return false;
            }
            w = p.idle.peekFirst();
            if (w == null && !p.dying && p.nrCreating == 0) {
                // The work landed after lacksWorker() looked (another thread queued it meanwhile,
                // as a flusher firing a timer early does): make the worker now, as the manager
                // would once kicked, and look again.
                p.lock.unlock();
                try {
                    p.createWorker();
                } finally {
                    p.acquire();
                }
                p.takeInboxes();
                if (p.worklist.isEmpty()) {
                    return false;
                }
                w = p.idle.peekFirst();
            }
            if (w == null) {
                throw new AssertionError("work on " + p + " but no idle worker: the first queue did not create one");
            }
            w.leaveIdle();
            if (!p.mayStartWorking() && !p.dying && p.nrCreating == 0) {
                // The worker loop asks the manager thread for its spare (requestSpare); no thread
                // runs here, so the spare is made on this thread, as the kernel's manage_workers does.
                p.lock.unlock();
                try {
                    p.createWorker();
                } finally {
                    p.acquire();
                }
            }
            w.clearFlags(Worker.PREP);
            try {
                WorkNode n = p.worklist.first();
                if (p.assignWork(n, w)) {
                    w.processScheduled();
                }
            } finally {
                w.seek(true); // the batch is over, as in Worker.run
                w.setFlags(Worker.PREP);
                w.enterIdle();
            }
            if (whileLocked != null) {
                whileLocked.run();
            }
            return true;
        } finally {
            p.lock.unlock();
            if (w != null) {
                w.signalFlushers(); // as Worker.run does after the unlock that follows a completion
            }
        }
    }

    /**
     * Waits until none of {@code nodes} is in transit, that is pending but neither in the timer's
     * heap nor on a list of {@code wq}'s pool: between a queue's claim of PENDING and its insert or
     * arm, or between a timer's removal of the node and its insert. A real worker is kicked by the insert that lands, so it never sees
     * the window; an operation that observes the queue (runs an item, flushes, expires a timer)
     * waits it out the same way, so the checker compares landed states only. The window is a few
     * instructions of another thread, so the wait is short.
     */
    public static void awaitLanded(WorkqueueStruct wq, WorkNode... nodes) {
        WorkerPool p = wq.pwqs[0].pool;
        for (WorkNode n : nodes) {
            while (true) {
                if ((n.state() & WorkNode.PENDING) == 0 || wq.runtime.timer().armedQueue(n) != null) {
                    break; // idle, or in the timer's heap (TIMER alone is set a moment longer while it fires)
                }
                boolean onList;
                p.lock.lock();
                try {
                    p.landInboxesFor(n); // pushed on a pwq's inbox: landed as the worker would
                    onList = n.pwq != null;
                } finally {
                    p.lock.unlock();
                }
                if (onList) {
                    break;
                }
                Thread.onSpinWait();
            }
        }
    }

    /** Freezes one queue (kernel freeze_workqueues_begin for it): the non-waiting half of a runtime freeze. */
    public static void freeze(WorkqueueStruct wq) {
        wq.freeze();
    }

    /** Thaws one queue (kernel thaw_workqueues for it). */
    public static void thaw(WorkqueueStruct wq) {
        wq.thaw();
    }
}
