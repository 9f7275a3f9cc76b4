package org.workqueue4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;

/**
 * {@code destroy} against {@code queue} from another thread: an accepted item has run by the time
 * destroy returns (destroy drains), a refused one threw {@link IllegalStateException}; an item is
 * never left pending on a dead queue. Each state builds its own queue on the shared runtime.
 *
 * <p>Result: (queue: 1 true, 0 false, -1 threw; runs when destroy returned; pending afterwards).
 */
public class DestroyTest {

    abstract static class DestroyState {
        final AtomicInteger runs = new AtomicInteger();
        final Work work = new Work("destroy-vs-queue", runs::incrementAndGet);
        final WorkQueue queue;
        int runsAtDestroy;

        DestroyState(WorkQueue queue) {
            this.queue = queue;
        }

        int tryQueue() {
            try {
                return queue.queue(work) ? 1 : 0;
            } catch (IllegalStateException refused) {
                return -1;
            }
        }

        void destroy() {
            queue.destroy();
            runsAtDestroy = runs.get();
        }

        void check(III_Result r) {
            r.r2 = Math.max(runsAtDestroy, 0);
            r.r3 = work.isPending() ? 1 : 0;
            if (r.r1 == 1 && runsAtDestroy == 0) {
                r.r2 = runs.get() == 0 ? 0 : -2; // ran, but only after destroy returned
            }
        }
    }

    /** On a per-CPU queue. */
    @JCStressTest
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Queued before destroy began; destroy's drain ran it.")
    @Outcome(id = "-1, 0, 0", expect = ACCEPTABLE, desc = "destroy began first; queue threw and left nothing pending.")
    @Outcome(id = "1, 0, .*", expect = FORBIDDEN, desc = "Lost: accepted on a dying queue and never run.")
    @Outcome(id = "1, -2, .*", expect = FORBIDDEN, desc = "Ran only after destroy returned: destroy did not drain it.")
    @Outcome(id = ".*, .*, 1", expect = FORBIDDEN, desc = "Left pending on a dead queue.")
    @Outcome(expect = FORBIDDEN, desc = "Refused yet ran, or some other inconsistency.")
    @State
    public static class DestroyVsQueuePerCpu extends DestroyState {
        public DestroyVsQueuePerCpu() {
            super(SharedRuntime.RUNTIME.queueBuilder("destroy-vs-queue").build());
        }

        @Actor
        public void queuer(III_Result r) {
            r.r1 = tryQueue();
        }

        @Actor
        public void destroyer() {
            destroy();
        }

        @Arbiter
        public void arbiter(III_Result r) {
            check(r);
        }
    }

    /** On an unbound queue. */
    @JCStressTest
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Queued before destroy began; destroy's drain ran it.")
    @Outcome(id = "-1, 0, 0", expect = ACCEPTABLE, desc = "destroy began first; queue threw and left nothing pending.")
    @Outcome(id = "1, 0, .*", expect = FORBIDDEN, desc = "Lost: accepted on a dying queue and never run.")
    @Outcome(id = "1, -2, .*", expect = FORBIDDEN, desc = "Ran only after destroy returned: destroy did not drain it.")
    @Outcome(id = ".*, .*, 1", expect = FORBIDDEN, desc = "Left pending on a dead queue.")
    @Outcome(expect = FORBIDDEN, desc = "Refused yet ran, or some other inconsistency.")
    @State
    public static class DestroyVsQueueUnbound extends DestroyState {
        public DestroyVsQueueUnbound() {
            super(SharedRuntime.RUNTIME.queueBuilder("destroy-vs-queue-unbound").unbound().build());
        }

        @Actor
        public void queuer(III_Result r) {
            r.r1 = tryQueue();
        }

        @Actor
        public void destroyer() {
            destroy();
        }

        @Arbiter
        public void arbiter(III_Result r) {
            check(r);
        }
    }
    /**
     * {@code destroy} against a delayed item's flush, which takes the armed item off the timer
     * and only then inserts it into its queue (as the timer thread does when it expires). A
     * destroy that began in between found nothing armed and, before the timer kept a list of
     * the items in transit, could return with the item still pending: the flusher's insert was
     * refused a moment later. Result: (pending when destroy returned; runs).
     */
    @JCStressTest
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The flush queued it before destroy began; destroy's drain ran it.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE,
            desc = "destroy took it off the timer, or refused the flush's insert: reported, never run.")
    @Outcome(id = "1, .*", expect = FORBIDDEN, desc = "Pending after destroy returned: an expiry in transit was missed.")
    @Outcome(expect = FORBIDDEN, desc = "Ran more than once.")
    @State
    public static class DestroyVsDelayedFlush {
        final AtomicInteger runs = new AtomicInteger();
        final DelayedWork work = new DelayedWork("destroy-vs-flush", runs::incrementAndGet);
        final WorkQueue queue = SharedRuntime.Quiet.RUNTIME.queueBuilder("destroy-vs-flush").build();

        public DestroyVsDelayedFlush() {
            queue.queueDelayed(work, SharedRuntime.LONG);
        }

        @Actor
        public void flusher() {
            work.flush();
        }

        @Actor
        public void destroyer(II_Result r) {
            queue.destroy();
            r.r1 = work.isPending() ? 1 : 0;
        }

        @Arbiter
        public void arbiter(II_Result r) {
            r.r2 = runs.get();
        }
    }
}
