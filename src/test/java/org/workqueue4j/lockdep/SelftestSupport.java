package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import org.workqueue4j.lockdep.Selftest.LockType;
import org.workqueue4j.lockdep.Selftest.Verdict;

/** Runs one cell of the {@link Selftest} matrix and asserts lockdep's verdict. */
final class SelftestSupport {

    private SelftestSupport() {
    }

    /** Asserts that the cell (row, type) is expected to be {@code verdict} and that lockdep gives it. */
    static void assertVerdict(String row, LockType type, Verdict verdict) {
        Selftest.Case c = Selftest.cases().stream()
                .filter(x -> x.row().equals(row) && x.type() == type)
                .findFirst().orElseThrow(() -> new AssertionError("no selftest cell " + row + "/" + type));
        assertThat(c.expected()).as("selftest table for %s/%s", row, type).isEqualTo(verdict);
        Selftest.Outcome o = Selftest.run(c);
        assertThat(o.actual()).as("%s/%s%n%s", row, type, o.report()).isEqualTo(verdict);
    }
}
