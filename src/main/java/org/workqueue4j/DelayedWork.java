package org.workqueue4j;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.internal.Barrier;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.internal.TimerQueue;
import org.workqueue4j.internal.WorkNode;

/**
 * A work item that can be queued after a delay (kernel {@code delayed_work}): see
 * {@link WorkQueue#queueDelayed(DelayedWork, java.time.Duration)} and
 * {@link WorkQueue#modDelayed(DelayedWork, java.time.Duration)}. The item is pending from the
 * moment its timer is armed. The timer entry lives inside the item, so arming and re-arming
 * allocate nothing.
 *
 * <p>{@link #cancel()}, {@link #cancelSync()}, {@link #disable()} and {@link #disableSync()}
 * stop an armed timer as well (kernel {@code cancel_delayed_work} and friends).
 */
public class DelayedWork extends Work {
    /**
     * The timer of the runtime this item was last armed on. Volatile: written before the TIMER
     * bit is set (a volatile RMW), read by cancellers after they saw TIMER, so they see it.
     */
    private volatile TimerQueue timer;

    /** An item whose lock class is its construction site; see {@link Work#Work(String, Runnable)}. */
    public DelayedWork(String name, Runnable function) {
        super(name, function);
    }

    /** An item with an explicit lock class; see {@link Work#Work(String, LockClassKey, Runnable)}. */
    public DelayedWork(String name, LockClassKey lockClass, Runnable function) {
        super(name, lockClass, function);
    }

    void bindTimer(TimerQueue t) {
        this.timer = t;
    }

    @Override
    protected final TimerQueue armedTimer() {
        return timer;
    }

    /** True while the timer is armed (the item is pending but not yet on a queue). */
    public final boolean isTimerArmed() {
        return (state() & WorkNode.TIMER) != 0;
    }

    /**
     * If the timer is armed, queues the item now; then waits for it to finish (kernel
     * {@code flush_delayed_work}). Every instance armed, queued or running before the call has
     * finished when it returns, also while another thread fires or re-arms the item; an
     * instance armed during the call may be waited for or not. Not interruptible. A thread
     * that re-arms the item without pause while this runs can keep it waiting.
     *
     * @return true if it fired the timer or waited for a queued or running instance
     * @throws IllegalStateException if called from this item's own function
     */
    @Override
    public boolean flush() {
        boolean fired = false;
        for (int spins = 0; ; spins++) {
            fired |= fireArmedTimer();
            if (Barrier.flushQueuedInstance(this)) {
                return true;
            }
            if ((state() & WorkNode.PENDING) == 0) {
                return fired;
            }
            lookAgain(spins);
        }
    }

    /*
     * Still pending, yet on no list when the flush looked: armed again (a re-arm moved the
     * instance back to the timer), or between the timer and its queue (the timer thread or
     * another flusher fired it, a re-arm is moving it). Waiting then for an older instance that
     * is running would return before the pending one, armed before this flush, has run (issue
     * 12 #7): take it off the timer, or let it land, and flush again. A landing is a few
     * instructions long; only a caller re-arming the item without pause can keep this looping.
     */
    private void lookAgain(int spins) {
        TestHooks.at("delayedFlush.retry", this);
        if (spins > 64) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    private boolean fireArmedTimer() {
        // Asked even when TIMER reads clear: the timer thread clears it before the item lands on
        // its queue, and fireNow waits out that window, so the flush that follows finds the item.
        TimerQueue t = timer;
        return t != null && (state() & WorkNode.PENDING) != 0 && t.fireNow(this);
    }

    /**
     * {@link #flush()} that gives up waiting when interrupted; the timer, if armed, has fired
     * by then (the item is queued and runs as usual). See {@link Work#flushInterruptibly()}.
     */
    @Override
    public boolean flushInterruptibly() throws InterruptedException {
        boolean fired = false;
        for (int spins = 0; ; spins++) {
            fired |= fireArmedTimer();
            if (Barrier.flushQueuedInstanceInterruptibly(this)) {
                return true;
            }
            if ((state() & WorkNode.PENDING) == 0) {
                return fired;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException("flush of delayed work '" + name() + "' interrupted");
            }
            lookAgain(spins);
        }
    }

    @Override
    public String toString() {
        return "DelayedWork[" + name() + "]";
    }
}
