package org.workqueue4j;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.internal.TimerQueue;
import org.workqueue4j.internal.WorkNode;
import org.jspecify.annotations.Nullable;

/**
 * A work item that can be queued after a delay (kernel {@code delayed_work}): see
 * {@link WorkQueue#queueDelayed(DelayedWork, java.time.Duration)} and
 * {@link WorkQueue#modDelayed(DelayedWork, java.time.Duration)}. The item is pending from the
 * moment its timer is armed. The timer entry lives inside the item, so arming and re-arming
 * allocate nothing.
 *
 * <p>{@link #cancel()}, {@link #cancelSync()}, {@link #disable()} and {@link #disableSync()}
 * stop an armed timer as well (kernel {@code cancel_delayed_work} and friends).
 *
 * <p>Thread-safe: as {@link Work}, every method may be called from any thread, concurrently with
 * the timer and the workers.
 */
public class DelayedWork extends Work {
    /**
     * The timer of the runtime this item was last armed on. Volatile: written before the TIMER
     * bit is set (a volatile RMW), read by cancellers after they saw TIMER, so they see it.
     */
    private volatile @Nullable TimerQueue timer;

    /**
     * An item whose lock class is its construction site; see {@link Work#Work(String, Runnable)}.
     *
     * @param function the body; it may queue or re-arm this same item again
     * @param name a name for dumps, reports and exceptions
     */
    public DelayedWork(String name, Runnable function) {
        super(name, function);
    }

    /**
     * An item with an explicit lock class; see {@link Work#Work(String, LockClassKey, Runnable)}.
     *
     * @param function the body; it may queue or re-arm this same item again
     * @param lockClass the validator class of this item's map; null for a class of its own
     * @param name a name for dumps, reports and exceptions
     */
    public DelayedWork(String name, LockClassKey lockClass, Runnable function) {
        super(name, lockClass, function);
    }

    void bindTimer(TimerQueue t) {
        this.timer = t;
    }

    @Override
    protected final @Nullable TimerQueue armedTimer() {
        return timer;
    }

    /** {@return true while the timer is armed (the item is pending but not yet on a queue)} */
    public final boolean isTimerArmed() {
        return (state() & WorkNode.TIMER) != 0;
    }

    /**
     * If the timer is armed, queues the item now; then waits for it to finish (kernel
     * {@code flush_delayed_work}). Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return.
     *
     * @return true if it fired the timer or waited for a queued or running instance
     * @throws IllegalStateException if called from this item's own function (it would wait
     *                               for itself)
     */
    @Override
    public boolean flush() {
        boolean fired = false;
        while (true) {
            fired |= fireArmedTimer();
            if (super.flush()) {
                return true;
            }
            if ((state() & WorkNode.PENDING) == 0) {
                return fired;
            }
            // Still pending, yet nothing was waited for: it was armed when the flush looked (on
            // its way to the timer, or in the heap while its timer fired): take it off the timer,
            // or wait out the firing, and flush again.
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
     *
     * @return true if it fired the timer or waited for a queued or running instance
     * @throws InterruptedException  if interrupted while waiting (the interrupt status is then
     *                               cleared, as usual)
     * @throws IllegalStateException if called from this item's own function
     */
    @Override
    public boolean flushInterruptibly() throws InterruptedException {
        boolean fired = false;
        while (true) {
            fired |= fireArmedTimer();
            if (super.flushInterruptibly()) {
                return true;
            }
            if ((state() & WorkNode.PENDING) == 0) {
                return fired;
            }
        }
    }

    @Override
    public String toString() {
        return "DelayedWork[" + name() + "]";
    }
}
