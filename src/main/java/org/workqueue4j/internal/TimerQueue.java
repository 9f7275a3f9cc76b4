package org.workqueue4j.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The runtime's one timer for delayed work (kernel: the per-CPU timer wheel behind
 * {@code delayed_work::timer}).
 */
public final class TimerQueue implements Runnable {

    /*
     * Implementation Overview
     *
     * A binary min-heap ordered by deadline, with each node's heap index stored in the node
     * itself (WorkNode.heapIndex). Arming, re-arming (modDelayed) and cancelling are O(log n)
     * and allocate nothing: the node *is* the timer entry, and the array only grows. A timer
     * wheel would make arming O(1) but rounds deadlines to its tick and needs cascading; the
     * workloads here re-arm a handful of items very often, where log n of a small heap is a few
     * compares, and exact deadlines keep tests and users free of tick arithmetic.
     *
     * One thread ("kworker/timer") waits on `tick` until the earliest deadline, pops every due
     * node, and queues it with its PENDING bit still owned (the TIMER bit is cleared first; the
     * node is then "in transit" for cancel, which spins until it lands on a list).
     *
     * Everything is guarded by `lock`. A node is in some timer's heap iff heapIndex >= 0 (in this
     * one iff heap[heapIndex] is the node, see holds(): an item may be re-armed from one
     * runtime's timer onto another's while a caller holds its old binding), and references
     * the queue it is armed for (timerWq) only while it is: every removal clears it, so a
     * cancelled or fired item keeps no (destroyed) queue reachable.
     *
     * A node leaving the heap to be queued (popped by the timer thread, or fired now by a
     * flusher) or reported (taken back by its queue's destroy) records the thread doing it
     * (WorkNode.beginFiring, under `lock`) until it has landed or its report has been delivered
     * (kernel: the running timer callback that del_timer_sync waits for). fireNow, which finds
     * the node gone from the heap under `lock`, waits for the timer thread's before it returns,
     * and a delayed-work flush that finds the item idle waits for anyone's (WorkNode.firedElsewhere),
     * as do cancelSync and disableSync after their own wait (parked: WorkNode.awaitNotFiredElsewhere):
     * an instance fired into a queue destroyed since it was armed ends with its report, which
     * comes after PENDING is released, and neither may return before that end.
     *
     * Every node off the heap on its way to a queue is also listed, under `lock`, with that
     * queue and its firer (the transit list: arrays that only grow, so listing allocates
     * nothing), from the moment it leaves the heap until it has landed or been released (its
     * PENDING bit cleared after a refusal; the report comes after). A destroy() that begins
     * while the timer thread or a flusher has one of its queue's nodes in transit would
     * otherwise miss it: cancelAllFor sees only the heap, the destroy would drain and return,
     * and the refused insert would release the node after the return (an item pending after its
     * queue's destroy() returned). cancelAllFor waits, on `landed`, until no other thread has a
     * node in transit to the queue: the firer's insert is refused (destroy marked the queue
     * dying first) or lands before the drain; neither runs user code before its end of transit
     * (a landing ends it right after the pool lock is released, before a first use's latent
     * waits reach the validator's listeners, WorkqueueStruct.insertFired). The wait
     * is not for the report, which is user code: a handler that destroys the same queue waits
     * for this destroy, which must not wait for it. The caller's own nodes in transit (a
     * listener or handler on the timer thread destroying a queue) are not waited for.
     *
     * arm() refuses a queue whose destroy() has begun, checked under `lock`: destroy() sets
     * that state first and then empties the heap of the queue's nodes under `lock`, so no node
     * can be armed for a dead queue behind its back. The thread checks `stopped` under `lock`
     * before each wait, so a stop() (which signals under `lock`) is never missed.
     */

    private final ReentrantLock lock = new ReentrantLock();
    /** The deadline the timer thread sleeps until (guarded by lock); arming earlier must signal. */
    private long sleepingUntil;
    private final Condition tick = lock.newCondition();
    private WorkNode[] heap = new WorkNode[16];
    private int size;
    /** Signalled (under lock) as a node leaves transit while a destroy waits for its queue's. */
    private final Condition landed = lock.newCondition();
    /** The nodes in transit, each with its queue and its firer (all guarded by lock; see the overview). */
    private WorkNode[] transit = new WorkNode[4];
    private WorkqueueStruct[] transitWq = new WorkqueueStruct[4];
    private Thread[] transitBy = new Thread[4];
    private int transitCount;
    /** Destroys waiting on {@link #landed} (guarded by lock): a node leaving transit signals only if any. */
    private int transitWaiters;
    /** Started by the first delayed item armed (see {@link #start()}). */
    private final OnDemandThread thread;
    private volatile boolean stopped;
    private final WqRuntime runtime;

    /** Makes neither the timer thread nor anything else a runtime that never arms a timer pays for. */
    TimerQueue(WqRuntime runtime) {
        this.runtime = runtime;
        this.thread = new OnDemandThread(runtime, this, "kworker/timer");
    }

    /**
     * Starts the timer thread if it is not running yet. Called before a delayed item is armed,
     * with no engine lock held; the thread factory's failure propagates (nothing is armed then).
     * After the runtime began closing it starts nothing (the queues refuse items then).
     */
    public void start() {
        thread.start();
    }

    /** The timer thread's body (this object, not a method reference: no lambda class at start-up). */
    @Override
    public void run() {
        if (!thread.checkIn()) {
            return; // started by the factory itself, not by this runtime (see OnDemandThread.checkIn)
        }
        loop();
    }

    /**
     * Arms a node whose PENDING bit (and TIMER bit) the caller owns.
     *
     * @return false (nothing armed) if {@code wq} is being or has been destroyed
     */
    public boolean arm(WorkNode n, WorkqueueStruct wq, int cpu, long delayNanos) {
        // No probe of its own: its callers own PENDING, claimed or grabbed behind a stack probe
        // (claimAndInsert's slow path, Pending.grab) a frame or two above this one, which
        // reaches deeper than this acquisition (StackProbeAttackTest.delayedPathsLeaveNoItemHalfClaimed).
        lock.lock();
        try {
            if (wq.isDying()) {
                return false;
            }
            n.timerWq = wq;
            n.timerCpu = cpu;
            n.deadlineNanos = System.nanoTime() + delayNanos;
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2); // before any change: an OutOfMemoryError leaves all as it was
            }
            n.heapIndex = size;
            heap[size++] = n;
            try {
                siftUp(n.heapIndex);
                // TIMER is set under the lock together with the heap slot: whoever sees TIMER and
                // then takes this lock finds the node armed (or being fired), never half-armed.
                n.addState(WorkNode.TIMER);
            } catch (Throwable e) {
                // An Error half-way: take the node out again; the caller releases PENDING.
                if ((n.state() & WorkNode.TIMER) != 0) {
                    n.clearState(WorkNode.TIMER);
                }
                if (holds(n)) {
                    removeAt(n.heapIndex);
                }
                throw e;
            }
            // Wake the timer thread only if it would otherwise sleep past this deadline: a
            // re-arm to a later time (the common modDelayed) costs no wake-up.
            if (heap[0] == n && n.deadlineNanos - sleepingUntil < 0) {
                tick.signal();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes an armed node and clears its TIMER bit; returns the queue it was armed for, or null
     * if it is not armed (already fired or never armed). TIMER is cleared first, under the lock (as arm sets it): an Error there leaves
     * the node armed, and a caller that sees a queue owns PENDING with nothing left to undo (clearing
     * TIMER after a return, an overflow left the node on no heap with TIMER and PENDING set for good).
     */
    public WorkqueueStruct cancel(WorkNode n) {
        lock.lock(); // called by Pending.grab only, behind its caller's stack probe (as arm)
        try {
            if (!holds(n)) {
                return null;
            }
            WorkqueueStruct armedFor = n.timerWq;
            n.clearState(WorkNode.TIMER);
            removeAt(n.heapIndex);
            n.timerWq = null; // a disarmed node keeps no queue reachable
            return armedFor;
        } finally {
            lock.unlock();
        }
    }

    /**
     * If {@code n} is armed, takes it off the timer and queues it now (kernel
     * flush_delayed_work). If the timer thread has just popped it, waits until it has landed on
     * its queue or its report has been delivered (as del_timer_sync waits for a running
     * callback), so a flush that follows finds it, or finds it ended; only if {@code wait}:
     * that report is the user's handler and may take any time, which a non-blocking, timed or
     * interruptible flush must not spend here (their own loops look again at an item in transit
     * and wait for a report through WorkNode.firedElsewhere, within their bounds).
     *
     * @param wait whether to wait for the timer thread's landing or report of {@code n}
     * @param runs fire only if {@code n} has begun no run since this count was read
     *             ({@link WorkNode#runsStarted}; checked under the timer lock, where arming
     *             happens): a timer armed by a later run is not the flush's to fire. Negative: any
     * @return true if this call queued it
     */
    public boolean fireNow(WorkNode n, boolean wait, int runs) {
        // Deep, before the node is taken: the insert (its pool lock's own probe) runs frames
        // deeper than this lock's probe, and an overflow there would strike with the node off
        // the timer (it is then reported, see below). Struck here, the item stays armed and
        // fires on time.
        WorkerPool.probeStackDeep();
        return fireNowShallow(n, wait, runs);
    }

    /**
     * {@link #fireNow} without its deep stack probe, as the timer thread's own expiry goes: for
     * the model-checking tests, whose checker counts the probe's recursion as a livelock.
     */
    public boolean fireNowShallow(WorkNode n, boolean wait, int runs) {
        WorkqueueStruct wq;
        int cpu;
        WorkerPool.lockFromCaller(lock);
        try {
            if (!holds(n)) {
                wq = null;
                cpu = -1;
            } else if (runs >= 0 && n.runsStarted() != runs) {
                return false; // armed by a later run: not the instance the flush was called for
            } else {
                wq = n.timerWq;
                cpu = n.timerCpu;
                beginTransit(n, wq); // first: a throw leaves the node armed
                removeAt(n.heapIndex);
                n.timerWq = null;
            }
        } finally {
            lock.unlock();
        }
        if (wq != null) {
            try {
                fire(n, wq, cpu); // a failure other than a refusal is reported there, then fails this flush
            } finally {
                n.endFiring();
            }
            return true;
        }
        if (!wait) {
            return false;
        }
        // Only the timer thread's firing is waited for here: a node another flusher fires, or a
        // destroy reports, the caller's flush loop finds in transit, or waits for (firedElsewhere).
        // A landing is a few lock hand-offs: spun on. Longer, the timer thread is delivering a
        // refused expiry's report (user code: the uncaught-work handler), perhaps for as long as
        // the handler likes: parked on, as a wait for a report is (a hung wait, and on a worker a
        // sleep that lets its pool wake another), instead of yielding in a loop until it ends.
        Thread timerThread = thread.thread();
        for (int spins = 0; timerThread != Thread.currentThread() && n.firedBy(timerThread); spins++) {
            if (spins >= 64) {
                n.awaitNotFiredElsewhere("flush_work");
                break;
            }
            Thread.onSpinWait();
        }
        return false;
    }

    /** The queue an armed node will go to, or null if it is not armed. */
    public WorkqueueStruct armedQueue(WorkNode n) {
        WorkerPool.lockFromCaller(lock);
        try {
            return holds(n) ? n.timerWq : null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes and returns every armed node bound for {@code wq}, and drops their reference to
     * it (a cancelled node must not keep a destroyed queue reachable). Each node is marked as
     * being fired by the caller ({@link WorkNode#beginFiring}), who reports it and then calls
     * {@link WorkNode#endFiring}: flushes of the item wait for that report.
     *
     * <p>Collect, then remove: a removal moves the last node into the hole and may sift it
     * <em>up</em>, which moves a parent into a slot a single walk over the array has already
     * passed (that node would stay armed for a dead queue). Each node knows its own slot
     * (heapIndex), so removing the collected nodes one by one is exact.
     *
     * @param awaitTransit first wait until no other thread has a node in transit to {@code wq}
     *                     (a destroy; see the overview); false for a close that ran out of time,
     *                     which must not wait (a transit may be running a user's thread factory)
     * @param timed        whether that wait ends at {@code deadline} or an interrupt (a close's
     *                     bounded destroy; the interrupt status is then set again)
     * @param deadline     {@code System.nanoTime()} deadline, if {@code timed}
     */
    List<WorkNode> cancelAllFor(WorkqueueStruct wq, boolean awaitTransit, boolean timed, long deadline) {
        List<WorkNode> out = new ArrayList<>();
        WorkerPool.lockFromCaller(lock);
        try {
            // First, with nothing taken yet (an Error in the wait leaves all as it was): the
            // other threads' nodes in transit to wq land or are released (see the overview).
            // No node of wq can enter transit meanwhile: arm refuses a dying queue, and the
            // heap's nodes for wq leave it only here or by firing, which lists them first.
            Thread me = Thread.currentThread();
            while (awaitTransit && inTransitTo(wq, me)) {
                WqRuntime.testHook("timer.awaitTransit", wq);
                long left = timed ? deadline - System.nanoTime() : 0;
                if (timed && left <= 0) {
                    break; // a close out of time: its own deadline check gives up next (the node is refused and reported by its firer)
                }
                // A hung wait like the rest of destroy (the firer may be running a user's thread
                // factory or listener); HungWaits takes no engine lock.
                HungWaits.Waiter waiting = runtime.hungWaits().begin("destroy_workqueue", wq, null);
                transitWaiters++;
                try {
                    if (timed) {
                        landed.awaitNanos(left);
                    } else {
                        landed.awaitUninterruptibly();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // a close interrupted: it gives up right after this
                    break;
                } finally {
                    transitWaiters--;
                    runtime.hungWaits().end(waiting);
                }
            }
            for (int i = 0; i < size; i++) {
                if (heap[i].timerWq == wq) {
                    out.add(heap[i]);
                }
            }
            for (WorkNode n : out) {
                n.beginFiring(); // the destroyer reports it: a flush waits for that report (see the overview)
                removeAt(n.heapIndex);
                n.timerWq = null;
            }
        } finally {
            lock.unlock();
        }
        return out;
    }

    /** Number of armed nodes. */
    public int armed() {
        WorkerPool.lockFromCaller(lock);
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    /** Stops the timer: it starts no more; returns its thread to join, or null if it never started. */
    Thread stop() {
        Thread t = thread.stop();
        stopped = true;
        lock.lock();
        try {
            tick.signal();
        } finally {
            lock.unlock();
        }
        return t;
    }

    /** {@return the runtime this timer belongs to} */
    WqRuntime runtime() {
        return runtime;
    }

    /** {@return the timer thread once started, else null} */
    Thread thread() {
        return thread.thread();
    }

    private void loop() {
        while (!stopped) {
            try {
                tickOnce();
            } catch (Throwable e) {
                // An Error in the timer's own code (the heap lock is released by its finally):
                // the timer must outlive it, or every armed item would wait forever.
                Log.log(System.Logger.Level.ERROR, "workqueue: timer thread survived an error", e);
            }
        }
    }

    /** One wait-or-fire step of the timer thread's loop. */
    private void tickOnce() {
        WorkNode due = null;
        WorkqueueStruct dueWq = null;
        int dueCpu = -1;
        // An interrupt is meaningless here (only stop() ends the timer) and a handler or
        // thread factory run by fire() may leave one: never wait with it pending.
        Thread.interrupted();
        lock.lock();
        try {
            if (stopped) {
                return;
            }
            if (size == 0) {
                sleepingUntil = System.nanoTime() + Long.MAX_VALUE / 2;
                tick.awaitUninterruptibly();
                return;
            }
            long wait = heap[0].deadlineNanos - System.nanoTime();
            if (wait > 0) {
                sleepingUntil = heap[0].deadlineNanos;
                tick.awaitNanos(wait);
                return;
            }
            sleepingUntil = System.nanoTime();
            due = heap[0];
            dueWq = due.timerWq;
            dueCpu = due.timerCpu;
            beginTransit(due, dueWq); // first: a throw leaves the node armed
            removeAt(0);
            due.timerWq = null; // a fired node keeps no destroyed queue reachable
        } catch (InterruptedException e) {
            return; // only stop() ends the timer
        } finally {
            lock.unlock();
        }
        try {
            fire(due, dueWq, dueCpu);
        } catch (Throwable e) {
            // An Error while firing, already reported by fire() (the item is idle again): the timer lives on.
        } finally {
            due.endFiring();
        }
    }

    /**
     * Queues a due node (its PENDING bit is still owned). Whatever is thrown, the node is left
     * consistent: queued, or idle with TIMER and PENDING released (insertFired throws only
     * before the node lands; TIMER may still be set if the throw came before its clear, and
     * no one else sets it while we own PENDING), and then reported to the uncaught-work handler
     * (the release, endTransit and the report throw nothing): a refusal is not thrown further,
     * anything else is, after its report. The queue and CPU are those it was armed for,
     * read under the lock when it was taken off the heap (the node no longer references them).
     */
    private void fire(WorkNode n, WorkqueueStruct wq, int cpu) {
        try {
            n.clearState(WorkNode.TIMER);
            WqRuntime.testHook("timer.fire", n); // off the timer, not yet on its queue
            // Landed, the transit has ended in insertFired (once, before any user code after the
            // landing). A drain refuses it, as the kernel's __queue_work (not chained work).
            wq.insertFired(cpu, n, this);
        } catch (Throwable e) {
            n.clearState(WorkNode.TIMER | WorkNode.PENDING);
            endTransit(n); // released: a destroy waiting for it goes on (the report below is not waited for)
            // Never silently lost: the handler hears of every expiry that could not be queued.
            // A refusal: the queue died with the timer armed (the caller's duty to cancel, kernel
            // rule), or it drains (only chained work may queue to it, kernel __queue_work WARNs and
            // drops, and an expiry is not chained; accepting it let an outside thread keep a drain
            // going with queueDelayed). Anything else (an Error on the way) is reported the same
            // and then thrown to the firer: the timer thread lives on, a flush that fired it fails.
            runtime.reportExpiryNeverRuns(wq, n, e); // under the item's timer map (waits for this report are validated)
            if (!(e instanceof IllegalStateException)) {
                throw e;
            }
        }
    }

    // ---------------------------------------------------------------- transit

    /**
     * Under lock: marks {@code n} fired by this thread ({@link WorkNode#beginFiring}) and lists
     * it in transit to {@code wq}. Grows the arrays before any change: a throw leaves nothing
     * marked and the node armed.
     */
    private void beginTransit(WorkNode n, WorkqueueStruct wq) {
        if (transitCount == transit.length) {
            int len = transitCount * 2;
            WorkNode[] t = Arrays.copyOf(transit, len);
            WorkqueueStruct[] q = Arrays.copyOf(transitWq, len);
            Thread[] by = Arrays.copyOf(transitBy, len);
            transit = t;
            transitWq = q;
            transitBy = by;
        }
        n.beginFiring();
        int i = transitCount++;
        transit[i] = n;
        transitWq[i] = wq;
        transitBy[i] = Thread.currentThread();
    }

    /**
     * {@code n}, fired by this thread, has landed or been released: off the transit list, and
     * the waiting destroys (if any) look again. The lock never allocates here uncontended, and
     * contended the JDK's lock spins instead of failing when it cannot allocate its queue node.
     */
    void endTransit(WorkNode n) {
        Thread me = Thread.currentThread();
        lock.lock();
        try {
            for (int i = transitCount - 1; i >= 0; i--) {
                if (transit[i] == n && transitBy[i] == me) {
                    int last = --transitCount;
                    transit[i] = transit[last];
                    transitWq[i] = transitWq[last];
                    transitBy[i] = transitBy[last];
                    transit[last] = null; // nothing kept reachable: a destroyed queue, a dead firer
                    transitWq[last] = null;
                    transitBy[last] = null;
                    break;
                }
            }
            if (transitWaiters > 0) {
                landed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under lock: does a thread other than {@code me} have a node in transit to {@code wq}? */
    private boolean inTransitTo(WorkqueueStruct wq, Thread me) {
        for (int i = 0; i < transitCount; i++) {
            if (transitWq[i] == wq && transitBy[i] != me) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- heap

    /**
     * Under {@code lock}: whether {@code n} is in this heap. Its index alone does not say: the
     * caller found this timer through the item's binding, which a re-arm onto another runtime's
     * timer (modDelayed) changes, and the index may then be the node's place in that other heap,
     * written under that timer's lock (a racy read here, used only as a guess checked against
     * this heap's own slot: a node in this heap has its index written under this lock only).
     */
    private boolean holds(WorkNode n) {
        int i = n.heapIndex;
        return i >= 0 && i < size && heap[i] == n;
    }

    private void removeAt(int i) {
        WorkNode n = heap[i];
        n.heapIndex = -1;
        int last = --size;
        if (i != last) {
            WorkNode moved = heap[last];
            heap[i] = moved;
            moved.heapIndex = i;
            heap[last] = null;
            siftDown(i);
            if (heap[i] == moved) {
                siftUp(i);
            }
        } else {
            heap[last] = null;
        }
    }

    private void siftUp(int i) {
        WorkNode n = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            WorkNode p = heap[parent];
            if (p.deadlineNanos - n.deadlineNanos <= 0) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = n;
        n.heapIndex = i;
    }

    private void siftDown(int i) {
        WorkNode n = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            WorkNode c = heap[child];
            int right = child + 1;
            if (right < size && heap[right].deadlineNanos - c.deadlineNanos < 0) {
                child = right;
                c = heap[child];
            }
            if (n.deadlineNanos - c.deadlineNanos <= 0) {
                break;
            }
            heap[i] = c;
            c.heapIndex = i;
            i = child;
        }
        heap[i] = n;
        n.heapIndex = i;
    }
}
