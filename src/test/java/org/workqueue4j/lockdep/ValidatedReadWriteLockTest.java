package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link ValidatedReadWriteLock}: downgrade, upgrade, re-entry and reader kinds. */
class ValidatedReadWriteLockTest {

    private final LockClassKey mmap = new LockClassKey("&mm->mmap_lock");
    private final LockClassKey pageTable = new LockClassKey("&mm->page_table_lock");

    @Test
    @DisplayName("taking the read lock while holding the write lock of the same instance is a legal downgrade")
    void downgradeIsLegal() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("mm", mmap, lockdep);
        rw.writeLock().lock();
        rw.readLock().lock();
        rw.writeLock().unlock();
        assertThat(lockdep.isHeld(rw.map())).isTrue();
        rw.readLock().unlock();
        assertThat(lockdep.isHeld(rw.map())).isFalse();
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("after a downgrade the hold counts as a reader: a read-held lock blocks a writer elsewhere")
    void downgradedHoldIsAReader() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("mm", mmap, lockdep);
        ValidatedLock ptl = new ValidatedLock("ptl", pageTable, lockdep);
        ptl.lock();
        rw.writeLock().lock();
        rw.writeLock().unlock();
        ptl.unlock();
        rw.writeLock().lock();
        rw.readLock().lock();
        rw.writeLock().unlock();
        ptl.lock(); // read(mm) -> ptl closes ptl -> mm -> ptl: r is a non-recursive reader, so a deadlock
        ptl.unlock();
        rw.readLock().unlock();
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.text()).contains("  rlock(&mm->mmap_lock);"));
    }

    @Test
    @DisplayName("taking the write lock while holding only the read lock (an upgrade) is reported before blocking")
    void upgradeIsReported() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("mm", mmap, lockdep);
        rw.readLock().lock();
        assertThatThrownBy(() -> rw.writeLock().lock())
                .isInstanceOf(PotentialDeadlockException.class)
                .satisfies(e -> assertThat(((PotentialDeadlockException) e).report().kind())
                        .isEqualTo(LockdepReport.Kind.RECURSIVE));
        rw.readLock().unlock();
        assertThat(lockdep.isHeld(rw.map())).isFalse();
    }

    @Test
    @DisplayName("re-entering the read lock of the same instance is legal even for non-recursive readers")
    void readReentryIsLegal() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("mm", mmap, lockdep);
        rw.readLock().lock();
        rw.readLock().lock();
        rw.readLock().unlock();
        assertThat(lockdep.isHeld(rw.map())).isTrue();
        rw.readLock().unlock();
        assertThat(lockdep.isHeld(rw.map())).isFalse();
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("read(A)->B and B->read(A) is reported for non-recursive readers only")
    void readerKindDecidesAbbaThroughARead() {
        for (boolean recursive : new boolean[] {false, true}) {
            Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
            ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("mm", mmap, lockdep)
                    .recursiveReaders(recursive).build();
            ValidatedLock ptl = new ValidatedLock("ptl", pageTable, lockdep);
            rw.readLock().lock();
            ptl.lock();
            ptl.unlock();
            rw.readLock().unlock();
            ptl.lock();
            rw.readLock().lock();
            rw.readLock().unlock();
            ptl.unlock();
            assertThat(lockdep.reportCount()).as("recursive readers: %s", recursive).isEqualTo(recursive ? 0 : 1);
        }
    }

    @Test
    @DisplayName("two instances of one class read-locked together: reported for r, allowed for R")
    void twoInstancesOfOneClass() {
        for (boolean recursive : new boolean[] {false, true}) {
            Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
            ValidatedReadWriteLock x1 = ValidatedReadWriteLock.builder("x1", mmap, lockdep).recursiveReaders(recursive).build();
            ValidatedReadWriteLock x2 = ValidatedReadWriteLock.builder("x2", mmap, lockdep).recursiveReaders(recursive).build();
            x1.readLock().lock();
            x2.readLock().lock();
            x2.readLock().unlock();
            x1.readLock().unlock();
            assertThat(lockdep.reportCount()).as("recursive readers: %s", recursive).isEqualTo(recursive ? 0 : 1);
        }
    }
}
