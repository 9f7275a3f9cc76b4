package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The whole boot-time selftest matrix passes, and prints like the kernel's. */
class SelftestMatrixTest {

    @Test
    @DisplayName("every selftest cell gets the kernel's verdict")
    void everyCellMatchesTheKernel() {
        Selftest.Result result = Selftest.run();
        System.out.println(result.table());
        assertThat(result.outcomes()).allSatisfy(o ->
                assertThat(o.ok()).as("%s/%s: expected %s, got %s%n%s", o.testCase().row(), o.testCase().type(),
                        o.testCase().expected(), o.actual(), o.report()).isTrue());
        assertThat(result.unexpected()).isZero();
        assertThat(result.table()).contains("                                 | spin |wlock |rlock |mutex | wsem | rsem |")
                .contains("                     A-A deadlock:  ok  |  ok  |  ok  |  ok  |  ok  |  ok  |")
                .contains("Good, all " + result.outcomes().size() + " testcases passed!");
    }
}
