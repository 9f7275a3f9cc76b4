package org.workqueue4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

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
     *
     * Inbox (the lock-free half of the insert path). A producer that may take the fast path
     * (WorkqueueStruct.claimAndInsert: it claimed PENDING with RUNNING clear, the queue's `used`
     * flag needs no update) pushes the node on `inbox`, an intrusive Treiber stack through the
     * node's own `next` link (0 allocation), with one volatile CAS, and takes no lock. The node
     * then counts nowhere yet: no colour, not active, on no list. Whoever holds the pool lock
     * and needs to see the pwq's pending items first lands the inbox (takeInbox): one volatile
     * getAndSet takes the whole stack, and the nodes are reversed (producers' CAS order = FIFO)
     * and each landed exactly as the locked insert would have landed it at that moment
     * (land(): worklist or inactive by the maxActive rule, counted in the current workColor).
     * So the inbox is simply "inserts not yet applied", and every reader that applies them
     * first sees the same state as if each producer had taken the lock:
     *   - the worker (WorkerPool.spliceInboxes, from its loop and from kick());
     *   - flush colours: FlushColors.markAndAdvance lands each pwq's inbox before it reads
     *     and advances workColor, so an item whose queue() returned before flush() was called
     *     (its push happens-before the take) is counted in the old colour and waited for;
     *   - drain (allIdle), freeze/thaw/setMaxActive (applyMaxActive, freezeBusy), counts and
     *     the dump land it before they look; the locked insert path lands it before it adds
     *     its own node, so a locked insert never overtakes an earlier lock-free one (ordered
     *     queues stay FIFO);
     *   - grab/cancel, work.flush (barriers) and the pending-elsewhere check find a node in
     *     transit (PENDING set, on no list) and land every inbox of the node's pool
     *     (WorkerPool.takeInboxes) under its lock before they look again.
     * The landing loop makes no call between the take and the last node's link (WorkList
     * fields written inline), so an Error (a StackOverflowError in the splicer's frame) cannot
     * strike between "taken" and "landed": nothing taken is ever dropped.
     *
     * Closing. drain() and destroy() close the inbox (closeInbox, under the pool lock: the head
     * becomes the CLOSED sentinel, what was there is landed) before they set DRAINING /
     * DESTROYING, and drain reopens it after clearing DRAINING (destroy never does). A push
     * CASes only from a non-CLOSED head, so "inbox open" and "queue accepts work from anyone"
     * hold at the same instant: a push that succeeds happened while the queue accepted, and
     * the drainer, which looks after closing, sees it; a producer that finds CLOSED takes the
     * locked path, which applies the DRAINING/DESTROYED rules (chained work) under the lock.
     * Closes nest (inboxClosers), so a drain inside destroy leaves it closed.
     */

    private static final VarHandle INBOX;

    static {
        try {
            INBOX = MethodHandles.lookup().findVarHandle(PoolWorkqueue.class, "inbox", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e); // the JVM wraps it in ExceptionInInitializerError (named here, the verifier would load it at start-up)
        }
    }

    /**
     * The head of a closed inbox: a plain object, never a node (a node subclass of its own would
     * be one more class to load on every runtime's first queue).
     */
    private static final Object CLOSED = new Object();

    /** push(): the inbox was closed, nothing was pushed. */
    static final int PUSH_CLOSED = 0;
    /** push(): pushed on an empty inbox: the producer must signal the pool. */
    static final int PUSH_FIRST = 1;
    /** push(): pushed on a non-empty inbox: whoever made it non-empty signals. */
    static final int PUSH_MORE = 2;

    /** Lock-free pushes, newest first; null (empty), CLOSED, or a WorkNode. Read and cleared directly (volatile), swapped through INBOX. */
    @SuppressWarnings("unused")
    private volatile Object inbox;
    /** Nesting count of closeInbox (pool lock). */
    private int inboxClosers;

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

    // ---------------------------------------------------------------- inbox

    /** Whether the inbox is closed (the queue draining or dying): a volatile read of it. */
    boolean inboxClosed() {
        return inbox == CLOSED;
    }

    /**
     * Pushes {@code n} (PENDING claimed by the caller, on no list, {@code pool} set) on the inbox
     * with a volatile CAS (compareAndExchange): the release half publishes the node's fields and
     * the caller's earlier stores to the splicer's getAndSet; the volatile (SC) half orders it
     * before the caller's hint store and seeking read (WorkerPool's idle handshake).
     *
     * @return PUSH_CLOSED (nothing done), PUSH_FIRST or PUSH_MORE
     */
    int push(WorkNode n) {
        Object h = inbox; // a first guess (volatile read of the field; the CAS decides): no VarHandle call site to link, see WorkNode.state()
        for (;;) {
            if (h == CLOSED) {
                return PUSH_CLOSED;
            }
            n.next = (WorkNode) h; // plain: published by the CAS below
            Object w = INBOX.compareAndExchange(this, h, n);
            if (w == h) {
                return h == null ? PUSH_FIRST : PUSH_MORE;
            }
            h = w;
        }
    }

    /**
     * Pool lock held: lands everything pushed so far (see the overview).
     *
     * @return true if some node went on the pool's worklist (the caller kicks)
     */
    boolean takeInbox() {
        // Volatile load as a filter only (saves the RMW when empty). Volatile, not acquire: the
        // taker's volatile clear of inboxHint comes before it, and a push whose hint store came
        // before that clear must be seen here; only a volatile read is ordered after the clear in
        // the synchronization order (a push it does not see stores the hint again after it, for
        // the next taker). Closed inboxes are empty.
        if (inboxClosers > 0 || inbox == null) {
            return false;
        }
        return takeAndLand(null);
    }

    /**
     * Takes the inbox (volatile getAndSet, replacing it with {@code replacement}: null, or CLOSED)
     * and lands every node in push order. No call between the take and the end of the loop.
     */
    private boolean takeAndLand(@org.jspecify.annotations.Nullable Object replacement) {
        // Volatile getAndSet: acquires every taken node's fields and links (each pusher's CAS
        // released them); volatile so that it is ordered with the pushes' CAS in one total order.
        Object taken = INBOX.getAndSet(this, replacement);
        WorkNode h = taken == CLOSED ? null : (WorkNode) taken;
        WorkNode fifo = null;
        while (h != null) { // reverse: producers pushed newest first
            WorkNode nx = h.next;
            h.next = fifo;
            fifo = h;
            h = nx;
        }
        boolean anyActive = false;
        WorkList wl = pool.worklist;
        while (fifo != null) {
            WorkNode n = fifo;
            fifo = n.next;
            boolean active = inactive.head == null && nrActive < maxActive;
            WorkList to = active ? wl : inactive;
            n.list = to; // WorkList.addLast, inline
            n.next = null;
            n.prev = to.tail;
            if (to.tail == null) {
                to.head = n;
            } else {
                to.tail.next = n;
            }
            to.tail = n;
            to.size++;
            int color = workColor;
            nrInFlight[color]++;
            n.color = color;
            n.pwq = this;
            if (active) {
                nrActive++;
                n.flags = 0;
                anyActive = true;
            } else {
                n.flags = WorkNode.INACTIVE;
            }
        }
        return anyActive;
    }

    /** Pool lock held: lands the inbox and, if that activated something, kicks the pool. */
    void landInbox() {
        boolean wasEmpty = pool.worklist.isEmpty();
        if (takeInbox()) {
            if (wasEmpty) {
                pool.noteProgress();
            }
            pool.kick();
        }
    }

    /** Pool lock held: closes the inbox (nested), landing what it held. */
    void closeInbox() {
        if (inboxClosers++ == 0) { // counted first: the kick below lands the pool's open inboxes only
            try {
                boolean wasEmpty = pool.worklist.isEmpty();
                if (takeAndLand(CLOSED)) {
                    if (wasEmpty) {
                        pool.noteProgress();
                    }
                    pool.kick();
                }
            } catch (Throwable e) {
                // A throw (a StackOverflowError in the kick, say): the caller's undo skips this
                // pwq, so undo this close here, or the inbox stays counted closed for good.
                reopenInbox();
                throw e;
            }
        }
    }

    /** Pool lock held: undoes one closeInbox; the last reopens it (volatile store). */
    void reopenInbox() {
        if (--inboxClosers == 0) {
            // Volatile store: pushers CAS against it; only lock holders ever replace CLOSED.
            inbox = null;
        }
    }

    /**
     * Pool lock held: the locked insert lands {@code n} (after the inbox, so FIFO holds). The
     * call-free WorkList.addLast is the commit point; only plain writes follow. The same
     * accounting is written out inline in takeAndLand, which may make no call at all once it
     * has taken the inbox; a shared helper would be such a call.
     *
     * @return true if it went on the worklist (active)
     */
    boolean land(WorkNode n) {
        boolean active = inactive.isEmpty() && nrActive < maxActive;
        (active ? pool.worklist : inactive).addLast(n); // commit: no call inside can throw
        int color = workColor;
        nrInFlight[color]++;
        n.color = color;
        n.pwq = this;
        if (active) {
            nrActive++;
            n.flags = 0;
        } else {
            n.flags = WorkNode.INACTIVE;
        }
        return active;
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
        decInFlight(color, wasActive, true, null);
    }

    /**
     * {@link #decInFlight(int, boolean)}; with {@code kick} false the item activated in the freed
     * slot wakes no worker: the caller is a pool worker completing an item, which looks at the
     * worklist next (Worker.run's keepWorking loop) and takes it itself, as the kernel's
     * pwq_activate_first_inactive wakes no one. Waking another worker for it would only move
     * the item to a cold thread (an unbound pool counts no worker as running, so every
     * completion of an ordered queue used to unpark one). A non-null {@code signaller} (a pool
     * worker completing an item) wakes the flushers a finished colour releases once it has
     * dropped the pool lock (Worker.signalFlushers), so that none of them wakes into the pool
     * lock, or the queue's flush lock, still held by the thread that woke it.
     */
    void decInFlight(int color, boolean wasActive, boolean kick, Worker signaller) {
        if (wasActive) {
            nrActive--;
            if (activateFirstInactive() && kick) {
                pool.kick();
            }
        }
        nrInFlight[color]--;
        if (nrInFlight[color] == 0 && (flushColors & (1 << color)) != 0) {
            flushColors &= ~(1 << color);
            wq.pwqFlushed(this, color, signaller);
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
