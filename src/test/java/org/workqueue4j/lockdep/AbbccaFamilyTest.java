package org.workqueue4j.lockdep;

import static org.workqueue4j.lockdep.Selftest.Verdict.FAILURE;
import static org.workqueue4j.lockdep.Selftest.Verdict.SUCCESS;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.workqueue4j.lockdep.Selftest.LockType;

/** Selftest family "A-B-B-C-C-A deadlock": AB, BC, CA. */
@DisplayName("A-B-B-C-C-A deadlock")
class AbbccaFamilyTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(LockType.class)
    @DisplayName("reported for every lock kind except recursive readers (rlock), which do not block each other")
    void verdictPerLockKind(LockType type) {
        SelftestSupport.assertVerdict("A-B-B-C-C-A deadlock", type, type == LockType.RLOCK ? SUCCESS : FAILURE);
    }
}
