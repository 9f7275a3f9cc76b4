package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** lockdep_assert_held* on validated locks and pseudo-locks, and the introspection snapshot. */
class AssertionsAndSnapshotTest {

    @Test
    void assertionsPassSilentlyWhenTrue() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedLock m = new ValidatedLock("m", new LockClassKey("M"), lockdep);
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), lockdep);
        m.assertNotHeld();
        m.lock();
        m.assertHeld();
        m.unlock();
        rw.readLock().lock();
        rw.assertHeld();
        rw.assertHeldRead();
        rw.readLock().unlock();
        rw.writeLock().lock();
        rw.assertHeldWrite();
        rw.writeLock().unlock();
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    void aFailedAssertionIsReportedAndThrownUnderThrow() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), lockdep);
        rw.readLock().lock();
        assertThatThrownBy(rw::assertHeldWrite).isInstanceOf(IllegalStateException.class).hasMessageContaining("HELD_WRITE");
        rw.readLock().unlock();
        assertThatThrownBy(rw::assertHeld).isInstanceOf(IllegalStateException.class);
        assertThat(lockdep.reports()).extracting(LockdepReport::kind).containsOnly(LockdepReport.Kind.ASSERTION);
    }

    @Test
    void aFailedAssertionOnAPseudoLockIsReportedUnderWarn() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        LockMap map = new LockMap("completion", new LockClassKey("C"));
        lockdep.acquire(map);
        map.assertHeld(lockdep, LockAssertion.NOT_HELD);
        lockdep.release(map);
        assertThat(lockdep.reports()).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.ASSERTION);
            assertThat(r.heldLocks()).singleElement().asString().contains("(C)");
        });
    }

    @Test
    void theDisabledValidatorAssertsNothing() {
        ValidatedLock m = new ValidatedLock("m", new LockClassKey("M"), LockDependencyValidator.disabled());
        m.assertHeld(); // not held, but nothing is validated: no exception
    }

    @Test
    void theSnapshotListsClassesWithDependencyCountsChainsAndHeldLocks() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), lockdep);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), lockdep);
        a.lock();
        b.lock();
        LockdepSnapshot s = lockdep.snapshot();
        b.unlock();
        a.unlock();

        assertThat(s.classes()).anySatisfy(c -> {
            assertThat(c.name()).isEqualTo("A");
            assertThat(c.forwardDeps()).isEqualTo(1);
            assertThat(c.after()).containsExactly("B");
        });
        assertThat(s.classes()).anySatisfy(c -> {
            assertThat(c.name()).isEqualTo("B");
            assertThat(c.backwardDeps()).isEqualTo(1);
        });
        assertThat(s.chains()).anySatisfy(ch -> assertThat(ch.classes()).containsExactly("A", "B"));
        assertThat(s.threads()).anySatisfy(t -> {
            assertThat(t.thread()).isEqualTo(Thread.currentThread().getName());
            assertThat(t.held()).hasSize(2);
        });
        assertThat(s.text()).contains("all lock classes:").contains("lock chains:")
                .contains("Showing all locks held in the system:").contains("2 locks held by");
    }
}
