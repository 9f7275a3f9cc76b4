package org.workqueue4j;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.internal.Barrier;
import org.workqueue4j.internal.Blocking;
import org.workqueue4j.internal.TestHooks;
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
     * An item whose lock class is the class of its function; see {@link Work#Work(String, Runnable)}.
     *
     * @param name a name for dumps, reports and exceptions
     * @param function the body; it may queue or re-arm this same item again
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

    /** See {@link #timerLockMap()}; made on first use (a race makes two maps of one class: either serves). */
    private volatile org.workqueue4j.lockdep.@Nullable LockMap timerMap;

    /**
     * The map of the item's timer (kernel {@code timer->lockdep_map}): the item's own lock class
     * at subclass 1, so a report of an expiry that never runs and the waits for it are told apart
     * from the item's runs and their waits.
     */
    @Override
    org.workqueue4j.lockdep.LockMap timerLockMap() {
        org.workqueue4j.lockdep.LockMap m = timerMap;
        if (m == null) {
            org.workqueue4j.lockdep.LockMap w = lockMap();
            m = new org.workqueue4j.lockdep.LockMap("(timer)" + name(), w.key(), 1);
            timerMap = m;
        }
        return m;
    }

    void bindTimer(TimerQueue t) {
        this.timer = t;
    }

    @Override
    @Nullable TimerQueue armedTimer() {
        return timer;
    }

    /** {@return true while the timer is armed (the item is pending but not yet on a queue)} */
    public final boolean isTimerArmed() {
        return (node.state() & WorkNode.TIMER) != 0;
    }

    /**
     * If the timer is armed, queues the item now; then waits for it to finish (kernel
     * {@code flush_delayed_work}). Every instance armed, queued or running before the call has
     * finished when it returns, also while another thread fires or re-arms the item (an
     * instance whose queue was destroyed while it was armed finishes with its report to the
     * uncaught-work handler: the flush returns after that report); an
     * instance armed during the call may be waited for or not. Not interruptible: an interrupt does not end the wait; the
     * interrupt status is kept and set again on return. A thread
     * that re-arms the item without pause while this runs can keep it waiting.
     *
     * @return true if it fired the timer or waited for a queued or running instance
     * @throws IllegalStateException if called from this item's own function
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    @Override
    public boolean flush() {
        refuseSelfFlush();
        int runs = node.runsStarted(); // the instance pending now is the one to fire and wait for
        boolean acted = false;
        for (int spins = 0; ; spins++) {
            acted |= fireArmedTimer(true, runs);
            int r = Barrier.flushQueuedInstance(node, runs);
            if (r == Barrier.FINISHED) {
                acted = true;
                if (!node.firedElsewhere()) {
                    return true; // and no earlier instance's report under way (see notBusyAfterNotLinked)
                }
            }
            if (r == Barrier.TARGET_TAKEN) {
                acted = true;
                continue; // cancelled, or re-armed and perhaps running already: look again, never just at PENDING
            }
            if (notBusyAfterNotLinked(runs)) {
                if (!node.firedElsewhere()) {
                    return acted; // idle (see notBusyAfterNotLinked)
                }
                // Another thread's report of an earlier instance is under way (the user's
                // handler: it may take any time): park until it has ended, then look again.
                TestHooks.at("delayedFlush.retry", this); // it looks again, after the park
                node.awaitNotFiredElsewhere("flush_work");
                continue;
            }
            lookAgain(spins);
        }
    }

    /**
     * {@link #flush()} with a bounded wait: if the timer is armed, queues the item now, then
     * waits up to {@code timeout} for it (and any instance armed, queued or running before the
     * call) to finish. At the timeout it stops waiting; the item stays queued and runs as usual.
     * Interruptible. If the queue refuses the early fire (destroyed or draining meanwhile), the
     * refusal is reported to the uncaught-work handler on this thread, as for {@link #flush()}:
     * the call returns after the handler, also past the timeout.
     *
     * @param timeout how long to wait at most; zero or negative: fire the timer, do not wait
     * @return true if every instance armed, queued or running before the call has finished (or
     *         the item was idle), false if the timeout elapsed first
     * @throws InterruptedException  if interrupted while waiting (the status is then cleared)
     * @throws IllegalStateException if called from this item's own function
     * @throws NullPointerException  if {@code timeout} is null
     */
    @Override
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = Blocking.deadlineAfter(timeout);
        refuseSelfFlush();
        int runs = node.runsStarted(); // as flush()
        for (int spins = 0; ; spins++) {
            fireArmedTimer(false, runs); // no wait for the timer thread's report beyond the deadline
            int r = Barrier.flushQueuedInstanceUntil(node, runs, deadline);
            if (r == Barrier.FINISHED && !node.firedElsewhere()) {
                return true; // and no earlier instance's report under way (see notBusyAfterNotLinked)
            }
            if (r == Barrier.TIMED_OUT) {
                return false;
            }
            if (r != Barrier.TARGET_TAKEN && notBusyAfterNotLinked(runs)) { // TARGET_TAKEN looks again, see flush()
                if (!node.firedElsewhere()) {
                    return true; // idle: not pending, not running, no report under way
                }
                TestHooks.at("delayedFlush.retry", this); // it looks again, after the park
                if (!node.awaitNotFiredElsewhereUntil("flush_work", deadline)) {
                    return false; // the deadline passed while another thread's report was under way
                }
                continue;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException("flush of delayed work '" + name() + "' interrupted");
            }
            if (deadline - System.nanoTime() <= 0) {
                return false;
            }
            lookAgain(spins);
        }
    }

    /**
     * After a flush step linked nothing: is the item neither pending nor running? PENDING
     * alone does not say so: the step linked nothing because the instance was pending on no list
     * (armed, or between the timer and its queue), and since then it may have started (a worker
     * clears PENDING as it starts) or been cancelled while an older instance, running when the
     * flush began, still runs. So PENDING is read first (volatile), then the running state under
     * the pool lock ({@link Work#busy()}): a worker sets the item running before it clears
     * PENDING, under that lock, so a start the first read missed is seen by the second. Busy:
     * the caller looks again, and its next step links behind the running instance.
     *
     * <p>Not pending and not running is not yet idle while another thread that took the
     * instance off the timer has not finished with it ({@code firedElsewhere}, read by the
     * caller after this): an instance fired into a queue destroyed since it was armed is
     * released, then reported to the uncaught-work handler, and that report is how it ends. The
     * firer releases PENDING before it clears its mark, so a flush that saw PENDING clear and
     * then no mark returns after the report; with a mark, the caller parks until the report has
     * ended ({@code awaitNotFiredElsewhere}) and looks again.
     *
     * <p>The same holds after a flush step waited behind a later instance (FINISHED): that
     * instance's end says nothing about the report of an earlier one, which runs on no worker
     * (the item was queued or re-armed again on a live queue once the reporter released it), so
     * the flush variants return FINISHED only without a mark, and otherwise look again.
     */
    private boolean notBusyAfterNotLinked(int runs) {
        TestHooks.at("delayedFlush.notLinked", this);
        // A run begun since the call, and nothing linked: the instance of the call has finished
        // (none runs now), and what is pending is a later one, armed by that run, say (kernel:
        // flush_delayed_work fires the timer armed at its call, then flush_work).
        return busy() == 0 || node.runsStarted() != runs;
    }

    /*
     * TARGET_TAKEN: the barrier ran, but the instance it was linked behind had been taken back
     * first. Cancelled, the item is idle; re-armed, it may have fired and be running already,
     * with PENDING clear: so the loop asks the engine again (which links behind a running
     * instance) rather than reading PENDING alone.
     *
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

    /**
     * The non-blocking {@link #flush()}: if the timer is armed, queues the item now; the future
     * completes once that instance (or the queued or running one) has finished. See
     * {@link Work#flushAsync()} for where dependents run and for lock validation; one more place:
     * when an earlier instance, fired into a queue destroyed since it was armed, is being
     * reported to the uncaught-work handler, the future completes (or the flush looks again) on
     * the thread that delivered that report, once it has. The one wait it may make: an early
     * fire that the queue refuses (destroyed or draining meanwhile) is reported to the
     * uncaught-work handler on this thread before the call returns. As with {@link #flush()}, a report the
     * calling thread is delivering itself (a call from the uncaught-work handler) is not waited
     * for: that future completes once the other threads' reports have ended.
     *
     * @return a future completed with true once the instance finished, or completed with false
     *         if the item was neither armed, queued nor running
     */
    @Override
    public CompletableFuture<Boolean> flushAsync() {
        CompletableFuture<Boolean> f = org.workqueue4j.internal.WqRuntime.newFuture();
        flushAsyncInto(f, false, Thread.currentThread(), node.runsStarted());
        return f;
    }

    /**
     * One round of {@link #flushAsync()}: completes {@code f} now (idle), or links a barrier
     * that completes it, or that calls this again on its worker if the instance it waits for
     * is re-armed meanwhile (see {@link Barrier#flushQueuedInstanceAsync}). {@code caller}: the
     * thread that called flushAsync; its own reports are not waited for (see firedElsewhere), also
     * when a later round runs on a worker or on another reporter's thread.
     */
    private void flushAsyncInto(CompletableFuture<Boolean> f, boolean actedBefore, Thread caller, int runs) {
        boolean acted = actedBefore;
        for (int spins = 0; ; spins++) {
            acted |= fireArmedTimer(false, runs); // never wait for the timer thread's report here
            if (Barrier.flushQueuedInstanceAsync(node, runs, f, () -> flushAsyncInto(f, true, caller, runs))) {
                return; // a barrier was linked (it may have run already)
            }
            if (notBusyAfterNotLinked(runs)) {
                if (!node.firedOtherThan(caller)) {
                    f.complete(acted);
                    return;
                }
                // Another thread's report of an earlier instance is under way (see
                // notBusyAfterNotLinked): never wait for it here, a non-blocking call; look again on
                // the thread that ends it (or now, if it has ended meanwhile).
                boolean actedSoFar = acted;
                node.whenNotFiredElsewhere(caller, () -> {
                    try {
                        flushAsyncInto(f, actedSoFar, caller, runs);
                    } catch (Throwable e) { // on the reporter's thread: the future hears of it, not the reporter
                        f.completeExceptionally(e);
                    }
                });
                return;
            }
            lookAgain(spins); // still pending, nothing linked: armed or firing when we looked (see flush())
        }
    }

    /**
     * A flush from this item's own function would wait for itself: refused (recorded first, as
     * the engine's flush does) before the timer is fired, so the refusal changes nothing.
     */
    private void refuseSelfFlush() {
        Barrier.refuseSelfCancelWait(node, "flush");
    }

    /** Fires the armed timer if it is the instance of the flush's call ({@code runs}: see {@link TimerQueue#fireNow}). */
    private boolean fireArmedTimer(boolean wait, int runs) {
        // Asked even when TIMER reads clear: the timer thread clears it before the item lands on
        // its queue, and fireNow waits out that window (if wait; else the caller's loop looks
        // again), so the flush that follows finds the item.
        TimerQueue t = timer;
        return t != null && (node.state() & WorkNode.PENDING) != 0 && t.fireNow(node, wait, runs);
    }

    /**
     * {@link #flush()} that gives up waiting when interrupted; the timer, if armed, has fired
     * by then (the item is queued and runs as usual). See {@link Work#flushInterruptibly()}. An
     * early fire that the queue refuses is reported to the uncaught-work handler on this thread,
     * which an interrupt does not cut short.
     *
     * @return true if it fired the timer or waited for a queued or running instance
     * @throws InterruptedException  if interrupted while waiting (the interrupt status is then
     *                               cleared, as usual)
     * @throws IllegalStateException if called from this item's own function
     *                               (recorded first; under THROW the report is thrown instead)
     * @throws org.workqueue4j.lockdep.PotentialDeadlockException under {@link org.workqueue4j.lockdep.ReportPolicy#THROW},
     *                               before it waits, if the wait could deadlock (nothing is waited for)
     */
    @Override
    public boolean flushInterruptibly() throws InterruptedException {
        refuseSelfFlush();
        int runs = node.runsStarted(); // as flush()
        boolean fired = false;
        for (int spins = 0; ; spins++) {
            fired |= fireArmedTimer(false, runs); // an interrupt must end the wait for the timer thread's report too
            int r = Barrier.flushQueuedInstanceInterruptibly(node, runs);
            if (r == Barrier.FINISHED && !node.firedElsewhere()) {
                return true; // and no earlier instance's report under way (see notBusyAfterNotLinked)
            }
            fired |= r != Barrier.NOT_LINKED; // TARGET_TAKEN, or FINISHED while a report is under way
            if (r != Barrier.TARGET_TAKEN && notBusyAfterNotLinked(runs)) { // TARGET_TAKEN looks again, see flush()
                if (!node.firedElsewhere()) {
                    return fired; // idle: not pending, not running, no report under way
                }
                TestHooks.at("delayedFlush.retry", this); // it looks again, after the park
                node.awaitNotFiredElsewhereInterruptibly("flush_work"); // another thread's report: park until it ends
                continue;
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
