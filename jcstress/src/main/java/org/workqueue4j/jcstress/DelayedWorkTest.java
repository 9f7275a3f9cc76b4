package org.workqueue4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZI_Result;
import org.openjdk.jcstress.infra.results.ZZI_Result;
import org.workqueue4j.DelayedWork;

/**
 * Delayed work against its own timer: the timer thread ("kworker/timer") is the third party that
 * moves the item from the timer to a queue while an actor cancels or re-arms it. One actor arms
 * the item with a 1 µs delay; the other waits (briefly) until it is pending and then acts.
 */
public class DelayedWorkTest {

    abstract static class ArmedState {
        final AtomicInteger runs = new AtomicInteger();
        final DelayedWork work = new DelayedWork("delayed", runs::incrementAndGet);

        boolean arm() {
            return SharedRuntime.PER_CPU.queueDelayed(work, SharedRuntime.TINY);
        }

        /** Gives the arming actor a head start without ever waiting long. */
        void awaitArmed() {
            for (int i = 0; i < 2_000 && !work.isPending(); i++) {
                Thread.onSpinWait();
            }
        }

        /**
         * Waits until the item is neither pending nor running and returns its runs. Every delay
         * here is 1 µs or zero, so a pending item leaves PENDING on its own within microseconds:
         * spin for that rather than flush, so that the arbiter's flush (whose own races
         * {@link FlushWaitsForExpiringTimer} and {@link FlushTest.WorkFlushFollowsMigration}
         * test) cannot mask the race under test. Then flush the (not pending, so not moving)
         * running instance.
         */
        int settle() {
            if (!SharedRuntime.spinUntil(() -> !work.isPending(), 10_000)) {
                throw new IllegalStateException("delayed item still pending 10 s after a 1 µs delay");
            }
            work.flush();
            return runs.get();
        }
    }

    /**
     * {@code DelayedWork.flush()} against timer expiry: once a thread has seen the item pending,
     * its flush returns only after that instance ran (kernel {@code flush_delayed_work}:
     * {@code del_timer_sync} waits for a running timer callback, which queues the item).
     *
     * <p>Result: (the flusher saw the item pending before flushing, runs when its flush returned).
     *
     * <p>The interleaving this guards: the flusher sees PENDING while the armer is still between
     * {@code Pending.claim} and the node's insertion into the timer heap. The TIMER bit is now
     * set under the timer lock together with the heap slot, and {@code DelayedWork.flush} waits
     * for an item on its way to the timer, then fires it and waits again.
     */
    @JCStressTest
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "The flush waited for the armed (or expiring) instance.")
    @Outcome(id = "false, [01]", expect = ACCEPTABLE_INTERESTING,
            desc = "The flusher gave up waiting for the arming: nothing to assert.")
    @Outcome(id = "true, 0", expect = FORBIDDEN,
            desc = "The flush returned before the pending instance ran: it missed the item in transit from the timer to its queue.")
    @Outcome(expect = FORBIDDEN, desc = "The item ran more than once.")
    @State
    public static class FlushWaitsForExpiringTimer extends ArmedState {
        @Actor
        public void armer() {
            arm();
        }

        @Actor
        public void flusher(ZI_Result r) {
            awaitArmed();
            r.r1 = work.isPending();
            work.flush();
            r.r2 = runs.get();
        }

        @Arbiter
        public void arbiter() {
            settle(); // leave nothing armed behind
        }
    }

    /**
     * {@code cancel} against timer expiry: the item runs exactly once or is cancelled, never
     * both and never neither.
     *
     * <p>Result: (queueDelayed returned true, cancel returned true, runs).
     */
    @JCStressTest
    @Outcome(id = "true, true, 0", expect = ACCEPTABLE, desc = "cancel took it off the timer or the queue before it ran.")
    @Outcome(id = "true, false, 1", expect = ACCEPTABLE_INTERESTING,
            desc = "The timer won: the item had started before cancel (or cancel came before arming).")
    @Outcome(id = "true, true, 1", expect = FORBIDDEN, desc = "Both: cancel reported it pending, yet it ran.")
    @Outcome(id = "true, false, 0", expect = FORBIDDEN, desc = "Neither: not cancelled and never ran (lost in transit).")
    @Outcome(expect = FORBIDDEN, desc = "Arming an idle item failed, or it ran twice.")
    @State
    public static class CancelVsExpiry extends ArmedState {
        @Actor
        public void armer(ZZI_Result r) {
            r.r1 = arm();
        }

        @Actor
        public void canceller(ZZI_Result r) {
            awaitArmed();
            r.r2 = work.cancel();
        }

        @Arbiter
        public void arbiter(ZZI_Result r) {
            r.r3 = settle();
        }
    }

    /**
     * Shared outcomes of the modDelayed races: modDelayed returns true only when it re-armed an
     * instance that had not started (one run in all); false means the item was idle and is now
     * queued anew (two runs, or one if the arming actor then collapsed into it).
     *
     * <p>Result: (queueDelayed returned true, modDelayed returned true, runs).
     */
    abstract static class ModDelayedState extends ArmedState {
        boolean modify(Duration delay) {
            awaitArmed();
            return SharedRuntime.PER_CPU.modDelayed(work, delay);
        }
    }

    /** {@code modDelayed} to another 1 µs against expiry. */
    @JCStressTest
    @Outcome(id = "true, true, 1", expect = ACCEPTABLE, desc = "modDelayed re-armed the pending instance: one run.")
    @Outcome(id = "true, false, 2", expect = ACCEPTABLE_INTERESTING,
            desc = "The first instance had started; modDelayed queued a second: two runs.")
    @Outcome(id = "false, false, 1", expect = ACCEPTABLE,
            desc = "modDelayed came first and queued it; queueDelayed found it pending.")
    @Outcome(id = "true, true, 2", expect = FORBIDDEN, desc = "Duplicated: modDelayed re-armed an instance that also ran.")
    @Outcome(id = "true, false, 1", expect = FORBIDDEN, desc = "Lost: modDelayed queued the idle item, yet one run in all.")
    @Outcome(expect = FORBIDDEN, desc = "Runs inconsistent with the returns.")
    @State
    public static class ModDelayedVsExpiry extends ModDelayedState {
        @Actor
        public void armer(ZZI_Result r) {
            r.r1 = arm();
        }

        @Actor
        public void modifier(ZZI_Result r) {
            r.r2 = modify(SharedRuntime.TINY);
        }

        @Arbiter
        public void arbiter(ZZI_Result r) {
            r.r3 = settle();
        }
    }

    /** {@code modDelayed} with delay 0 (queue now) against expiry. */
    @JCStressTest
    @Outcome(id = "true, true, 1", expect = ACCEPTABLE, desc = "modDelayed moved the pending instance to the queue: one run.")
    @Outcome(id = "true, false, 2", expect = ACCEPTABLE_INTERESTING,
            desc = "The first instance had started; modDelayed queued a second: two runs.")
    @Outcome(id = "false, false, 1", expect = ACCEPTABLE,
            desc = "modDelayed came first and queued it; queueDelayed found it pending.")
    @Outcome(id = "true, true, 2", expect = FORBIDDEN, desc = "Duplicated: modDelayed took an instance that also ran.")
    @Outcome(id = "true, false, 1", expect = FORBIDDEN, desc = "Lost: modDelayed queued the idle item, yet one run in all.")
    @Outcome(expect = FORBIDDEN, desc = "Runs inconsistent with the returns.")
    @State
    public static class ModDelayedNowVsExpiry extends ModDelayedState {
        @Actor
        public void armer(ZZI_Result r) {
            r.r1 = arm();
        }

        @Actor
        public void modifier(ZZI_Result r) {
            r.r2 = modify(Duration.ZERO);
        }

        @Arbiter
        public void arbiter(ZZI_Result r) {
            r.r3 = settle();
        }
    }
}
