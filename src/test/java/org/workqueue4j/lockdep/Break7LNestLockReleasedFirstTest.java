package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Break7L, defect: the nest lock released while instances taken under it are still held goes
 * unreported.
 *
 * <p>Kernel verdict (kernel/locking/lockdep.c, kernel-patches/bpf): releasing N, which is below
 * the held X entry, is an out-of-order release, so {@code __lock_release} calls
 * {@code reacquire_held_locks(curr, depth, i + 1, &merged)}, which re-runs {@code __lock_acquire}
 * for the X entry with {@code hlock->nest_lock} (= N) and its references; N is no longer on the
 * stack, so "if (nest_lock &amp;&amp; !__lock_is_held(nest_lock, -1)) {
 * print_lock_nested_lock_not_held(curr, hlock); return 0; }": "WARNING: Nested lock was not
 * taken". Ours: {@code Lockdep.releaseSlow} re-validates the entries above with
 * {@code validateMiss(.., h.nests[j])}, which never checks that the nest lock is still held:
 * no report at all.
 *
 * <p>Why it matters: the nest lock is what makes taking many instances of one class safe; once
 * it is dropped, the instances are held unserialized (another thread can take N and the same
 * instances in another order) and the validator no longer has any reason to stay silent about
 * them. The README promises the kernel's report for a nest lock that is not held.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break7LNestLockReleasedFirstTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    @Test
    void releasingTheNestLockBeforeTheInstancesUnderItIsReported() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        LockClassKey xk = new LockClassKey("X");
        ValidatedLock n = new ValidatedLock("n", new LockClassKey("N"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", xk, ld);
        ValidatedLock x2 = new ValidatedLock("x2", xk, ld);
        n.lock();
        x1.lockNestLock(n);
        x2.lockNestLock(n); // merged into x1's entry (references 2, nest_lock N)
        n.unlock();         // kernel: reacquire of the X entry: "Nested lock was not taken"
        x2.unlock();
        x1.unlock();
        assertThat(reports).as("kernel: NEST_LOCK_NOT_HELD at N's release; ours: %s", reports)
                .extracting(LockdepReport::kind).contains(LockdepReport.Kind.NEST_LOCK_NOT_HELD);
    }
}
