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
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.ZZ_Result;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;

/**
 * Flushing: {@code queue.flush()} waits for everything queued before it started (flush colours),
 * whatever other threads queue and flush meanwhile; {@code work.flush()} waits for the instance
 * that was pending or running when it started.
 */
public class FlushTest {

    /**
     * Each thread queues its own item and flushes the shared queue while the other does the
     * same: when a flush returns, the item its thread queued before it has run.
     */
    abstract static class QueueFlushSeesEarlierWork {
        final AtomicInteger aRuns = new AtomicInteger();
        final AtomicInteger bRuns = new AtomicInteger();
        final Work a = new Work("flush-a", aRuns::incrementAndGet);
        final Work b = new Work("flush-b", bRuns::incrementAndGet);

        /** Queue {@code w}, flush {@code q}: has {@code w} run? */
        static boolean queueThenFlush(WorkQueue q, Work w, AtomicInteger runs) {
            q.queue(w);
            q.flush();
            return runs.get() == 1;
        }
    }

    /** {@link QueueFlushSeesEarlierWork} on a per-CPU queue: the flush spans both CPU pools. */
    @JCStressTest
    @Outcome(id = "true, true", expect = ACCEPTABLE, desc = "Each flush waited for the item queued before it.")
    @Outcome(expect = FORBIDDEN, desc = "A flush returned before an item queued before it had run.")
    @State
    public static class QueueFlushPerCpu extends QueueFlushSeesEarlierWork {
        @Actor
        public void actor1(ZZ_Result r) {
            r.r1 = queueThenFlush(SharedRuntime.PER_CPU, a, aRuns);
        }

        @Actor
        public void actor2(ZZ_Result r) {
            r.r2 = queueThenFlush(SharedRuntime.PER_CPU, b, bRuns);
        }
    }

    /** {@link QueueFlushSeesEarlierWork} on an unbound queue: one pool, workers not managed. */
    @JCStressTest
    @Outcome(id = "true, true", expect = ACCEPTABLE, desc = "Each flush waited for the item queued before it.")
    @Outcome(expect = FORBIDDEN, desc = "A flush returned before an item queued before it had run.")
    @State
    public static class QueueFlushUnbound extends QueueFlushSeesEarlierWork {
        @Actor
        public void actor1(ZZ_Result r) {
            r.r1 = queueThenFlush(SharedRuntime.UNBOUND, a, aRuns);
        }

        @Actor
        public void actor2(ZZ_Result r) {
            r.r2 = queueThenFlush(SharedRuntime.UNBOUND, b, bRuns);
        }
    }

    /**
     * Two threads queue the same item and each then flushes it: when a thread's
     * {@code work.flush()} returns, the instance its own {@code queue} created or collapsed into
     * has run, so each thread sees at least one run.
     *
     * <p>Result: (true returns, fewest runs either thread saw after its flush, runs at the end).
     *
     * <p>The hard case: a thread whose queue returned false because the other thread had just
     * claimed PENDING flushes while that claim is still in transit (not yet on a list); the
     * flush must wait for it to land rather than return at once.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "One instance; both flushes waited for it.")
    @Outcome(id = "2, 1, 2", expect = ACCEPTABLE,
            desc = "Two instances; the first thread's flush waited for the first, the other's for the second.")
    @Outcome(id = "2, 2, 2", expect = ACCEPTABLE_INTERESTING,
            desc = "Two instances; both threads flushed after the second had run.")
    @Outcome(id = ".*, 0, .*", expect = FORBIDDEN,
            desc = "A work flush returned before the instance its thread had queued (or collapsed into) ran.")
    @Outcome(expect = FORBIDDEN, desc = "Runs differ from true returns.")
    @State
    public static class WorkFlushWaitsForOwnInstance {
        final AtomicInteger runs = new AtomicInteger();
        final Work work = new Work("work-flush", runs::incrementAndGet);
        int claims1;
        int claims2;
        int seen1;
        int seen2;

        @Actor
        public void actor1() {
            claims1 = SharedRuntime.PER_CPU.queue(work) ? 1 : 0;
            work.flush();
            seen1 = runs.get();
        }

        @Actor
        public void actor2() {
            claims2 = SharedRuntime.PER_CPU.queue(work) ? 1 : 0;
            work.flush();
            seen2 = runs.get();
        }

        @Arbiter
        public void arbiter(III_Result r) {
            work.flush();
            r.r1 = claims1 + claims2;
            r.r2 = Math.min(seen1, seen2);
            r.r3 = runs.get();
        }
    }

    /**
     * {@code work.flush()} while the item moves from CPU 0's pool to CPU 1's: the flush locks the
     * pool it read from the item, and must re-check under that lock that the item still belongs
     * to it (kernel {@code start_flush_work}: {@code pwq->pool != pool}) before touching its list.
     * It never throws and never corrupts the other pool's list.
     *
     * <p>Result: (the flush threw, runs at the end).
     */
    @JCStressTest
    @Outcome(id = "0, 2", expect = ACCEPTABLE, desc = "The flush waited for (or missed) an instance; both ran.")
    @Outcome(id = "1, .*", expect = FORBIDDEN,
            desc = "The flush read the item half-inserted into the other pool under the wrong pool lock and threw.")
    @Outcome(expect = FORBIDDEN, desc = "An instance was lost or duplicated.")
    @State
    public static class WorkFlushFollowsMigration {
        final AtomicInteger runs = new AtomicInteger();
        final Work work = new Work("work-flush-migration", runs::incrementAndGet);

        @Actor
        public void mover() {
            SharedRuntime.PER_CPU.queueOn(0, work);
            work.flush();
            SharedRuntime.PER_CPU.queueOn(1, work);
        }

        @Actor
        public void flusher(II_Result r) {
            SharedRuntime.spinUntil(() -> runs.get() > 0, 100);
            try {
                work.flush();
            } catch (RuntimeException e) {
                r.r1 = 1;
            }
        }

        @Arbiter
        public void arbiter(II_Result r) {
            work.flush();
            r.r2 = runs.get();
        }
    }
}
