package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link ValidatedLock}: the Java decisions on reentrancy, instances and subclasses. */
class ValidatedLockTest {

    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
    private final LockClassKey inode = new LockClassKey("&inode->i_lock");

    @Test
    @DisplayName("re-locking the same reentrant instance is legal and not reported")
    void reentrancyIsLegal() {
        ValidatedLock l = new ValidatedLock("i1", inode, lockdep);
        l.lock();
        l.lock();
        assertThat(l.tryLock()).isTrue();
        l.unlock();
        l.unlock();
        assertThat(lockdep.isHeld(l.map())).isTrue();
        l.unlock();
        assertThat(lockdep.isHeld(l.map())).isFalse();
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("re-locking a non-reentrant instance is reported as recursive locking")
    void nonReentrantRelockIsReported() {
        ValidatedLock l = ValidatedLock.builder("i1", inode, lockdep).reentrant(false).build();
        l.lock();
        l.lock();
        l.unlock();
        l.unlock();
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE));
        assertThat(lockdep.isHeld(l.map())).isFalse();
    }

    @Test
    @DisplayName("taking a second instance of the same class is recursive locking")
    void secondInstanceOfSameClassIsReported() {
        ValidatedLock first = new ValidatedLock("i1", inode, lockdep);
        ValidatedLock second = new ValidatedLock("i2", inode, lockdep);
        first.lock();
        second.lock();
        second.unlock();
        first.unlock();
        assertThat(lockdep.reports()).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE);
            assertThat(r.text()).contains("WARNING: possible recursive locking detected",
                    "May be due to missing lock nesting notation");
        });
    }

    @Test
    @DisplayName("a second instance nested with a different subclass is not reported")
    void nestedSubclassIsLegal() {
        ValidatedLock parent = new ValidatedLock("dir", inode, lockdep);
        ValidatedLock child = ValidatedLock.builder("file", inode, lockdep).subclass(1).build();
        parent.lock();
        child.lock();
        child.unlock();
        parent.unlock();
        assertThat(lockdep.reports()).isEmpty();
        assertThat(lockdep.stats().classes()).isEqualTo(2);
    }

    @Test
    @DisplayName("unlocking a lock that is not held throws as ReentrantLock does, and is reported")
    void unlockNotHeld() {
        ValidatedLock l = new ValidatedLock("i1", inode, lockdep);
        l.lock();
        l.unlock();
        assertThatThrownBy(l::unlock).isInstanceOf(IllegalMonitorStateException.class);
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RELEASE_NOT_HELD));
    }

    @Test
    @DisplayName("a timed tryLock is validated like lock(); a plain tryLock adds no dependency")
    void tryLockVariants() throws InterruptedException {
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), lockdep);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), lockdep);
        a.lock();
        assertThat(b.tryLock()).isTrue();
        b.unlock();
        a.unlock();
        b.lock();
        assertThat(a.tryLock(1, TimeUnit.SECONDS)).isTrue();
        a.unlock();
        b.unlock();
        assertThat(lockdep.reports()).isEmpty();
        a.lock();
        assertThat(b.tryLock(1, TimeUnit.SECONDS)).isTrue();
        b.unlock();
        a.unlock();
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    @DisplayName("with the disabled validator the lock still locks and nothing is tracked")
    void disabledValidatorStillLocks() {
        ValidatedLock l = new ValidatedLock("i1", inode, LockDependencyValidator.disabled());
        l.lock();
        assertThat(l.isHeldByCurrentThread()).isTrue();
        l.unlock();
        assertThat(l.isHeldByCurrentThread()).isFalse();
    }
}
