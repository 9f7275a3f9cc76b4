package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Break7L, defect (4f26cd6, name versions): the "Nested lock was not taken" report names the
 * lock being acquired by another class's name when its class is created by that acquisition.
 *
 * <p>Kernel verdict (kernel/locking/lockdep.c, kernel-patches/bpf): {@code __lock_acquire}
 * registers the class first ({@code register_lock_class()}, which gives it its
 * {@code name_version} through {@code count_matching_names()}), then "if (nest_lock &amp;&amp;
 * !__lock_is_held(nest_lock, -1)) print_lock_nested_lock_not_held(curr, hlock)", which prints
 * "is trying to lock:" with {@code print_lock(hlock)} -&gt; {@code __print_lock_name()}: the
 * second key named M prints as {@code M#2}. Ours: {@code Lockdep.acquireNested} emits the report
 * before {@code classAs(map, ..)} registers the key, so {@code ReportFormatter.className} -&gt;
 * {@code DependencyGraph.nameOf} finds no registered key and prints version 1: {@code M}, which
 * is the printed name of the <em>other</em> live class (the first key's). The same lock is
 * "M" in this report and "M#2" in every later one.
 *
 * <p>Why it matters: the name versions exist so that classes of one name can be told apart
 * (README row for same-named classes: "in report texts, classes()"); here the report points at
 * the wrong class. Same root cause as {@link Break7LWarnDedupTest}: the report is made about a
 * class that does not exist yet.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break7LNestNotHeldNameTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    @Test
    void theLockTakenWithoutItsNestLockIsNamedWithItsNameVersion() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        ValidatedLock n = new ValidatedLock("n", new LockClassKey("N"), ld);
        ValidatedLock m1 = new ValidatedLock("m1", new LockClassKey("M"), ld);
        ValidatedLock m2 = new ValidatedLock("m2", new LockClassKey("M"), ld);
        m1.lock();
        m1.unlock(); // the first key named M: class "M"
        m2.lockNestLock(n); // n not held: reported; m2's key is the second named M
        m2.unlock();
        assertThat(ld.snapshot().classes()).extracting(LockdepSnapshot.ClassInfo::name).contains("M", "M#2");
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.NEST_LOCK_NOT_HELD);
        assertThat(reports.get(0).classes().get(0))
                .as("kernel: print_lock(hlock) of the registered class, M#2; ours names the other class: %s", reports.get(0).text())
                .isEqualTo("M#2");
    }
}
