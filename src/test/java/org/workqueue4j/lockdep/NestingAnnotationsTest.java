package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** lockNested(subclass) and the nest_lock equivalent (mutex_lock_nested, mutex_lock_nest_lock). */
class NestingAnnotationsTest {

    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
    private final LockClassKey inodeKey = new LockClassKey("inode");

    private ValidatedLock inode(String name) {
        return new ValidatedLock(name, inodeKey, lockdep);
    }

    @Test
    void aPerAcquisitionSubclassIsNotRecursiveLocking() {
        ValidatedLock parent = inode("parent");
        ValidatedLock child = inode("child");
        parent.lock();
        child.lockNested(1);
        assertThat(lockdep.isHeld(child.map())).isTrue();
        child.unlock();
        parent.unlock();
        assertThat(lockdep.reports()).isEmpty();

        parent.lock();
        child.lock();   // subclass 0 again: recursive locking of "inode"
        child.unlock();
        parent.unlock();
        assertThat(lockdep.reports()).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.RECURSIVE);
    }

    @Test
    void sortedLockingOfManyInstancesUnderANestLockValidatesWithoutReportsOrADepthCap() {
        ValidatedLock rename = new ValidatedLock("s_vfs_rename_mutex", new LockClassKey("rename"), lockdep);
        List<ValidatedLock> inodes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {  // more than 8 subclasses and more than the 48-entry held stack
            inodes.add(inode("inode" + i));
        }
        rename.lock();
        for (ValidatedLock l : inodes) {
            l.lockNestLock(rename);
        }
        assertThat(inodes).allSatisfy(l -> assertThat(lockdep.isHeld(l.map())).isTrue());
        for (ValidatedLock l : inodes) {
            l.unlock();
        }
        rename.unlock();
        assertThat(lockdep.reports()).isEmpty();
        assertThat(inodes).noneSatisfy(l -> assertThat(lockdep.isHeld(l.map())).isTrue());
        assertThat(lockdep.isHeld(rename.map())).isFalse();
    }

    @Test
    void withoutTheNestLockTheSecondInstanceIsRecursive() {
        ValidatedLock a = inode("a");
        ValidatedLock b = inode("b");
        ValidatedLock notHeld = new ValidatedLock("other", new LockClassKey("other"), lockdep);
        a.lock();
        b.lockNestLock(notHeld); // a nest lock the thread does not hold is reported, then no nest lock
        b.unlock();
        a.unlock();
        assertThat(lockdep.reports()).extracting(LockdepReport::kind)
                .containsExactly(LockdepReport.Kind.NEST_LOCK_NOT_HELD, LockdepReport.Kind.RECURSIVE);
        assertThat(lockdep.reports().get(0).text()).contains("WARNING: Nested lock was not taken", "but this task is not holding:",
                "other");
    }

    @Test
    void anInversionAgainstANestedClassIsStillFound() {
        ValidatedLock rename = new ValidatedLock("rename", new LockClassKey("rename"), lockdep);
        ValidatedLock a = inode("a");
        ValidatedLock b = inode("b");
        rename.lock();
        a.lockNestLock(rename);
        b.lockNestLock(rename);
        b.unlock();
        a.unlock();
        rename.unlock();   // rename -> inode learnt
        a.lock();
        rename.lock();     // inode -> rename: circular
        rename.unlock();
        a.unlock();
        assertThat(lockdep.reports()).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);
    }
}
