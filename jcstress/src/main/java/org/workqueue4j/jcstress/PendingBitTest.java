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
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.ZI_Result;
import org.openjdk.jcstress.infra.results.ZZI_Result;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.Work;
import org.workqueue4j.internal.Pending;
import org.workqueue4j.internal.WorkNode;

/**
 * The PENDING bit (kernel {@code WORK_STRUCT_PENDING}): a work item is pending at most once, a
 * queue that collapses into a pending instance loses nothing, and one that finds the item
 * running queues it again. Every arbiter flushes the item and counts the runs.
 */
public class PendingBitTest {

    /**
     * Two threads claim the same item while it cannot start (its timer is an hour away): exactly
     * one claim wins, and the item runs exactly once.
     */
    @JCStressTest
    @Outcome(id = {"true, false, 1", "false, true, 1"}, expect = ACCEPTABLE,
            desc = "One claim won; the other collapsed into the pending instance, which ran once.")
    @Outcome(id = "true, true, .*", expect = FORBIDDEN, desc = "Both claims won: the item was pending twice.")
    @Outcome(id = "false, false, .*", expect = FORBIDDEN, desc = "Neither claim won on an idle item.")
    @Outcome(expect = FORBIDDEN, desc = "One claim won but the item did not run exactly once: lost or duplicated.")
    @State
    public static class PendingAtMostOnce {
        final AtomicInteger runs = new AtomicInteger();
        final DelayedWork work = new DelayedWork("pending-at-most-once", runs::incrementAndGet);

        @Actor
        public void actor1(ZZI_Result r) {
            r.r1 = SharedRuntime.PER_CPU.queueDelayed(work, SharedRuntime.LONG);
        }

        @Actor
        public void actor2(ZZI_Result r) {
            r.r2 = SharedRuntime.PER_CPU.queueDelayed(work, SharedRuntime.LONG);
        }

        @Arbiter
        public void arbiter(ZZI_Result r) {
            work.flush(); // fires the armed timer now, then waits for the run
            r.r3 = runs.get();
        }
    }

    /**
     * Two threads queue the same item, which may start between the two calls: every true return
     * is followed by exactly one run (runs == number of true returns), and at least one call wins.
     */
    @JCStressTest
    @Outcome(id = {"true, false, 1", "false, true, 1"}, expect = ACCEPTABLE,
            desc = "The second queue found the item pending and collapsed into it: one run.")
    @Outcome(id = "true, true, 2", expect = ACCEPTABLE_INTERESTING,
            desc = "The first instance had started (PENDING cleared) before the second queue: it ran again.")
    @Outcome(id = "true, true, 1", expect = FORBIDDEN,
            desc = "Lost wakeup: a queue returned true on a running item and no run followed.")
    @Outcome(expect = FORBIDDEN, desc = "Runs differ from true returns, or no queue won on an idle item.")
    @State
    public static class EveryTrueReturnRuns {
        final AtomicInteger runs = new AtomicInteger();
        final Work work = new Work("every-true-return-runs", runs::incrementAndGet);

        @Actor
        public void actor1(ZZI_Result r) {
            r.r1 = SharedRuntime.PER_CPU.queue(work);
        }

        @Actor
        public void actor2(ZZI_Result r) {
            r.r2 = SharedRuntime.PER_CPU.queue(work);
        }

        @Arbiter
        public void arbiter(ZZI_Result r) {
            work.flush();
            r.r3 = runs.get();
        }
    }

    /**
     * A queue that returns false found an instance that has not started yet, so that instance
     * sees the caller's earlier writes; a true return is followed by a run that sees them.
     * Either way the last run sees {@code event = 1} (the contract in {@code Work}'s javadoc:
     * everything the caller did before {@code queue()}, whatever it returns, happens-before
     * the start of some run that begins after the call).
     *
     * <p>{@code event} and {@code seen} are plain, as a user's data would be: the false return
     * is ordered by the failed claim itself (a full fence before its deciding read, pairing
     * with the worker's PENDING-clearing read-modify-write), not by the field. The arbiter
     * reads {@code seen} after {@code flush()}, which happens-after the run.
     */
    @JCStressTest
    @Outcome(id = "1, 0, 1, 1", expect = ACCEPTABLE,
            desc = "The event's queue collapsed into the pending instance, which had not started and saw the event.")
    @Outcome(id = "0, 1, 1, 1", expect = ACCEPTABLE,
            desc = "The event's queue came first; the other collapsed into it.")
    @Outcome(id = "1, 1, 1, 2", expect = ACCEPTABLE_INTERESTING,
            desc = "The first instance had started; the event's queue requeued it and the second run saw the event.")
    @Outcome(id = ".*, .*, 0, .*", expect = FORBIDDEN,
            desc = "Lost event: the last run did not see a write made before a queue call.")
    @Outcome(expect = FORBIDDEN, desc = "Runs differ from true returns.")
    @State
    public static class NoLostEvent {
        int event; // plain: a user's data
        int seen = -1; // plain: written by the run, read after flush()
        final AtomicInteger runs = new AtomicInteger();
        final Work work = new Work("no-lost-event", () -> {
            seen = event;
            runs.incrementAndGet();
        });

        @Actor
        public void other(IIII_Result r) {
            r.r1 = SharedRuntime.PER_CPU.queue(work) ? 1 : 0;
        }

        @Actor
        public void producer(IIII_Result r) {
            event = 1;
            r.r2 = SharedRuntime.PER_CPU.queue(work) ? 1 : 0;
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            work.flush();
            r.r3 = seen;
            r.r4 = runs.get();
        }
    }

    /**
     * The failed claim is ordered (the kernel's 2022 fix "locking/atomic: Make
     * test_and_*_bit() ordered on failure"): the two halves of the PENDING protocol as two
     * actors, on an item whose instance is pending and about to start. The producer writes
     * its (plain) data and queues; the worker does exactly what {@code Worker.processOne}
     * does before the function runs, clears PENDING with its read-modify-write, then reads the
     * data as the function would. If the claim failed, it saw PENDING before the worker's
     * clear, so the run that starts after that clear must see the data: without a fence on
     * the failure path the producer's store can still sit in its store buffer (x86 allows
     * store-to-load reordering) while its volatile load of the state word reads PENDING.
     */
    @JCStressTest
    @Outcome(id = "false, 1", expect = ACCEPTABLE,
            desc = "The claim collapsed into the pending instance, whose run saw the data.")
    @Outcome(id = "true, 0", expect = ACCEPTABLE,
            desc = "The worker had cleared PENDING first; the claim won, so a new run (ordered by it) follows.")
    @Outcome(id = "true, 1", expect = ACCEPTABLE,
            desc = "The claim won after the clear; the run that started saw the data anyway.")
    @Outcome(id = "false, 0", expect = FORBIDDEN,
            desc = "Lost data: queue() returned false, yet the run starting after it read the value from before the call.")
    @State
    public static class FailedClaimOrdered {
        int data; // plain: a user's data
        /** The engine's node of an item (a {@code Work} holds one; the protocol is the node's). */
        final WorkNode work = new WorkNode() {
            @Override
            public String name() {
                return "failed-claim-ordered";
            }

            @Override
            protected void execute() {
            }

            @Override
            public org.workqueue4j.lockdep.LockMap lockMap() {
                return null;
            }
        };

        public FailedClaimOrdered() {
            work.casState(0, WorkNode.PENDING); // an instance is pending and has not started
        }

        @Actor
        public void producer(ZI_Result r) {
            data = 1;
            r.r1 = Pending.claim(work); // what queue() does first
        }

        @Actor
        public void worker(ZI_Result r) {
            work.clearState(WorkNode.PENDING); // Worker.processOne, just before the function runs
            r.r2 = data; // the function reads the data
        }
    }

    /**
     * An item queued to CPU 0 and to CPU 1 at once never runs on two workers at the same time,
     * even when the second queue lands while the first instance runs (the kernel hands it to the
     * worker already running it).
     */
    @JCStressTest
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "One run: the second queue collapsed into the first.")
    @Outcome(id = "0, 2", expect = ACCEPTABLE, desc = "Two runs, one after the other.")
    @Outcome(id = "1, .*", expect = FORBIDDEN, desc = "Two workers ran the item at the same time.")
    @Outcome(expect = FORBIDDEN, desc = "The item did not run, or ran more often than it was queued.")
    @State
    public static class NonReentrant {
        final AtomicInteger inside = new AtomicInteger();
        volatile int overlapped;
        final AtomicInteger runs = new AtomicInteger();
        final Work work = new Work("non-reentrant", () -> {
            if (inside.incrementAndGet() != 1) {
                overlapped = 1;
            }
            for (int i = 0; i < 50; i++) {
                Thread.onSpinWait(); // widen the window in which a second worker could start it
            }
            inside.decrementAndGet();
            runs.incrementAndGet();
        });

        @Actor
        public void cpu0() {
            SharedRuntime.PER_CPU.queueOn(0, work);
        }

        @Actor
        public void cpu1() {
            SharedRuntime.PER_CPU.queueOn(1, work);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            work.flush();
            r.r1 = overlapped;
            r.r2 = runs.get();
        }
    }
}
