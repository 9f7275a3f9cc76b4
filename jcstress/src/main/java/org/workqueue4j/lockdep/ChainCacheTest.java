package org.workqueue4j.lockdep;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.List;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The lock-free side of the validator: the chain cache read without the graph lock, and the
 * holder hint a validated lock keeps in a plain field. These tests live in the library's
 * package (on jcstress's class path the package is shared) because the cache is internal.
 */
public class ChainCacheTest {

    static final LockClassKey A = new LockClassKey("A");
    static final LockClassKey B = new LockClassKey("B");

    /**
     * Invariant: a fast-path reader that sees a chain key in the cache also sees the edges
     * and the chain record the writer made before inserting it (the writer adds the key last,
     * with a release store; the reader probes with an acquire load). The writer is the slow
     * path's tail (under the graph lock in the library; it is the only writer here, so the
     * lock would order nothing for the reader, which never takes it). The edge list and the
     * chain map are plain {@code ArrayList}/{@code HashMap}, as in the library.
     */
    @JCStressTest
    @Outcome(id = "0, -1, -1", expect = ACCEPTABLE,
            desc = "Stale miss: the key is not visible yet; the reader takes the slow path, which re-checks under the graph lock.")
    @Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "Hit: the key, its edge and its chain record are all visible.")
    @Outcome(expect = FORBIDDEN, desc = "Hit on a key whose edge or chain record is not visible: reordered publication.")
    @State
    public static class Publication {
        final DependencyGraph g = new DependencyGraph(false);
        final LockClass a = g.classFor(A, 0, 16);
        final LockClass b = g.classFor(B, 0, 16);
        final long key = HeldLocks.iterateChainKey(
                HeldLocks.iterateChainKey(HeldLocks.INITIAL_CHAIN_KEY, a, AcquireMode.EXCLUSIVE, false),
                b, AcquireMode.EXCLUSIVE, false);

        @Actor
        public void slowPath() {
            g.addEdge(new LockDependency(a, b, LockDependency.EN, List.of()));
            g.addChain(key, "site", new LockClass[] {a, b}, new AcquireMode[] {AcquireMode.EXCLUSIVE, AcquireMode.EXCLUSIVE});
        }

        @Actor
        public void fastPath(III_Result r) {
            if (g.chains.contains(key)) {
                r.r1 = 1;
                r.r2 = a.after.size();
                r.r3 = g.chainInfo.containsKey(key) ? 1 : 0;
            } else {
                r.r1 = 0;
                r.r2 = -1;
                r.r3 = -1;
            }
        }
    }

    /**
     * Invariant: two threads taking the same two validated locks in the same order each record
     * them on their own stack, although each lock's holder hint (a plain field) may name the
     * other thread's stack at any time: each sees both locks held by itself, and afterwards no
     * report was made and no stack holds anything.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "Each thread saw its own locks; nothing reported, nothing left held.")
    @Outcome(expect = FORBIDDEN, desc = "A lock was recorded on, or popped from, the other thread's stack.")
    @State
    public static class HolderHint {
        final Lockdep lockdep = Lockdep.builder().quiet().policy(ReportPolicy.WARN).build();
        final ValidatedLock a = new ValidatedLock("a", A, lockdep);
        final ValidatedLock b = new ValidatedLock("b", B, lockdep);

        HolderHint() {
            nest(); // learn the order: the actors run the cached fast path
        }

        int nest() {
            a.lock();
            try {
                b.lock();
                try {
                    return lockdep.isHeld(a.map()) && lockdep.isHeld(b.map()) ? 1 : 0;
                } finally {
                    b.unlock();
                }
            } finally {
                a.unlock();
            }
        }

        @Actor
        public void first(IIII_Result r) {
            r.r1 = nest();
        }

        @Actor
        public void second(IIII_Result r) {
            r.r2 = nest();
        }

        @Arbiter
        public void after(IIII_Result r) {
            r.r3 = lockdep.reportCount();
            int held = 0;
            for (LockdepSnapshot.ThreadLocks t : lockdep.snapshot().threads()) {
                held += t.held().size();
            }
            r.r4 = held;
        }
    }
}
