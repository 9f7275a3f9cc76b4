package org.workqueue4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;
import org.workqueue4j.Work;

/**
 * Taking work back: {@code cancelSync} against an item that requeues itself, and
 * {@code disable} against a concurrent {@code queue}.
 */
public class CancelTest {

    /**
     * Shared shape of the cancelSync races: the item requeues itself forever; one thread starts
     * it, the other waits until it has run, then cancels it with {@code cancelSync}. When
     * cancelSync returns the item is neither pending nor running, and it never runs again (the
     * arbiter flushes the queue and finds no later run).
     *
     * <p>Result: (busy() right after cancelSync, runs after it returned, cancelSync's return).
     */
    abstract static class SelfRequeueState {
        final AtomicInteger runs = new AtomicInteger();
        int busy;
        int runsAtCancel;
        int wasPending;

        final Work work;

        SelfRequeueState(boolean crossCpu) {
            work = new Work("self-requeue", () -> {
                int n = runs.incrementAndGet();
                Work self = Work.current();
                if (crossCpu) {
                    SharedRuntime.PER_CPU.queueOn(n & 1, self); // alternate pools: the collision path
                } else {
                    SharedRuntime.PER_CPU.queue(self);
                }
            });
        }

        void start() {
            SharedRuntime.PER_CPU.queue(work);
        }

        void cancelOnceRunning() {
            SharedRuntime.spinUntil(() -> runs.get() > 0, 1_000);
            wasPending = work.cancelSync() ? 1 : 0;
            busy = work.busy();
            runsAtCancel = runs.get();
        }

        void check(III_Result r) {
            SharedRuntime.PER_CPU.flush(); // a run queued behind cancelSync's back would finish here
            r.r1 = busy;
            r.r2 = runs.get() - runsAtCancel;
            r.r3 = wasPending;
        }
    }

    /** The item requeues itself on its own CPU's pool. */
    @JCStressTest
    @Outcome(id = "0, 0, 1", expect = ACCEPTABLE,
            desc = "cancelSync took a pending instance off the queue; nothing ran afterwards.")
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "cancelSync caught the item running; its self-requeue was refused and cancelSync waited for it.")
    @Outcome(id = "0, [1-9].*, .*", expect = FORBIDDEN, desc = "The item ran again after cancelSync returned.")
    @Outcome(expect = FORBIDDEN, desc = "The item was still pending or running when cancelSync returned.")
    @State
    public static class CancelSyncStopsSelfRequeue extends SelfRequeueState {
        public CancelSyncStopsSelfRequeue() {
            super(false);
        }

        @Actor
        public void starter() {
            start();
        }

        @Actor
        public void canceller() {
            cancelOnceRunning();
        }

        @Arbiter
        public void arbiter(III_Result r) {
            check(r);
        }
    }

    /**
     * The item requeues itself alternately to CPU 0 and CPU 1, so the requeue often lands while
     * the item runs in the other pool and is handed to the worker already running it.
     */
    @JCStressTest
    @Outcome(id = "0, 0, 1", expect = ACCEPTABLE,
            desc = "cancelSync took a pending instance off the queue; nothing ran afterwards.")
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "cancelSync caught the item running; its self-requeue was refused and cancelSync waited for it.")
    @Outcome(id = "0, [1-9].*, .*", expect = FORBIDDEN, desc = "The item ran again after cancelSync returned.")
    @Outcome(expect = FORBIDDEN, desc = "The item was still pending or running when cancelSync returned.")
    @State
    public static class CancelSyncStopsCrossCpuRequeue extends SelfRequeueState {
        public CancelSyncStopsCrossCpuRequeue() {
            super(true);
        }

        @Actor
        public void starter() {
            start();
        }

        @Actor
        public void canceller() {
            cancelOnceRunning();
        }

        @Arbiter
        public void arbiter(III_Result r) {
            check(r);
        }
    }

    /**
     * {@code queue} against {@code disable}: a true return leads to a run unless disable took
     * that instance back (and then returned true); after disable every queue returns false.
     *
     * <p>Result: (queue returned true, disable returned true, runs, a queue after disable
     * returned true).
     */
    @JCStressTest
    @Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "disable took the pending item off its queue before it ran.")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE, desc = "The item had started before disable; it ran once.")
    @Outcome(id = "0, 0, 0, 0", expect = ACCEPTABLE, desc = "disable came first; the queue was refused.")
    @Outcome(id = ".*, .*, .*, 1", expect = FORBIDDEN, desc = "A queue after disable returned true.")
    @Outcome(id = "1, 1, 1, 0", expect = FORBIDDEN, desc = "disable reported the item cancelled, yet it ran.")
    @Outcome(id = "1, 0, 0, 0", expect = FORBIDDEN, desc = "Lost: queued, not cancelled, never ran.")
    @Outcome(expect = FORBIDDEN, desc = "Runs inconsistent with the returns.")
    @State
    public static class DisableVsQueue {
        final AtomicInteger runs = new AtomicInteger();
        final Work work = new Work("disable-vs-queue", runs::incrementAndGet);

        @Actor
        public void queuer(IIII_Result r) {
            r.r1 = SharedRuntime.PER_CPU.queue(work) ? 1 : 0;
        }

        @Actor
        public void disabler(IIII_Result r) {
            r.r2 = work.disable() ? 1 : 0;
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            work.flush();
            r.r3 = runs.get();
            r.r4 = SharedRuntime.PER_CPU.queue(work) ? 1 : 0;
            work.enable();
        }
    }
}
