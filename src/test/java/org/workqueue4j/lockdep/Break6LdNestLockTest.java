package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Break6, defect: {@code lockNestLock} (mutex_lock_nest_lock) is honoured only when the
 * same-class entry already held was itself taken under that same nest lock, and only for the
 * recursion check. The kernel's rules (kernel/locking/lockdep.c, newest copy in kernel-patches/bpf):
 *
 * <ul>
 * <li>{@code __lock_acquire}: if the top held entry has the new lock's class and a
 *     {@code nest_lock} is given, the acquisition is merged into it ({@code references}) and
 *     returns 2: no validation at all, whatever that entry's own nest_lock was.</li>
 * <li>{@code check_deadlock}: scanning the held stack, {@code nest} is set when an entry is the
 *     nest_lock instance; a later same-class entry then returns 2, and {@code validate_chain}
 *     skips {@code check_prevs_add} ("if (!chain_head &amp;&amp; ret != 2)": "the new lock introduces
 *     no more lock dependency ... nor deadlock (because the nest_lock serializes nesting locks)").</li>
 * </ul>
 *
 * <p>Ours: {@code HeldLocks.nestedUnder(i, cls, nest)} also requires {@code nests[i] == nest}, and
 * {@code DependencyGraph.check} runs the circular checks and adds the dependencies even when it
 * skipped the recursion. Kernel verdict for both rows: no report. Ours: a report (recursive,
 * resp. circular). Why it matters: the nest-lock annotation exists for exactly these sorted
 * multi-instance patterns (mm_take_all_locks takes other classes between the instances); a false
 * report under THROW is an exception in correct code, under WARN_ONCE it turns validation off.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break6LdNestLockTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    Lockdep ld() {
        return Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    }

    /** N, X1 (plain lock()), X2 under nest N: the kernel merges X2 into the top X entry: silent. */
    @Test
    void secondInstanceUnderTheNestLockAfterAPlainFirstOneIsSilent() {
        Lockdep ld = ld();
        LockClassKey xk = new LockClassKey("X");
        ValidatedLock n = new ValidatedLock("N", new LockClassKey("N"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", xk, ld);
        ValidatedLock x2 = new ValidatedLock("x2", xk, ld);
        n.lock();
        x1.lock();
        x2.lockNestLock(n);
        x2.unlock();
        x1.unlock();
        n.unlock();
        assertThat(reports).as("kernel: merged (references), no report; ours: %s", reports).isEmpty();
    }

    /**
     * The merged entry of a plainly taken instance keeps both holds: the plain one released
     * first, the other is still held (and the first is not), and releasing it empties the stack.
     */
    @Test
    void aPlainInstanceReleasedBeforeTheOneMergedIntoItLeavesThatOneHeld() {
        Lockdep ld = ld();
        LockClassKey xk = new LockClassKey("X");
        ValidatedLock n = new ValidatedLock("N", new LockClassKey("N"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", xk, ld);
        ValidatedLock x2 = new ValidatedLock("x2", xk, ld);
        n.lock();
        x1.lock();
        x2.lockNestLock(n);
        x1.unlock();
        x1.assertNotHeld();
        x2.assertHeld();
        n.unlock();
        x2.unlock();
        x2.assertNotHeld();
        assertThat(ld.snapshot().threads()).allSatisfy(t -> assertThat(t.held()).isEmpty());
        assertThat(reports).as("%s", reports).isEmpty();
    }

    /**
     * N, X1 under N, Y, X2 under N: the kernel's check_deadlock finds N before X1 and returns 2,
     * so no Y -&gt; X dependency is added and nothing is reported; ours adds Y -&gt; X and reports
     * the cycle X -&gt; Y -&gt; X.
     */
    @Test
    void anotherClassBetweenTwoInstancesUnderTheNestLockIsSilent() {
        Lockdep ld = ld();
        LockClassKey xk = new LockClassKey("X");
        ValidatedLock n = new ValidatedLock("N", new LockClassKey("N"), ld);
        ValidatedLock y = new ValidatedLock("Y", new LockClassKey("Y"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", xk, ld);
        ValidatedLock x2 = new ValidatedLock("x2", xk, ld);
        n.lock();
        x1.lockNestLock(n);
        y.lock();
        x2.lockNestLock(n);
        x2.unlock();
        y.unlock();
        x1.unlock();
        n.unlock();
        assertThat(reports).as("kernel: check_deadlock returns 2, no check_prevs_add, no report; ours: %s", reports).isEmpty();
    }
}
