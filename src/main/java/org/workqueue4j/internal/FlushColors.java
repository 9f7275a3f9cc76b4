package org.workqueue4j.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One workqueue's queue-flush protocol (kernel {@code __flush_workqueue} with its flusher
 * queue): colour flips, the flushers waiting for them, and {@code flushAsync} futures. Owned by
 * {@link WorkqueueStruct}, which annotates the wait for the validator and registers it with the
 * hung-waiter detector before calling {@link #flush}.
 */
final class FlushColors {
    /*
     * Implementation Overview
     *
     * Colours. A flush is one colour flip and a wait. Flip s (s = 1, 2, ...) closes colour
     * (s - 1) % NR_COLORS: under each pwq's pool lock it marks the pwq (a bit in flushColors)
     * if items of that colour are in flight there, and advances the pwq's workColor, so that
     * items queued later carry the next colour and never delay it. toFlush[colour] counts the
     * marked pwqs plus the flip's own bias of 1, dropped when the marking is over, so a pwq
     * finishing during the marking cannot finish the flip early (kernel
     * flush_workqueue_prep_pwqs). A pwq whose count of a marked colour reaches zero calls
     * pwqFlushed; a flip has finished when its toFlush is zero. doneSeq is the last s such that
     * every flip <= s has finished: a flusher covered by flip s returns once doneSeq >= s, that
     * is once every item queued before flip s began has finished, on every pwq and in every
     * older colour too.
     *
     * Batching. flipMutex is held only while flipping, never while waiting, so a flusher that
     * arrives while others wait flips the next colour at once and waits alongside them, instead
     * of queueing for the mutex behind a whole flush and then doing its own: waits overlap, as
     * with the kernel's flusher_queue. And flips are combined: a flusher registers on `pending`
     * (under flushLock) before it takes the mutex, and the mutex holder takes every registered
     * flusher as its batch and flips once for all of them; the others find their flip made when
     * they get the mutex. Each member of a batch registered before its flip began, so the flip's
     * colour covers everything queued before each member started; a flusher that registers after
     * the batch was taken is left for the next flip and never joins an older one. At most
     * MAX_FLIPS flips are in flight (the kernel's colour space: a colour is reused only once its
     * last flip has finished); a holder that finds the space full waits, holding the mutex, for
     * the oldest flip to finish while later flushers register behind it, then flips once for all
     * of them (the kernel's flusher_overflow, whose flushers share one colour).
     *
     * Waiting. Each flusher has a Flusher record (cached per thread, so a flush allocates
     * nothing) with a one-waiter Completion. Every flip is armed when it is made, not when an
     * older one finishes (the kernel's first flusher arms the next colour and hands its role
     * on), so no flusher waits for another thread to move the protocol on: whoever brings a
     * flip's toFlush to zero advances doneSeq and moves the covered records to `toSignal`
     * (state SIGNAL). They are counted down (the unpark) by signalFinished with no engine lock
     * held: a pool worker whose completion finished the flip does it just after it next drops
     * the pool lock (Worker.signalFlushers, before it runs its next item or goes idle), a
     * flusher after it releases the flip mutex; only a completion by another thread (a cancel)
     * counts down at once, under its pool lock. Waking a flusher under the pool lock and
     * flushLock made it wake into both, still held by its waker: it parked again on each, and
     * the worker, the bottleneck of a busy queue, paid an unpark more for each hand-off (three
     * parks per flush, measured; one now). A timed-out or interrupted flusher unlinks its record
     * and leaves; its flip finishes on its own, and later flushers wait for it as for any older
     * flip. A record is reused only when its count is zero and it is on no list: one whose
     * count-down is still to come (its thread gave up first) is left to it, and the thread's
     * next flush takes a fresh record, which that late count-down cannot reach.
     *
     * Spinning. A flusher spins briefly before parking (Completion) only if it is alone: no
     * other flusher was waiting when its flip was made, and its batch has no other member.
     * With several waiting, at least one wait is long, and each spinner would take a CPU from
     * the workers running the items they all wait for.
     *
     * Locks: flipMutex -> pool lock -> flushLock. flushLock is a leaf: pwqFlushed takes it under
     * a pool lock, and nothing is called under it. A flusher tries the flip mutex and the pool
     * locks a few times before it blocks on them (the holders keep them about a microsecond).
     * Memory ordering: doneSeq is written under flushLock after the finishing pwq's count
     * dropped under its pool lock; signalFinished takes the records under flushLock, and a
     * flusher's return is ordered after that by its Completion (a volatile decrement, read
     * volatile).
     *
     * Async flushes. A flushAsync() record carries a future instead of a waiting thread. It
     * registers, and the flip is made by whoever next holds the mutex: the caller itself if a
     * tryLock succeeds (it never blocks: an item of the queue may call it), else the holder,
     * which flips for every registered flusher, or, if that holder had already taken its batch,
     * flips again for the async records left after it releases the mutex (runAsyncWork).
     * Futures are completed with no engine lock held: by the thread that finished the flip if it
     * holds none, else by an AsyncFlushStep node that pwqFlushed queues under its pool lock and
     * a worker runs; that step also flips for async records a full colour space left waiting.
     * A timed or interruptible flusher that finds finished futures on its way out hands them
     * to a new runtime thread instead (completeElsewhere): their dependent actions are other
     * callers' code, which must not run inside its bound.
     *
     * Errors. A flip that an Error (an overflow anywhere in the marking) interrupts leaves some
     * pwqs advanced and some not. flipBroken records it, its batch goes back to `pending` (each
     * member registered before the next flip, which then covers it), and the next flip, made by
     * the next mutex holder, first finishes the broken one: marks and advances the pwqs still on
     * its colour, then drops its bias, so that colour neither finishes early nor holds later
     * flips forever. doneSeq is recomputed from toFlush at every flip (advanceDone is
     * idempotent), so a finish an Error cut short is completed then.
     */

    /** Flips in flight at most: flip s + MAX_FLIPS makes colour (s - 1) % NR_COLORS current again. */
    static final int MAX_FLIPS = PoolWorkqueue.NR_COLORS - 1;

    private static final int NOWHERE = 0;
    private static final int PENDING = 1;
    private static final int WAITING = 2;
    /** Its flip has finished; on `toSignal`, or already counted down by signalFinished. */
    private static final int SIGNAL = 3;

    /**
     * One flusher: a waiting thread's (cached per thread), or a flushAsync future's. As a
     * Runnable, an async record completes its future and those of the records after it
     * (see completeElsewhere).
     */
    private static final class Flusher implements Runnable {
        final Completion done = new Completion(0);
        /** The flushAsync future, or null for a waiting thread. */
        final CompletableFuture<Void> future;
        /** Guarded by flushLock: the flip that covers this flusher, 0 until it is made. */
        long seq;
        /**
         * Set with seq (guarded by flushLock; the owner reads it after flipFor, which saw seq
         * under flushLock): spin before parking. False when other flushers were waiting as the
         * flip was made: then at least one wait is long and several spinners would take the
         * CPUs the items they wait for need.
         */
        boolean spin;
        /** Guarded by flushLock: NOWHERE, PENDING, WAITING or SIGNAL. */
        int where;
        /**
         * Guarded by flushLock: the link of the list named by `where` (or of asyncDone); of a
         * SIGNAL record, read once more by signalFinished, before it counts the record down.
         */
        Flusher next;

        Flusher(CompletableFuture<Void> future) {
            this.future = future;
        }

        /**
         * Completes the future of this async record, whose flip has finished, and of the records
         * linked after it (a batch taken off asyncDone, which nothing else reaches any more).
         * Every one of them, also when completing one throws (a dependent's executor that throws
         * from {@code execute}, a {@code StackOverflowError} in a dependent chain: such a throw
         * leaves {@code complete} after the future's result is set); the first throw is rethrown
         * at the end. Before, the records after it were dropped, their futures never completed.
         */
        @Override
        public void run() {
            Throwable first = null;
            for (Flusher f = this; f != null; ) {
                Flusher next = f.next;
                f.next = null;
                try {
                    f.future.complete(null); // its dependents run here; their exceptions go to their own futures
                } catch (RuntimeException | Error e) {
                    if (first == null) {
                        first = e;
                    }
                }
                f = next;
            }
            if (first instanceof Error) {
                throw (Error) first;
            }
            if (first != null) {
                throw (RuntimeException) first;
            }
        }
    }

    /**
     * Each thread's reusable flusher, made by its first flush ({@link #flusher()}). A plain
     * ThreadLocal, not withInitial (a lambda bootstrap) nor a subclass (a class of its own to
     * load) on the first flush's path.
     */
    private static final ThreadLocal<Flusher> FLUSHER = new ThreadLocal<>();

    /** {@return the calling thread's flusher, made on its first flush} */
    private static Flusher flusher() {
        Flusher me = FLUSHER.get();
        if (me == null) {
            me = new Flusher(null);
            FLUSHER.set(me);
        }
        return me;
    }

    private final WorkqueueStruct wq;
    /** Serialises colour flips (kernel wq->mutex around the flip); held to flip, never to wait. */
    private final ReentrantLock flipMutex = new ReentrantLock();
    /** Leaf lock of the bookkeeping below; taken under a pool lock by pwqFlushed. */
    private final Object flushLock = new Object();
    /** Flips made so far; guarded by flushLock. */
    private long flippedSeq;
    /** Every flip <= doneSeq has finished; guarded by flushLock. */
    private long doneSeq;
    /** Per colour: pwqs still to finish it, plus its flip's bias; guarded by flushLock. */
    private final int[] toFlush = new int[PoolWorkqueue.NR_COLORS];
    /** Registered flushers waiting for a flip; guarded by flushLock. */
    private Flusher pending;
    /** Flushers whose flip is made, waiting for doneSeq to reach it; guarded by flushLock. */
    private Flusher waiting;
    /** Async flushers of finished flips whose futures are still to complete; guarded by flushLock. */
    private Flusher asyncDone;
    /**
     * Waiting threads' records of finished flips, still to count down (signalFinished, with no
     * engine lock held); written under flushLock, volatile so that signalFinished can skip the
     * lock when it is null (whoever makes it non-null signals it, or has a worker do so).
     */
    private volatile Flusher toSignal;
    /** Async flushers on `pending`; guarded by flushLock. */
    private int pendingAsync;
    /**
     * Async flushers registered and not yet completed: written under flushLock, read volatile
     * by runAsyncWork to skip the lock when there are none. A registrant writes it before its
     * tryLock of the mutex; a holder reads it after its unlock: if the tryLock failed, the
     * holder's read comes after the write (volatile total order), so no registrant is missed.
     */
    private volatile int asyncOutstanding;
    /** The mutex holder waits for a colour to free (spaceFreed); guarded by flushLock. */
    private boolean spaceWaiter;
    private final Completion spaceFreed = new Completion(0);
    /** A flip an Error interrupted, finished by the next flip, else 0; guarded by flipMutex. */
    private long flipBroken;

    FlushColors(WorkqueueStruct wq) {
        this.wq = wq;
    }

    /**
     * Flips (or joins a flip made after the call began), then waits until it and every older
     * flip have finished.
     *
     * @return false if the deadline passed first (timed only)
     * @throws InterruptedException if interrupted first (interruptible and timed only); the
     *                              flip, if made, finishes on its own
     */
    boolean flush(boolean interruptible, boolean timed, long deadline) throws InterruptedException {
        Flusher me = flusher();
        boolean done = false;
        try {
            me = register(me);
            WqRuntime.testHook("flush.registered", wq);
            if (!flipFor(me, interruptible, timed, deadline)) {
                return false;
            }
            WqRuntime.testHook("flush.waiting", wq); // covered by a flip made: what it waits for is fixed
            if (timed) {
                done = me.done.awaitUntil(deadline, me.spin);
            } else if (interruptible) {
                me.done.awaitInterruptibly(me.spin);
                done = true;
            } else {
                me.done.await(me.spin);
                done = true;
            }
            return done;
        } finally {
            if (!done) { // done: advanceDone unlinked it (else the next register replaces it)
                unlink(me); // gave up (or threw): its flip stays and finishes on its own
            }
        }
    }

    /**
     * Registers {@code f} for the next flip; a thread's cached record that an Error left linked
     * (an earlier flush cut short) is replaced by a fresh one.
     *
     * @return the record registered
     */
    private Flusher register(Flusher f) {
        synchronized (flushLock) {
            if ((f.where != NOWHERE && f.where != SIGNAL) || !f.done.isDone()) {
                // Still linked (an Error cut an earlier flush short), or its count-down is still
                // to come from a signalFinished (this thread gave up its wait first): that late
                // count-down must not reach a new round, so it gets a record of its own.
                f = new Flusher(null);
            }
            f.seq = 0;
            f.done.reset(1);
            f.where = PENDING;
            f.next = pending;
            pending = f;
            if (f.future != null) {
                pendingAsync++;
                asyncOutstanding++;
            }
            return f;
        }
    }

    /**
     * Takes {@code f} off whichever list it is on, if any, and counts it down (no one else will:
     * it is free for the next flush). A SIGNAL record is left alone: it is on `toSignal`, or
     * was counted down already.
     */
    private void unlink(Flusher f) {
        synchronized (flushLock) {
            if (f.where == SIGNAL) {
                return;
            }
            if (f.where == PENDING) {
                pending = without(pending, f);
                if (f.future != null) {
                    pendingAsync--;
                }
            } else if (f.where == WAITING) {
                waiting = without(waiting, f);
            }
            f.where = NOWHERE;
            f.next = null;
            f.done.reset(0);
        }
    }

    private static Flusher without(Flusher head, Flusher f) {
        if (head == f) {
            return f.next;
        }
        for (Flusher p = head; p != null; p = p.next) {
            if (p.next == f) {
                p.next = f.next;
                break;
            }
        }
        return head;
    }

    /**
     * Makes sure a flip covers {@code me}: takes the mutex and flips for every registered
     * flusher, unless a holder before it already did (or first waits for colour space).
     *
     * @return false if the deadline passed first
     */
    private boolean flipFor(Flusher me, boolean interruptible, boolean timed, long deadline) throws InterruptedException {
        if (!lockMutex(interruptible, timed, deadline)) {
            return false;
        }
        try {
            for (;;) {
                WqRuntime.testHook("flush.flip", wq);
                if (flipPending(me)) {
                    return true;
                }
                if (!awaitSpace(interruptible, timed, deadline)) {
                    return false;
                }
            }
        } finally {
            flipMutex.unlock();
            signalFinished(); // flips finished while we flipped (perhaps our own: nothing in flight)
            // Async records that registered while we held the mutex. A bounded flusher (timed or
            // interruptible) must not run other callers' dependent actions inside its bound.
            runAsyncWork(timed || interruptible);
        }
    }

    /**
     * flipMutex held: finishes a broken flip, then flips once for every registered flusher,
     * unless {@code me} (null for an async caller) was covered by a holder before us.
     *
     * @return false if the colour space is full (nothing was done for the registered flushers)
     */
    private boolean flipPending(Flusher me) {
        if (flipBroken != 0) {
            markAndAdvance(flipBroken); // a flip an Error broke: perhaps me's own
        }
        long s;
        synchronized (flushLock) {
            advanceDone();
            if (pending == null || (me != null && me.seq != 0)) {
                return true; // nothing to flip for, or a holder before us flipped for us
            }
            if (flippedSeq - doneSeq >= MAX_FLIPS) {
                return false;
            }
            s = ++flippedSeq;
            toFlush[colorOf(s)] = 1; // the flip's bias, dropped by markAndAdvance
            boolean spin = waiting == null && pending.next == null; // a lone flusher may spin
            for (Flusher f = pending; f != null; ) {
                Flusher next = f.next;
                f.seq = s;
                f.spin = spin;
                f.where = WAITING;
                f.next = waiting;
                waiting = f;
                f = next;
            }
            pending = null;
            pendingAsync = 0;
        }
        markAndAdvance(s);
        return true;
    }

    /**
     * flipMutex held: flip {@code s}'s marking, on every pwq still on its colour, then the drop
     * of its bias. An Error in the marking leaves the flip broken and sends its batch back to
     * `pending` (see the overview); marking a broken flip again skips the pwqs done before.
     */
    private void markAndAdvance(long s) {
        int c = colorOf(s);
        int next = (c + 1) % PoolWorkqueue.NR_COLORS;
        flipBroken = s; // until the bias is dropped
        try {
            for (PoolWorkqueue pwq : wq.pwqs) {
                WorkerPool pool = pwq.pool;
                pool.acquireFromCaller();
                try {
                    pwq.landInbox(); // lock-free pushes made before this flip count in the old colour
                    if (pwq.workColor == c) { // else done before an Error broke this flip
                        if (pwq.nrInFlight[c] > 0) {
                            pwq.flushColors |= 1 << c;
                            synchronized (flushLock) {
                                toFlush[c]++;
                            }
                            // The flush will wait for these items: make sure a worker is coming for
                            // them (a no-op when one runs or is woken), so that a wake-up an Error
                            // cut short elsewhere (a producer's signal) never strands a flusher.
                            pool.kick();
                        }
                        pwq.workColor = next;
                    }
                } finally {
                    pool.lock.unlock();
                }
            }
        } catch (Throwable e) {
            requeueBatch(s);
            throw e;
        }
        synchronized (flushLock) {
            flipBroken = 0; // with the decrement, no call between: both or neither
            if (--toFlush[c] == 0) {
                advanceDone();
            }
        }
    }

    /** Flip {@code s} broke: its flushers go back to `pending`, for the next flip to cover. */
    private void requeueBatch(long s) {
        synchronized (flushLock) {
            for (Flusher f = waiting, prev = null; f != null; ) {
                Flusher after = f.next;
                if (f.seq == s) {
                    if (prev == null) {
                        waiting = after;
                    } else {
                        prev.next = after;
                    }
                    f.seq = 0;
                    f.where = PENDING;
                    f.next = pending;
                    pending = f;
                    if (f.future != null) {
                        pendingAsync++;
                    }
                } else {
                    prev = f;
                }
                f = after;
            }
        }
    }

    private static int colorOf(long s) {
        return (int) ((s - 1) % PoolWorkqueue.NR_COLORS);
    }

    /**
     * flushLock held: advances doneSeq over the finished flips and moves the flushers they cover
     * to `toSignal` (waiting threads, counted down by signalFinished once the caller holds no
     * engine lock) or asyncDone (futures, completed where no engine lock is held). Idempotent;
     * no call between a record's unlink and its link on the next list.
     *
     * @return true if doneSeq moved
     */
    private boolean advanceDone() {
        long d = doneSeq;
        while (d < flippedSeq && toFlush[colorOf(d + 1)] == 0) {
            d++;
        }
        if (d == doneSeq) {
            return false;
        }
        doneSeq = d;
        for (Flusher f = waiting, prev = null; f != null; ) {
            Flusher after = f.next;
            if (f.seq <= d) {
                if (prev == null) {
                    waiting = after;
                } else {
                    prev.next = after;
                }
                if (f.future != null) {
                    f.where = NOWHERE;
                    f.next = asyncDone;
                    asyncDone = f;
                } else {
                    f.where = SIGNAL;
                    f.next = toSignal;
                    toSignal = f;
                }
            } else {
                prev = f;
            }
            f = after;
        }
        if (spaceWaiter) {
            spaceWaiter = false;
            spaceFreed.countDown();
        }
        return true;
    }

    /**
     * flipMutex held, colour space full: waits until the oldest flip finishes.
     *
     * @return false if the deadline passed first
     */
    private boolean awaitSpace(boolean interruptible, boolean timed, long deadline) throws InterruptedException {
        synchronized (flushLock) {
            advanceDone();
            if (flippedSeq - doneSeq < MAX_FLIPS) {
                return true;
            }
            spaceFreed.reset(1);
            spaceWaiter = true;
        }
        signalFinished(); // flips the advance above finished: their waiters need not wait for us
        try {
            if (timed) {
                return spaceFreed.awaitUntil(deadline);
            }
            if (interruptible) {
                spaceFreed.awaitInterruptibly();
            } else {
                spaceFreed.await();
            }
            return true;
        } finally {
            synchronized (flushLock) {
                spaceWaiter = false;
            }
        }
    }

    /** tryLock attempts on the flip mutex before a flusher blocks on it. */
    private static final int MUTEX_SPINS = 64;

    /**
     * Takes the flip mutex, trying it MUTEX_SPINS times before blocking: a flip holds it for
     * the marking of each pwq under its pool lock, about a microsecond, far less than a park
     * and the holder's unpark cost.
     */
    private boolean lockMutex(boolean interruptible, boolean timed, long deadline) throws InterruptedException {
        WorkerPool.probeStack(); // an overflow inside the JDK's acquisition would keep the mutex (see stackProbe)
        for (int i = 0; i < MUTEX_SPINS; i++) {
            if (flipMutex.tryLock()) {
                return true;
            }
            Thread.onSpinWait();
        }
        Worker w = Worker.current();
        if (w != null) {
            w.sleeping();
        }
        try {
            if (timed) {
                return flipMutex.tryLock(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } else if (interruptible) {
                flipMutex.lockInterruptibly();
            } else {
                flipMutex.lock();
            }
            return true;
        } finally {
            if (w != null) {
                w.running();
            }
        }
    }

    /**
     * A pwq's count of marked colour {@code color} reached zero; called under that pwq's pool
     * lock (PoolWorkqueue.decInFlight). Finishes the flip if it was the last pwq; futures to
     * complete, or async flushers to flip for, are left to a worker (AsyncFlushStep). The
     * waiting threads it finishes are counted down by {@code signaller} once it has dropped the
     * pool lock (Worker.signalFlushers), or here if it is null.
     */
    void pwqFlushed(PoolWorkqueue pwq, int color, Worker signaller) {
        boolean asyncWork;
        synchronized (flushLock) {
            if (--toFlush[color] != 0 || !advanceDone()) {
                return;
            }
            asyncWork = asyncDone != null || (pendingAsync > 0 && !spaceWaiter);
        }
        if (toSignal != null) {
            if (signaller != null) {
                signaller.deferFlushSignal(this);
            } else {
                signalFinished();
            }
        }
        if (asyncWork) {
            AsyncFlushStep.queue(pwq, true);
        }
    }

    /**
     * Counts down the waiting threads whose flips have finished (see "Waiting" above); called
     * with no engine lock held, or as a fallback under a pool lock. Takes the whole `toSignal`
     * list under flushLock; each record's link is read before its count-down, after which the
     * record belongs to its thread again. If an Error cuts the loop short, the records not yet
     * counted down go back on `toSignal` for the next call.
     */
    void signalFinished() {
        if (toSignal == null) { // volatile read: a record linked after it is its linker's to signal
            return;
        }
        Flusher f;
        synchronized (flushLock) {
            f = toSignal;
            toSignal = null;
        }
        try {
            while (f != null) {
                Flusher cur = f;
                f = cur.next;
                cur.done.countDown(); // volatile decrement, then unpark: the waiter returns
            }
        } finally {
            if (f != null) {
                resignal(f);
            }
        }
    }

    /** Puts the records from {@code f} on, not yet counted down, back on `toSignal`. */
    private void resignal(Flusher f) {
        synchronized (flushLock) {
            Flusher last = f;
            while (last.next != null) {
                last = last.next;
            }
            last.next = toSignal;
            toSignal = f;
        }
    }

    /** Flips made so far (for tests: flushers that shared a flip made one). */
    long flipsMade() {
        synchronized (flushLock) {
            return flippedSeq;
        }
    }

    /**
     * A future completed once every item queued before the call has finished. Never blocks
     * (see "Async flushes" above).
     */
    CompletableFuture<Void> flushAsync() {
        WqRuntime.newFuture(); // CompletableFuture and ForkJoinPool initialized here, on a probed stack (see newFuture)
        CompletableFuture<Void> f = WaitRecordingFuture.forQueue(wq); // not `new` here: see forQueue
        register(new Flusher(f));
        runAsyncWork(false);
        return f;
    }

    /**
     * No engine lock held: completes the futures of finished async flushers, and flips for
     * registered async flushers if the mutex is free (its holder flips for them otherwise, or
     * calls this after releasing it).
     *
     * @param elsewhere complete the futures on a thread of their own (completeElsewhere), not on
     *                  this one: the caller is a bounded wait (timed or interruptible), whose
     *                  bound another caller's dependent actions must not stretch
     */
    void runAsyncWork(boolean elsewhere) {
        if (asyncOutstanding == 0) {
            return; // the common case: no flushAsync future anywhere
        }
        for (;;) {
            Flusher done;
            boolean flip;
            synchronized (flushLock) {
                done = asyncDone;
                asyncDone = null;
                flip = pendingAsync > 0;
                for (Flusher f = done; f != null; f = f.next) {
                    asyncOutstanding--;
                }
            }
            if (done != null) {
                if (elsewhere) {
                    completeElsewhere(done);
                } else {
                    done.run();
                }
            }
            if (!flip) {
                return;
            }
            WorkerPool.probeStack(); // see lockMutex
            if (!flipMutex.tryLock()) {
                return;
            }
            boolean flipped;
            try {
                flipped = flipPending(null);
            } finally {
                flipMutex.unlock();
                signalFinished();
            }
            if (!flipped) {
                return; // no colour space: the finish that frees one queues an AsyncFlushStep
            }
        }
    }

    /**
     * Completes the futures of the records from {@code head} on a new thread of the runtime (a
     * plain daemon thread, not the user's factory's: see WqRuntime.newHandOffThread; named
     * {@code flushAsync/<queue>}, joined by close() as every runtime thread), so that their
     * dependent actions run there. Not a step on one of the runtime's
     * pools: at the worker cap, or behind a running item of another queue, such a step may never
     * run; nor CompletableFuture's default executor: the common pool, when it has two threads or
     * more, may be kept busy by unrelated tasks for as long as they like. A thread that cannot
     * be made or started leaves them to this thread, rather than incomplete, as does a closed
     * runtime (close() joins every thread of the runtime, and has made its last look). Rare: only
     * a bounded flusher that finishes another caller's flushAsync() round makes one.
     */
    private void completeElsewhere(Flusher head) {
        try {
            WqRuntime.testHook("flushAsync.handOff", wq);
            // Thread.start happens-before the thread's run: it sees the records as unlinked here.
            if (wq.runtime.startHandOffThread(head, "flushAsync/" + wq.name())) {
                return;
            }
        } catch (RuntimeException | Error e) {
            // no thread: completed here, as once the runtime is closed
        }
        head.run();
    }
}
