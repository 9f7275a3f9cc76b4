package org.workqueue4j;

import org.workqueue4j.internal.Pending;
import org.workqueue4j.internal.TimerQueue;
import org.workqueue4j.internal.WorkNode;
import org.workqueue4j.internal.WorkqueueStruct;

/**
 * A work item that can be queued after a delay (kernel {@code delayed_work}): see
 * {@link WorkQueue#queueDelayed(DelayedWork, java.time.Duration)} and
 * {@link WorkQueue#modDelayed(DelayedWork, java.time.Duration)}. The item is pending from the
 * moment its timer is armed. The timer entry lives inside the item, so arming and re-arming
 * allocate nothing.
 */
public class DelayedWork extends Work {
    /** The timer of the runtime this item was last armed on; written before arming. */
    private volatile TimerQueue timer;

    public DelayedWork(String name, Runnable function) {
        super(name, function);
    }

    void bindTimer(TimerQueue t) {
        this.timer = t;
    }

    TimerQueue timer() {
        return timer;
    }

    /** True while the timer is armed (the item is pending but not yet on a queue). */
    public final boolean isTimerArmed() {
        return (state() & WorkNode.TIMER) != 0;
    }

    /**
     * If the timer is armed, queues the item now; then waits for it to finish (kernel
     * {@code flush_delayed_work}).
     *
     * @return true if it waited
     */
    @Override
    public boolean flush() {
        TimerQueue t = timer;
        if (t != null && (state() & WorkNode.TIMER) != 0) {
            t.fireNow(this);
        }
        return super.flush();
    }

    /** Stops the timer or takes the item off its queue (kernel {@code cancel_delayed_work}). */
    @Override
    public boolean cancel() {
        return Pending.cancel(this, timer, false);
    }

    @Override
    public boolean cancelSync() {
        boolean was = Pending.cancel(this, timer, true);
        try {
            WorkqueueStruct.flushWork(this);
        } finally {
            Pending.enable(this);
        }
        return was;
    }

    @Override
    public boolean disable() {
        return Pending.cancel(this, timer, true);
    }

    @Override
    public String toString() {
        return "DelayedWork[" + name() + "]";
    }
}
