package org.workqueue4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockMap;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;

/**
 * The validator's dependency graph under concurrent updates: two threads that learn edges at the
 * same time must leave the graph as if they had learnt them one after the other. The actors use
 * lockdep's raw API ({@link Lockdep#acquire}/{@link Lockdep#release} on {@link LockMap}s), not
 * real locks, so an ABBA race is learnt without ever deadlocking. Each state has a fresh
 * {@link Lockdep} (WARN, quiet) whose listener counts reports by kind.
 */
public class LockdepTest {

    /** The two classes; shared by every state, each state's validator makes its own graph of them. */
    static final LockClassKey A = new LockClassKey("A");
    static final LockClassKey B = new LockClassKey("B");

    abstract static class GraphState {
        final AtomicInteger circular = new AtomicInteger();
        final AtomicInteger other = new AtomicInteger();
        final Lockdep lockdep = Lockdep.builder().quiet().policy(ReportPolicy.WARN)
                .listener(this::count)
                .build();
        final LockMap a = new LockMap("a", A);
        final LockMap b = new LockMap("b", B);

        private void count(LockdepReport report) {
            (report.kind() == LockdepReport.Kind.CIRCULAR ? circular : other).incrementAndGet();
        }

        /** Takes {@code first} then {@code second} and releases both, as nested locking would. */
        void nest(LockMap first, LockMap second) {
            lockdep.acquire(first);
            lockdep.acquire(second);
            lockdep.release(second);
            lockdep.release(first);
        }
    }

    /**
     * One thread takes A then B while the other takes B then A (Guava issue #2048, the race its
     * CycleDetectingLockFactory misses): exactly one CIRCULAR report. Whichever thread's check
     * runs second under the graph lock sees the first one's edge and reports; the first found no
     * path and reported nothing. Two reports cannot be the WARN policy reporting "each distinct
     * problem once" twice legitimately: the second would need a thread to find the cycle through
     * an edge that its rival adds only after, or instead of, failing its own check.
     *
     * <p>Result: (CIRCULAR reports, other reports).
     */
    @JCStressTest
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "The cycle was reported once, by whichever thread closed it.")
    @Outcome(id = "0, 0", expect = FORBIDDEN,
            desc = "Lost cycle: both searches ran before either edge was visible (Guava #2048).")
    @Outcome(id = "2, 0", expect = FORBIDDEN,
            desc = "Both threads reported the cycle: a search saw an edge its rival added after failing its own check.")
    @Outcome(expect = FORBIDDEN, desc = "A report other than the cycle (recursive, bad unlock, capacity).")
    @State
    public static class AbbaReportedOnce extends GraphState {
        @Actor
        public void ab() {
            nest(a, b);
        }

        @Actor
        public void ba() {
            nest(b, a);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            r.r1 = circular.get();
            r.r2 = other.get();
        }
    }

    /**
     * Both threads take A then B at the same time: no report, and the A -> B edge is learnt
     * exactly once (the second thread either hits the chain cache or finds the edge already
     * there under the graph lock).
     *
     * <p>Result: (reports of any kind, edges in the graph).
     */
    @JCStressTest
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "One edge, no report.")
    @Outcome(id = "0, 2", expect = FORBIDDEN, desc = "The edge was added twice: two slow paths were not serialized.")
    @Outcome(expect = FORBIDDEN, desc = "A false report, or the edge was lost.")
    @State
    public static class SameOrderLearntOnce extends GraphState {
        @Actor
        public void ab1() {
            nest(a, b);
        }

        @Actor
        public void ab2() {
            nest(a, b);
        }

        @Arbiter
        public void arbiter(II_Result r) {
            r.r1 = circular.get() + other.get();
            r.r2 = lockdep.stats().edges();
        }
    }
}
