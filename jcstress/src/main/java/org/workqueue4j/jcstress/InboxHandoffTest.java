package org.workqueue4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;

/**
 * The lock-free insert path (a pwq's inbox) against a worker going idle: a producer pushes its
 * item with no lock while the pool's last seeking worker may be turning seeking off and parking.
 * Either the worker sees the producer's hint or the producer sees no worker seeking and wakes
 * one (the Dekker handshake in WorkerPool), so every queued item runs, without any flush (a
 * flush would land the inbox itself and hide a lost wake-up); and what the producer wrote before
 * {@code queue()} into plain fields is what the item reads.
 *
 * <p>Two producers queue one fresh item each on the same pool, so the worker alternates between
 * running, seeking and parking while the pushes land. The arbiter waits (bounded, 10 s) for both
 * runs; a run that never comes reports -1.
 */
public class InboxHandoffTest {

    /** Plain user data, as a user's would be; the runs report what they read. */
    abstract static class Base {
        int dataA; // plain: written by actor1 before its queue(), read by item A's run
        int dataB; // plain: written by actor2 before its queue(), read by item B's run
        int seenA = -1; // plain: written by the run; published to the arbiter by doneA
        int seenB = -1;
        volatile boolean doneA; // test plumbing only: lets the arbiter read seenA after the run
        volatile boolean doneB;
        final Work a = new Work("inbox-a", () -> {
            seenA = dataA;
            doneA = true;
        });
        final Work b = new Work("inbox-b", () -> {
            seenB = dataB;
            doneB = true;
        });

        abstract boolean queue(Work w);

        void arbiter(II_Result r) {
            boolean ranA = SharedRuntime.spinUntil(() -> doneA, 10_000);
            boolean ranB = SharedRuntime.spinUntil(() -> doneB, 10_000);
            r.r1 = ranA ? seenA : -1;
            r.r2 = ranB ? seenB : -1;
        }
    }

    /** Per-CPU pool (concurrency managed: nrRunning and nrSeeking): both items on CPU 0. */
    @JCStressTest
    @Outcome(id = "42, 7", expect = ACCEPTABLE, desc = "Both items ran and read what their producer wrote before queue().")
    @Outcome(id = {"-1, .*", ".*, -1"}, expect = FORBIDDEN,
            desc = "Lost wake-up: an item pushed while the worker went idle never ran.")
    @Outcome(expect = FORBIDDEN, desc = "Stale data: a run read a field its producer wrote before queue().")
    @State
    public static class PerCpuPushVsIdle extends Base {
        @Override
        boolean queue(Work w) {
            return SharedRuntime.PER_CPU.queueOn(0, w);
        }

        @Actor
        public void actor1() {
            dataA = 42;
            queue(a);
        }

        @Actor
        public void actor2() {
            dataB = 7;
            queue(b);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            super.arbiter(r);
        }
    }

    /** Unbound pool (no nrRunning: a producer wakes a worker whenever none is seeking). */
    @JCStressTest
    @Outcome(id = "42, 7", expect = ACCEPTABLE, desc = "Both items ran and read what their producer wrote before queue().")
    @Outcome(id = {"-1, .*", ".*, -1"}, expect = FORBIDDEN,
            desc = "Lost wake-up: an item pushed while the worker went idle never ran.")
    @Outcome(expect = FORBIDDEN, desc = "Stale data: a run read a field its producer wrote before queue().")
    @State
    public static class UnboundPushVsIdle extends Base {
        private static final WorkQueue Q = SharedRuntime.UNBOUND;

        @Override
        boolean queue(Work w) {
            return Q.queue(w);
        }

        @Actor
        public void actor1() {
            dataA = 42;
            queue(a);
        }

        @Actor
        public void actor2() {
            dataB = 7;
            queue(b);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            super.arbiter(r);
        }
    }
}
