package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Under {@link ReportPolicy#WARN} a report must not cost the graph any dependency: every
 * dependency the acquisition really made is still learnt, and a chain is cached only once all
 * of its dependencies are in the graph (issue 14, defect 3).
 */
class WarnKeepsLearningTest {

    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();

    private void acquire(LockMap... maps) {
        for (LockMap m : maps) {
            lockdep.acquire(m);
        }
    }

    private void release(LockMap... maps) {
        for (int i = maps.length - 1; i >= 0; i--) {
            lockdep.release(maps[i]);
        }
    }

    private void nest(LockMap... maps) {
        acquire(maps);
        release(maps);
    }

    @Test
    @DisplayName("after a trylock of A between L1 and L2 (recursive on L), the A/L inversion L -> A is still reported")
    void aRecursiveReportStillLearnsTheOtherDependencies() {
        LockClassKey kL = new LockClassKey("L");
        LockMap l1 = new LockMap("l1", kL);
        LockMap l2 = new LockMap("l2", kL);
        LockMap a = new LockMap("a", new LockClassKey("A"));

        lockdep.acquire(l1);
        lockdep.acquire(a, AcquireMode.EXCLUSIVE, true); // a trylock: no L -> A
        lockdep.acquire(l2);                             // recursive locking of L; A -> L really happened
        release(l1, a, l2);
        assertThat(lockdep.reports()).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.RECURSIVE);

        nest(l2, a);     // L -> A closes A -> L
        assertThat(lockdep.reports()).hasSize(2);
        assertThat(lockdep.reports().get(1).kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
        assertThat(lockdep.reports().get(1).classes()).containsExactlyInAnyOrder("A", "L");
    }

    @Test
    @DisplayName("L1 -> A -> L2 is one report, recursive locking of L; the L/A cycle it implies is not a second one")
    void theCycleImpliedByARecursionIsNotReportedAgain() {
        LockClassKey kL = new LockClassKey("L");
        LockMap l1 = new LockMap("l1", kL);
        LockMap l2 = new LockMap("l2", kL);
        LockMap a = new LockMap("a", new LockClassKey("A"));

        nest(l1, a, l2);
        nest(l2, a);
        assertThat(lockdep.reports()).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.RECURSIVE);
    }

    @Test
    @DisplayName("after an AB-BA report, the distinct cycle C -> B -> A -> C is still reported")
    void aCircularReportStillLearnsTheReportedDependency() {
        LockMap a = new LockMap("a", new LockClassKey("A"));
        LockMap b = new LockMap("b", new LockClassKey("B"));
        LockMap c = new LockMap("c", new LockClassKey("C"));

        nest(a, b);
        nest(b, a);      // AB-BA: reported; B -> A really happened
        assertThat(lockdep.reports()).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);

        nest(a, c);      // A -> C
        nest(c, b);      // C -> B closes C -> B -> A -> C
        assertThat(lockdep.reports()).hasSize(2);
        assertThat(lockdep.reports().get(1).classes()).containsExactlyInAnyOrder("A", "B", "C");
    }

    @Test
    @DisplayName("the same inversion met from the other side is not reported twice")
    void theSameCycleIsReportedOnce() {
        LockMap a = new LockMap("a", new LockClassKey("A"));
        LockMap b = new LockMap("b", new LockClassKey("B"));
        LockMap x = new LockMap("x", new LockClassKey("X"));

        nest(a, b);
        nest(b, a);
        nest(x, a, b); // a new chain over the known A/B inversion: nothing new
        assertThat(lockdep.reports()).hasSize(1);
    }
}
