package org.workqueue4j;

import java.util.ArrayDeque;

/**
 * The sequential specification the model-checking tests compare the engine with: one unbound
 * queue, two plain items (0 and 1) and one delayed item (2), with the kernel's rules written out
 * as plain state. Every operation here is atomic; the checker accepts a concurrent run only if
 * its results equal those of some sequential order of the same operations on this model.
 *
 * <ul>
 *   <li>pending: a successful queue (or arm) sets it; a run or a cancel that returns true clears it.
 *       A queue returns false iff the item is pending.</li>
 *   <li>active and inactive: an item is activated (put on the worklist) iff nothing is inactive
 *       and fewer than the limit are active; the limit is max_active, or 0 while frozen. A
 *       completion or a cancel frees one slot and activates the first inactive item; raising the
 *       limit or thawing activates as many as fit, in order. The worklist runs first in, first out.</li>
 *   <li>flush: no state change; the engine side checks that a completed flush had every item
 *       queued before it finished (an armed timer is not waited for: kernel flush_workqueue).</li>
 *   <li>delayed: arming sets pending and armed; expiry queues the item; modDelayed takes a pending
 *       instance back (off the timer or the lists) and arms again, returning whether it was pending.</li>
 * </ul>
 */
public final class QueueModel {
    static final int DELAYED = 2;
    private final boolean[] pending = new boolean[3];
    private boolean armed;
    private final ArrayDeque<Integer> worklist = new ArrayDeque<>();
    private final ArrayDeque<Integer> inactive = new ArrayDeque<>();
    private int nrActive;
    private int maxActive = QueueModelCheckTest.INITIAL_MAX_ACTIVE;
    private boolean frozen;

    private int limit() {
        return frozen ? 0 : maxActive;
    }

    private void insert(int i) {
        if (inactive.isEmpty() && nrActive < limit()) {
            worklist.addLast(i);
            nrActive++;
        } else {
            inactive.addLast(i);
        }
    }

    private boolean activateFirst() {
        if (inactive.isEmpty() || nrActive >= limit()) {
            return false;
        }
        worklist.addLast(inactive.pollFirst());
        nrActive++;
        return true;
    }

    /** Takes a queued item off its list; a slot it held (or was given to leave) is freed. */
    private void unlink(int i) {
        if (!inactive.remove(i)) {
            worklist.remove(i);
            nrActive--;
        }
        activateFirst();
    }

    public boolean queue(int i) {
        if (pending[i]) {
            return false;
        }
        pending[i] = true;
        insert(i);
        return true;
    }

    public boolean cancel(int i) {
        if (!pending[i]) {
            return false;
        }
        if (i == DELAYED && armed) {
            armed = false;
        } else {
            unlink(i);
        }
        pending[i] = false;
        return true;
    }

    public int runOne() {
        Integer i = worklist.pollFirst();
        if (i == null) {
            return -1;
        }
        pending[i] = false;
        nrActive--;
        activateFirst();
        return i;
    }

    /** 0 is clamped to 1, as the kernel's workqueue_set_max_active does (defect 12 of issue 12). */
    public void setMaxActive(int n) {
        maxActive = n == 0 ? 1 : n;
        if (!frozen) {
            while (activateFirst()) {
                // activate as many as fit
            }
        }
    }

    public void freeze() {
        frozen = true;
    }

    public void thaw() {
        frozen = false;
        while (activateFirst()) {
            // activate as many as fit
        }
    }

    /**
     * Nothing to record: the engine's flush checks its own contract where it completes (see
     * ModelCheckedQueue#flush); a completed flush may have waited out runs of other threads, so
     * "nothing queued" at one point is not its result.
     */
    public void flush() {
        // the contract is checked by the engine side
    }

    /**
     * {@code Work.flushAsync()}: true iff the item is pending (a run in progress is an atomic
     * {@link #runOne()} here, so "running" is "pending before that run"). Barriers change no
     * state the model keeps: they never count toward max_active and run unseen.
     */
    public boolean flushWork(int i) {
        return pending[i];
    }

    public boolean queueDelayed() {
        if (pending[DELAYED]) {
            return false;
        }
        pending[DELAYED] = true;
        armed = true;
        return true;
    }

    public boolean modDelayed() {
        boolean was = pending[DELAYED];
        if (was) {
            if (armed) {
                armed = false;
            } else {
                unlink(DELAYED);
            }
        }
        pending[DELAYED] = true;
        armed = true;
        return was;
    }

    public boolean expire() {
        if (!armed) {
            return false;
        }
        armed = false;
        insert(DELAYED);
        return true;
    }
}
