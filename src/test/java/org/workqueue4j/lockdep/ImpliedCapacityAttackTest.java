package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the dependencies kept as implied (DependencyGraph.Implied): when the class on the
 * implying path is freed they become edges, and the graph's MAX_LOCKDEP_ENTRIES bound
 * ({@code maxEdges}) must hold for those too.
 */
class ImpliedCapacityAttackTest {

    private static void nest(ValidatedLock outer, ValidatedLock inner) {
        outer.lock();
        try {
            inner.lock();
            inner.unlock();
        } finally {
            outer.unlock();
        }
    }

    /*
     * X1..X3 -> Q -> Y1..Y3: six edges, the whole budget. Each Xi -> Yj is then learnt and
     * skipped as implied (nine of them). Unregistering Q's key frees its six edges and turns
     * the nine implied dependencies into edges: more than maxEdges, unless a capacity report
     * says the graph is full.
     */
    @Test
    @DisplayName("implied dependencies that become edges when their path's class is freed respect maxEdges")
    void impliedDependenciesBecomingEdgesRespectMaxEdges() {
        int maxEdges = 6;
        Lockdep v = Lockdep.builder().policy(ReportPolicy.WARN).maxEdges(maxEdges).quiet().build();
        List<ValidatedLock> xs = new ArrayList<>();
        List<ValidatedLock> ys = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            xs.add(new ValidatedLock("X" + i, new LockClassKey("X" + i), v));
            ys.add(new ValidatedLock("Y" + i, new LockClassKey("Y" + i), v));
        }
        LockClassKey qKey = new LockClassKey("Q");
        ValidatedLock q = new ValidatedLock("Q", qKey, v);
        for (int i = 0; i < 3; i++) {
            nest(xs.get(i), q);
            nest(q, ys.get(i));
        }
        assertThat(v.stats().edges()).isEqualTo(maxEdges);
        for (ValidatedLock x : xs) {
            for (ValidatedLock y : ys) {
                nest(x, y); // implied by X -> Q -> Y: no edge, no capacity report
            }
        }
        assertThat(v.reports()).isEmpty();
        assertThat(v.stats().edges()).isEqualTo(maxEdges);
        v.unregisterKey(qKey);
        boolean capacityReported = v.reports().stream().anyMatch(r -> r.kind() == LockdepReport.Kind.CAPACITY);
        assertThat(capacityReported || v.stats().edges() <= maxEdges)
                .as("edges %d of at most %d, reports %s", v.stats().edges(), maxEdges, v.reports())
                .isTrue();
    }
}
