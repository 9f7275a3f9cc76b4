package org.workqueue4j.internal;

/**
 * Links one workqueue to one worker pool (kernel {@code pool_workqueue}): the active limit,
 * the inactive list, and the in-flight counts per flush colour. Every field is guarded by
 * {@code pool.lock}.
 */
final class PoolWorkqueue {
    /*
     * Implementation Overview
     *
     * Activation: an item queued while nrActive < maxActive (and nothing is inactive before it)
     * goes straight to the pool's worklist; otherwise it waits on `inactive` with the INACTIVE
     * flag, in FIFO order. Each completion of an active item frees one slot and activates the
     * first inactive item (kernel pwq_dec_nr_active / pwq_activate_first_inactive).
     *
     * Flush colours: every item (and barrier) counts in nrInFlight[colour of queueing]. A queue
     * flush advances workColor on every pwq, then waits for the old colour's counts to reach 0
     * on the pwqs where it was non-zero (a bit in flushColors marks them; several colours may be
     * flushed at once, see FlushColors). Items queued after the flush started carry the new
     * colour, so they never delay it.
     */

    static final int NR_COLORS = 16;

    final WorkqueueStruct wq;
    final WorkerPool pool;
    final int[] nrInFlight = new int[NR_COLORS];
    final WorkList inactive = new WorkList();
    int nrActive;
    int maxActive;
    int workColor;
    /** The colours being flushed on this pwq, one bit per colour. */
    int flushColors;
    /** Items started and completed here: plain counters, the worker holds the pool lock anyway. */
    long started;
    long completed;
    /** Queue-to-start latency of the items started while latency statistics were on. */
    long latencySamples;
    long latencyTotalNanos;
    long latencyMaxNanos;
    /** On the queue's mayday list (guarded by the queue's mayday lock). */
    boolean mayday;

    PoolWorkqueue(WorkqueueStruct wq, WorkerPool pool, int maxActive) {
        this.wq = wq;
        this.pool = pool;
        this.maxActive = maxActive;
    }

    /** Total items and barriers counted in flight (queued, inactive or running). */
    int totalInFlight() {
        int n = 0;
        for (int c : nrInFlight) {
            n += c;
        }
        return n;
    }

    boolean isIdle() {
        return totalInFlight() == 0 && inactive.isEmpty();
    }

    /** Moves the first inactive item (and its linked barriers) to the pool's worklist. */
    boolean activateFirstInactive() {
        WorkNode n = inactive.first();
        if (n == null || nrActive >= maxActive) {
            return false;
        }
        activate(n);
        return true;
    }

    /** Activates a specific inactive item (also used by cancel, before dequeueing it). */
    void activate(WorkNode n) {
        nrActive++;
        n.flags &= ~WorkNode.INACTIVE;
        inactive.moveLinked(n, pool.worklist);
        pool.noteWorklistAdd();
    }

    /**
     * A node of colour {@code color} left this pwq (completed, or cancelled off a list).
     * Kernel {@code pwq_dec_nr_in_flight}: frees an active slot, and completes the colour's
     * flush when its last item leaves.
     */
    void decInFlight(int color, boolean wasActive) {
        if (wasActive) {
            nrActive--;
            if (activateFirstInactive()) {
                pool.kick();
            }
        }
        nrInFlight[color]--;
        if (nrInFlight[color] == 0 && (flushColors & (1 << color)) != 0) {
            flushColors &= ~(1 << color);
            wq.pwqFlushed(this, color);
        }
    }

    /** Records one item's queue-to-start latency. Caller holds the pool lock. */
    void noteQueueToStart(long nanos) {
        latencySamples++;
        latencyTotalNanos += nanos;
        if (nanos > latencyMaxNanos) {
            latencyMaxNanos = nanos;
        }
    }

    String describe() {
        return wq.name() + " on pool " + pool.id;
    }
}
