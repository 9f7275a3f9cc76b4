package org.workqueue4j.lockdep;

import static org.workqueue4j.lockdep.Selftest.LockType.RLOCK;
import static org.workqueue4j.lockdep.Selftest.LockType.RSEM;
import static org.workqueue4j.lockdep.Selftest.Verdict.FAILURE;
import static org.workqueue4j.lockdep.Selftest.Verdict.SUCCESS;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The selftest's recursive-read group: recursive readers (rlock, 'R') may nest on one class and
 * do not close a cycle through a read; non-recursive readers (rsem, 'r') behave like writers
 * for deadlock purposes because a queued writer blocks them.
 */
@DisplayName("recursive-read group")
class RecursiveReadFamilyTest {

    @Test
    @DisplayName("RL(X1); RL(X1) is allowed for a recursive reader")
    void recursiveReadLockSameInstance() {
        SelftestSupport.assertVerdict("recursive read-lock", RLOCK, SUCCESS);
    }

    @Test
    @DisplayName("RSL(X1); RSL(X1) is reported for a non-recursive reader")
    void nonRecursiveReadLockSameInstance() {
        SelftestSupport.assertVerdict("recursive read-lock", RSEM, FAILURE);
    }

    @Test
    @DisplayName("RL(X1); RL(X2) is allowed for recursive readers of one class")
    void recursiveReadLockSameClass() {
        SelftestSupport.assertVerdict("recursive read-lock #2", RLOCK, SUCCESS);
    }

    @Test
    @DisplayName("RSL(X1); RSL(X2) is reported for non-recursive readers of one class")
    void nonRecursiveReadLockSameClass() {
        SelftestSupport.assertVerdict("recursive read-lock #2", RSEM, FAILURE);
    }

    @Test
    @DisplayName("read then write of one class is reported")
    void mixedReadWrite() {
        SelftestSupport.assertVerdict("mixed read-write-lock", RLOCK, FAILURE);
        SelftestSupport.assertVerdict("mixed read-write-lock", RSEM, FAILURE);
    }

    @Test
    @DisplayName("write then read of one class is reported")
    void mixedWriteRead() {
        SelftestSupport.assertVerdict("mixed write-read-lock", RLOCK, FAILURE);
        SelftestSupport.assertVerdict("mixed write-read-lock", RSEM, FAILURE);
    }

    @Test
    @DisplayName("read(A)->lock(B) and lock(B)->write(A) is an ABBA deadlock")
    void readLockLockWriteAbba() {
        SelftestSupport.assertVerdict("mixed read-lock/lock-write ABBA", RLOCK, FAILURE);
        SelftestSupport.assertVerdict("mixed read-lock/lock-write ABBA", RSEM, FAILURE);
    }

    @Test
    @DisplayName("read(A)->lock(B) and lock(B)->read(A) deadlocks only for non-recursive readers")
    void readLockLockReadAbba() {
        SelftestSupport.assertVerdict("mixed read-lock/lock-read ABBA", RLOCK, SUCCESS);
        SelftestSupport.assertVerdict("mixed read-lock/lock-read ABBA", RSEM, FAILURE);
    }

    @Test
    @DisplayName("write(A)->lock(B) and lock(B)->write(A) is an ABBA deadlock")
    void writeLockLockWriteAbba() {
        SelftestSupport.assertVerdict("mixed write-lock/lock-write ABBA", RLOCK, FAILURE);
        SelftestSupport.assertVerdict("mixed write-lock/lock-write ABBA", RSEM, FAILURE);
    }
}
