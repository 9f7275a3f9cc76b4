package org.workqueue4j.lockdep;

import static org.workqueue4j.lockdep.Selftest.LockType.RLOCK;
import static org.workqueue4j.lockdep.Selftest.Verdict.SUCCESS;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Selftest family "rlock W1W2/R2R3/R3W1" (rwlocks X, Y, Z; W = write, R = recursive read): R(Y)->R(Z) then R(Z)->W(X): an -(xR)-> followed by -(Sx)-> is not strong, no deadlock. */
@DisplayName("rlock W1W2/R2R3/R3W1")
class W1w2R2r3R3w1FamilyTest {

    @ParameterizedTest(name = "events in order {0}")
    @ValueSource(strings = {"123", "132", "213", "231", "312", "321"})
    @DisplayName("not reported in any order")
    void verdictForEveryOrder(String order) {
        SelftestSupport.assertVerdict("rlock W1W2/R2R3/R3W1/" + order, RLOCK, SUCCESS);
    }
}
