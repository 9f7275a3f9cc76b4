package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Break7L, defect: the downgrade of an instance merged into a held entry under a nest lock is
 * reported as a release of a lock that is not held, and not applied.
 *
 * <p>Kernel verdict (kernel/locking/lockdep.c, kernel-patches/bpf): {@code __lock_downgrade}
 * looks the lock up with {@code find_held_lock()}, whose {@code match_held_lock()} matches an
 * entry with {@code references} by class ("if (hlock->references) { ... if (hlock->class_idx ==
 * class - lock_classes) return 1; }"), so the merged entry is found and set to read: no report.
 * Ours: {@code Lockdep.downgrade} uses {@code HeldLocks.find(map)} (the entry's own map only),
 * not {@code findHolding(map)} as release and assertHeld do since the merge bookkeeping
 * ({@code HeldLocks.members}); the merged entry is named after w1, so w2 is "not held":
 * "WARNING: bad unlock balance detected! ... but there are no more locks to release!" (and under
 * WARN_ONCE validation is turned off).
 *
 * <p>Why it matters: sorted write-locking of many instances under a nest lock, then downgrading
 * them (down_write_nest_lock / downgrade_write), is exactly what the merge is for; every such
 * downgrade of a second instance is a false report. Through the public
 * {@link LockDependencyValidator} API ({@code acquireNested}, {@code downgrade}).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break7LMergedDowngradeTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    @Test
    void downgradingTheSecondInstanceTakenUnderANestLockIsNoUnbalancedRelease() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        LockMap n = new LockMap("n", new LockClassKey("N"));
        LockClassKey xk = new LockClassKey("X");
        LockMap w1 = new LockMap("w1", xk);
        LockMap w2 = new LockMap("w2", xk);
        ld.acquire(n, AcquireMode.EXCLUSIVE, false);
        ld.acquireNested(w1, 0, AcquireMode.EXCLUSIVE, n);
        ld.acquireNested(w2, 0, AcquireMode.EXCLUSIVE, n); // merged into w1's entry
        ld.assertHeld(w2, LockAssertion.HELD_WRITE);       // found (findHolding): no report
        ld.downgrade(w2, AcquireMode.READ);                // kernel: found by class, set to read
        assertThat(reports).as("kernel: no report; ours: %s", reports).isEmpty();
    }
}
