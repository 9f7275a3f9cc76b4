package org.workqueue4j.lockdep;

import static org.workqueue4j.lockdep.Selftest.Verdict.FAILURE;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.workqueue4j.lockdep.Selftest.LockType;

/** Selftest family "initialize held": L(A); INIT(A): re-initializing a held lock. */
@DisplayName("initialize held")
class InitHeldFamilyTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(LockType.class)
    @DisplayName("reported for every lock kind")
    void verdictPerLockKind(LockType type) {
        SelftestSupport.assertVerdict("initialize held", type, FAILURE);
    }
}
