package org.workqueue4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.workqueue4j.LazyQueueHolder;
import org.workqueue4j.WorkQueue;

/**
 * Two first users race {@link LazyQueueHolder#get()}: both get the same queue, exactly one queue
 * survives and it is live; every other queue the factory made is destroyed. Each state has its
 * own holder whose factory builds queues on the shared runtime and remembers them, so the
 * arbiter can look at the loser's queue too; the arbiter destroys the survivor.
 *
 * <p>Result: (1 both got the holder's live queue, 0 they got different queues, -1 the shared one
 * is destroyed; {@code created()}; {@code discarded()}; queues the factory made that are destroyed).
 */
public class LazyQueueHolderTest {

    abstract static class HolderState {
        final Queue<WorkQueue> made = new ConcurrentLinkedQueue<>();
        final LazyQueueHolder holder;
        WorkQueue q1;
        WorkQueue q2;

        HolderState(LazyQueueHolder.Strategy strategy) {
            holder = new LazyQueueHolder(strategy, () -> {
                WorkQueue q = SharedRuntime.RUNTIME.queueBuilder("lazy/" + strategy).build();
                made.add(q);
                return q;
            });
        }

        void check(IIII_Result r) {
            WorkQueue survivor = holder.peek();
            if (q1 != q2 || q1 != survivor) {
                r.r1 = 0;
            } else {
                r.r1 = survivor.isDestroyed() ? -1 : 1;
            }
            r.r2 = (int) holder.created();
            r.r3 = (int) holder.discarded();
            int destroyed = 0;
            for (WorkQueue q : made) {
                if (q.isDestroyed()) {
                    destroyed++;
                }
            }
            r.r4 = destroyed;
            for (WorkQueue q : made) {
                if (!q.isDestroyed()) {
                    q.destroy(); // the survivor (or a leaked loser): queues must not pile up
                }
            }
        }
    }

    /** MUTEX: creation is serialized, so the factory runs once and nothing is ever discarded. */
    @JCStressTest
    @Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "One queue, made once, shared by both.")
    @Outcome(id = "0, .*, .*, .*", expect = FORBIDDEN, desc = "The racers got different queues.")
    @Outcome(id = "-1, .*, .*, .*", expect = FORBIDDEN, desc = "The published queue was destroyed.")
    @Outcome(expect = FORBIDDEN, desc = "The loser allocated (or destroyed) a queue under MUTEX.")
    @State
    public static class MutexAllocatesOnce extends HolderState {
        public MutexAllocatesOnce() {
            super(LazyQueueHolder.Strategy.MUTEX);
        }

        @Actor
        public void actor1() {
            q1 = holder.get();
        }

        @Actor
        public void actor2() {
            q2 = holder.get();
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            check(r);
        }
    }

    /**
     * CAS_DISCARD: both racers may build a queue; the compare-and-exchange publishes exactly one,
     * and the loser destroys exactly its own (created - discarded = 1, the survivor is live).
     */
    @JCStressTest
    @Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "The second racer found the first one's queue published.")
    @Outcome(id = "1, 2, 1, 1", expect = ACCEPTABLE_INTERESTING,
            desc = "Both built a queue; the loser destroyed its own and took the winner's.")
    @Outcome(id = "0, .*, .*, .*", expect = FORBIDDEN, desc = "The racers got different queues.")
    @Outcome(id = "-1, .*, .*, .*", expect = FORBIDDEN, desc = "The published queue was destroyed (the loser freed the winner's).")
    @Outcome(expect = FORBIDDEN, desc = "A loser's queue leaked, or the counters disagree with the queues made.")
    @State
    public static class CasDiscardKeepsOne extends HolderState {
        public CasDiscardKeepsOne() {
            super(LazyQueueHolder.Strategy.CAS_DISCARD);
        }

        @Actor
        public void actor1() {
            q1 = holder.get();
        }

        @Actor
        public void actor2() {
            q2 = holder.get();
        }

        @Arbiter
        public void arbiter(IIII_Result r) {
            check(r);
        }
    }

    /**
     * A first {@code get()} racing the holder's {@code destroy()} (Dekker: the creator publishes,
     * then reads {@code destroyed}; destroy() sets it, then reads the queue): every queue the
     * factory made is destroyed once both returned; the get() either returned the queue (then
     * destroyed by destroy()) or was refused. Result: (1 the get() returned a queue, 0 it was
     * refused; queues the factory made that are still live).
     */
    abstract static class DestroyVsFirstGet {
        final Queue<WorkQueue> made = new ConcurrentLinkedQueue<>();
        final LazyQueueHolder holder;
        int got;

        DestroyVsFirstGet(LazyQueueHolder.Strategy strategy) {
            holder = new LazyQueueHolder(strategy, () -> {
                WorkQueue q = SharedRuntime.RUNTIME.queueBuilder("lazy-destroy/" + strategy).build();
                made.add(q);
                return q;
            });
        }

        void first() {
            try {
                holder.get();
                got = 1;
            } catch (IllegalStateException refused) {
                got = 0;
            }
        }

        void destroyer() {
            holder.destroy();
        }

        void check(II_Result r) {
            r.r1 = got;
            int live = 0;
            for (WorkQueue q : made) {
                if (!q.isDestroyed()) {
                    live++;
                    q.destroy(); // queues must not pile up
                }
            }
            r.r2 = live;
        }
    }

    /** MUTEX: a destroy racing the first get() leaves no live queue. */
    @JCStressTest
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "The get() published first; the destroy destroyed its queue.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The destroy came first; the get() was refused (its queue, if made, destroyed).")
    @Outcome(expect = FORBIDDEN, desc = "A queue made by the racing get() was left live after the holder's destroy().")
    @State
    public static class MutexDestroyVsFirstGet extends DestroyVsFirstGet {
        public MutexDestroyVsFirstGet() {
            super(LazyQueueHolder.Strategy.MUTEX);
        }

        @Actor
        public void actor1() {
            first();
        }

        @Actor
        public void actor2() {
            destroyer();
        }

        @Arbiter
        public void arbiter(II_Result r) {
            check(r);
        }
    }

    /** CAS_DISCARD: a destroy racing the first get() leaves no live queue. */
    @JCStressTest
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "The get() published first; the destroy destroyed its queue.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The destroy came first; the get() was refused (its queue, if made, destroyed).")
    @Outcome(expect = FORBIDDEN, desc = "A queue made by the racing get() was left live after the holder's destroy().")
    @State
    public static class CasDestroyVsFirstGet extends DestroyVsFirstGet {
        public CasDestroyVsFirstGet() {
            super(LazyQueueHolder.Strategy.CAS_DISCARD);
        }

        @Actor
        public void actor1() {
            first();
        }

        @Actor
        public void actor2() {
            destroyer();
        }

        @Arbiter
        public void arbiter(II_Result r) {
            check(r);
        }
    }
}
