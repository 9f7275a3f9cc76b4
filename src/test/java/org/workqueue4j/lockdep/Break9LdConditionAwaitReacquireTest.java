package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ValidatedLock.newCondition().await*()} releases the lock and re-acquires it while the
 * thread keeps every lock taken after it. A then B held, {@code condA.await(..)}: the re-lock of
 * A happens under B, a B -&gt; A dependency that with A -&gt; B is a real deadlock (while the
 * waiter sleeps another thread takes A and blocks on B; the waiter wakes and blocks on A).
 *
 * <p>Kernel: every wait that drops and retakes a lock is written as unlock + lock
 * ({@code wait_event_lock_irq()}: {@code spin_unlock_irq(&lock); schedule();
 * spin_lock_irq(&lock)}), so the re-acquisition under B goes through {@code __lock_acquire}
 * and {@code check_prev_add} finds B -&gt; A against A -&gt; B: "possible circular locking
 * dependency detected". The project's own agent documents "{@code wait}/{@code await} are a
 * release and a re-acquisition" (README, the agent). {@code ValidatedAcquire.HolderCondition}
 * (restoring / awaitUninterruptibly) only restores the holder hint: the validator never sees
 * the release nor the re-acquisition, so nothing is reported. ({@code ValidatedLock.newCondition}'s
 * javadoc states "the lock counts as held throughout"; the README's list of deliberate
 * deviations from the kernel does not, and the agent does the opposite.) The write side of
 * {@code ValidatedReadWriteLock} has the same condition wrapper and the same miss.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break9LdConditionAwaitReacquireTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    @Test
    void awaitingAnOuterLocksConditionUnderAnInnerLockIsCircular() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        Condition ca = a.newCondition();
        a.lock();
        b.lock();                                   // A -> B
        ca.await(1, TimeUnit.MILLISECONDS);         // drops A, re-takes it holding B: B -> A
        b.unlock();
        a.unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.CIRCULAR);
    }
}
