package org.workqueue4j.lockdep;

import static org.workqueue4j.lockdep.Selftest.Verdict.FAILURE;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.workqueue4j.lockdep.Selftest.LockType;

/** Selftest family "double unlock": L(A); U(A); U(A): releasing a lock that is not held. */
@DisplayName("double unlock")
class DoubleUnlockFamilyTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(LockType.class)
    @DisplayName("reported for every lock kind")
    void verdictPerLockKind(LockType type) {
        SelftestSupport.assertVerdict("double unlock", type, FAILURE);
    }
}
