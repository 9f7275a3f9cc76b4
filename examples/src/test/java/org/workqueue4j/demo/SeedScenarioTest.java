package org.workqueue4j.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.LazyQueueHolder;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.LockdepReport;

/** The seed thread's report reproduced, and both fixes silencing it (SPEC §2). */
class SeedScenarioTest {

    @Test
    void seedRaceIsReportedWithCasDiscardAndAlways() {
        SeedScenario.Outcome o = SeedScenario.run(LazyQueueHolder.Strategy.CAS_DISCARD, FlushAnnotation.ALWAYS);
        assertThat(o.discarded()).isEqualTo(1);
        assertThat(o.reports()).singleElement().satisfies(r -> assertThat(r.text())
                .contains("possible circular locking dependency").contains("(wq_completion)dio/%s")
                .contains("&sb->s_type->i_mutex_key"));
    }

    @Test
    void seedRaceIsSilentWithCasDiscardAndSkipNeverUsed() {
        SeedScenario.Outcome o = SeedScenario.run(LazyQueueHolder.Strategy.CAS_DISCARD, FlushAnnotation.SKIP_NEVER_USED);
        assertThat(o.discarded()).as("the race still happened").isEqualTo(1);
        assertThat(o.reports()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(FlushAnnotation.class)
    void seedRaceIsSilentWithMutexUnderEitherPolicy(FlushAnnotation policy) {
        SeedScenario.Outcome o = SeedScenario.run(LazyQueueHolder.Strategy.MUTEX, policy);
        assertThat(o.created()).isEqualTo(1);
        assertThat(o.reports()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void theSeedIsSilentExceptUnderAlways(FlushAnnotation annotation) {
        SeedScenario.Outcome o = SeedScenario.run(LazyQueueHolder.Strategy.CAS_DISCARD, annotation);
        assertThat(o.discarded()).as("the CAS loser destroyed its never-used queue").isEqualTo(1);
        if (annotation == FlushAnnotation.ALWAYS) {
            assertThat(o.reports()).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);
        } else {
            assertThat(o.reports()).isEmpty();
        }
    }

    /**
     * Issue 14's false negative of SKIP_NEVER_USED: item w1 of q1 flushes q2 while q2 was never
     * used; later item w2 of q2 flushes q1. q1 -> w1 -> q2 -> w2 -> q1 is a real cycle.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(FlushAnnotation.class)
    void theMutualFlushCycleIsMissedOnlyUnderSkipNeverUsed(FlushAnnotation annotation) {
        MutualFlushScenario.Outcome o = MutualFlushScenario.run(annotation, ReportPolicy.WARN);
        if (annotation == FlushAnnotation.SKIP_NEVER_USED) {
            assertThat(o.reports()).isEmpty();
        } else {
            assertThat(o.reports()).singleElement().satisfies(r -> {
                assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
                assertThat(r.classes()).contains("(wq_completion)q1", "(wq_completion)q2");
            });
        }
        assertThat(o.workErrors()).isEmpty();
    }
}
