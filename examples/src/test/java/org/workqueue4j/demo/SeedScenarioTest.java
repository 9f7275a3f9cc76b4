package org.workqueue4j.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.LazyQueueHolder;

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
}
