package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A condition wait drops its lock and re-takes it (Break9LdConditionAwaitReacquireTest): the
 * re-acquisition must be validated as the acquisition was. Before: it was always a plain one, at
 * the lock's own subclass and with no nest lock, so a child taken with {@code lockNested(1)}
 * under its parent of the same class, or an instance taken with {@code lockNestLock} beside a
 * sibling, was "possible recursive locking" as soon as it waited on its condition (under THROW,
 * {@code await()} threw {@link PotentialDeadlockException} on correct code); the same program
 * with the child's lock built as {@code subclass(1)} was silent.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break10LdAnnotatedConditionWaitTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    private Lockdep lockdep(ReportPolicy policy) {
        return Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
    }

    @ParameterizedTest
    @EnumSource(value = ReportPolicy.class, names = {"WARN", "THROW"})
    void aNestedChildWaitingOnItsConditionIsRetakenAsItsSubclass(ReportPolicy policy) throws Exception {
        Lockdep ld = lockdep(policy);
        LockClassKey inode = new LockClassKey("inode");
        ValidatedLock parent = new ValidatedLock("parent", inode, ld);
        ValidatedLock child = new ValidatedLock("child", inode, ld);
        Condition childCond = child.newCondition();
        parent.lock();
        child.lockNested(1);
        try {
            assertThat(childCond.await(1, TimeUnit.MILLISECONDS)).isFalse();
            childCond.awaitNanos(1_000);
        } finally {
            child.unlock();
            parent.unlock();
        }
        assertThat(reports).isEmpty();
        assertThat(ld.snapshot().threads()).allSatisfy(t -> assertThat(t.held()).isEmpty());
    }

    @ParameterizedTest
    @EnumSource(value = ReportPolicy.class, names = {"WARN", "THROW"})
    void anInstanceTakenUnderANestLockWaitingOnItsConditionRejoinsItsEntry(ReportPolicy policy) throws Exception {
        Lockdep ld = lockdep(policy);
        ValidatedLock nest = new ValidatedLock("nest", new LockClassKey("N"), ld);
        LockClassKey obj = new LockClassKey("obj");
        ValidatedLock x1 = new ValidatedLock("x1", obj, ld);
        ValidatedLock x2 = new ValidatedLock("x2", obj, ld);
        Condition c1 = x1.newCondition();
        nest.lock();
        x1.lockNestLock(nest);
        x2.lockNestLock(nest);
        try {
            assertThat(c1.await(1, TimeUnit.MILLISECONDS)).isFalse();
            x1.assertHeld();
            x2.assertHeld();
        } finally {
            x2.unlock();
            x1.unlock();
            nest.unlock();
        }
        assertThat(reports).isEmpty();
    }

    /** The re-acquisition is still validated: as the subclass it was taken as, against the locks taken after it. */
    @Test
    void theRetakenSubclassStillDependsOnLocksHeldAcrossTheWait() throws Exception {
        Lockdep ld = lockdep(ReportPolicy.WARN);
        LockClassKey inode = new LockClassKey("inode");
        ValidatedLock parent = new ValidatedLock("parent", inode, ld);
        ValidatedLock child = new ValidatedLock("child", inode, ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        Condition childCond = child.newCondition();
        parent.lock();
        child.lockNested(1);
        b.lock();                                        // inode/1 -> B
        childCond.await(1, TimeUnit.MILLISECONDS);       // re-takes inode/1 holding B: B -> inode/1
        b.unlock();
        child.unlock();
        parent.unlock();
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.text()).contains("inode/1").contains("B");
        });
    }
}
