package org.workqueue4j.lockdep;

import static org.workqueue4j.lockdep.Selftest.LockType.RLOCK;
import static org.workqueue4j.lockdep.Selftest.Verdict.FAILURE;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Selftest family "rlock W1W2/R2R3/W3R1" (rwlocks X, Y, Z; W = write, R = recursive read): W(X)->W(Y), R(Y)->R(Z), W(Z)->R(X) is a strong cycle. */
@DisplayName("rlock W1W2/R2R3/W3R1")
class W1w2R2r3W3r1FamilyTest {

    @ParameterizedTest(name = "events in order {0}")
    @ValueSource(strings = {"123", "132", "213", "231", "312", "321"})
    @DisplayName("reported whatever order the three events happen in")
    void verdictForEveryOrder(String order) {
        SelftestSupport.assertVerdict("rlock W1W2/R2R3/W3R1/" + order, RLOCK, FAILURE);
    }
}
