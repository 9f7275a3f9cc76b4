package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Break7L, defect (regression of 4f26cd6, "report signature from class identity"): under
 * {@link ReportPolicy#WARN} the same problem about the same lock class is reported twice when
 * that class did not exist yet at the first report and does at the second.
 *
 * <p>{@code ReportFormatter.identity(map)} names a class that was never created by
 * {@code name + "\u0001k" + identityHashCode(key)}, and a created one by
 * {@code LockClass.identity()} ({@code name + "\u0001" + uid}). The two strings differ for one and
 * the same (key, subclass), so {@code LockdepReport.signature()} differs and
 * {@code Lockdep.emit}'s {@code reported.add(signature)} lets the duplicate through. Before the
 * change the signature was built from the class names: one report.
 *
 * <p>Kernel verdict: {@code print_lock_nested_lock_not_held()} (kernel/locking/lockdep.c,
 * kernel-patches/bpf, called from {@code __lock_acquire}: "if (nest_lock &amp;&amp;
 * !__lock_is_held(nest_lock, -1))") starts with {@code debug_locks_off()}: the misuse is reported
 * once. Ours: twice, with identical titles and {@code classes()}. Our own contract
 * ({@code LockdepReport.signature()}: "report each distinct problem once"; the brief: identical
 * reports about the same classes must stay ONE report). Why it matters: every first-time misuse
 * of a lock (the report is made before the acquisition creates the class) is reported again on
 * its second occurrence; a WARN log or a listener counting distinct problems sees two.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break7LWarnDedupTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    Lockdep ld() {
        return Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    }

    /** {@code x.lockNestLock(n)} without holding {@code n}, twice: the same misuse, one report. */
    @Test
    void theSameNestLockNotHeldMisuseTwiceIsOneReport() {
        Lockdep ld = ld();
        ValidatedLock n = new ValidatedLock("n", new LockClassKey("N"), ld);
        ValidatedLock x = new ValidatedLock("x", new LockClassKey("X"), ld);
        for (int k = 0; k < 2; k++) {
            x.lockNestLock(n); // n not held: "Nested lock was not taken"; x's class is created after the report
            x.unlock();
        }
        assertThat(reports).extracting(LockdepReport::kind).containsOnly(LockdepReport.Kind.NEST_LOCK_NOT_HELD);
        assertThat(reports).extracting(LockdepReport::classes).containsOnly(List.of("X", "N"));
        assertThat(reports).as("kernel: once (debug_locks_off); ours: %s", reports).hasSize(1);
    }

    /**
     * A failed {@code assertHeld()} of one lock, before and after its class was created (one
     * lock()/unlock() in between): the same assertion about the same class, one report under
     * WARN (the two reports have equal titles and classes).
     */
    @Test
    void theSameFailedAssertionBeforeAndAfterTheClassExistsIsOneReport() {
        Lockdep ld = ld();
        ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
        l.assertHeld();
        l.lock();
        l.unlock();
        l.assertHeld();
        assertThat(reports).extracting(LockdepReport::title).containsOnly("WARNING: lock assertion failed: L expected HELD");
        assertThat(reports).as("same class, same assertion; ours: %s", reports).hasSize(1);
    }

    /**
     * The same under {@link ReportPolicy#WARN_ONCE}, where a failed assertion leaves validation on
     * and is published "once per signature" ({@code Lockdep.emit}): twice here.
     */
    @Test
    void theSameFailedAssertionIsOneReportUnderWarnOnceToo() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN_ONCE).quiet().listener(reports::add).build();
        ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
        l.assertHeld();
        l.lock();
        l.unlock();
        l.assertHeld();
        assertThat(reports).extracting(LockdepReport::title).containsOnly("WARNING: lock assertion failed: L expected HELD");
        assertThat(reports).as("once per signature; ours: %s", reports).hasSize(1);
    }
}
