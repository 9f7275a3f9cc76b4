package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code ValidatedReadWriteLock.assertHeldRead()}: "the calling thread holds the read lock (a
 * downgraded write hold counts)". In the middle of a downgrade (write held, read lock taken, write
 * not yet released) the thread holds the read lock: the assertion must hold.
 */
class Break4LdDowngradeAssertTest {

    @Test
    void assertHeldReadWhileHoldingBothSidesMidDowngrade() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), ld);
        rw.writeLock().lock();
        rw.readLock().lock(); // downgrade, step 1: the thread now holds the read lock too
        String thrown = null;
        try {
            rw.assertHeldRead();
        } catch (IllegalStateException e) {
            thrown = e.getMessage().lines().findFirst().orElse("");
        } finally {
            rw.writeLock().unlock(); // downgrade, step 2
        }
        try {
            rw.assertHeldRead(); // after the downgrade: holds
        } finally {
            rw.readLock().unlock();
        }
        assertThat(thrown)
                .as("expected: assertHeldRead() silent while the thread holds the read lock (and the write lock);"
                        + " actual: %s", thrown)
                .isNull();
    }
}
