package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Break6, defect: two distinct lock classes whose keys have the same name are one class for
 * {@code LockdepReport.signature()}, which is built from class <em>names</em>. Under
 * {@link ReportPolicy#WARN} ("every distinct report", README and SPEC) a second, different
 * deadlock through the other class is dropped: not in {@code reports()}, not logged, not passed
 * to listeners. Nor does the report text tell the classes apart.
 *
 * <p>Kernel: classes are per key; same-named classes get a {@code name_version} and print as
 * {@code name#2} ({@code __print_lock_name}, kernel/locking/lockdep.c), so two such deadlocks are
 * two reports that can be told apart. Why it matters: same names are the norm for per-instance
 * keys (every queue named alike, a key per object, `new LockClassKey("M")` in two libraries);
 * the README's own {@code FlushAsLockTest}-style workqueue cycle on a second queue of the same
 * name is lost (see {@code org.workqueue4j.Break6LdSameNameQueuesTest}).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break6LdSameNameClassesTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    static void onThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r);
        t.start();
        t.join();
    }

    @Test
    void twoDeadlocksThroughTwoClassesOfOneNameAreTwoReportsUnderWarn() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock m1 = new ValidatedLock("m1", new LockClassKey("M"), ld);
        ValidatedLock m2 = new ValidatedLock("m2", new LockClassKey("M"), ld);
        onThread(() -> { a.lock(); m1.lock(); m1.unlock(); a.unlock(); });
        onThread(() -> { m1.lock(); a.lock(); a.unlock(); m1.unlock(); }); // A <-> M#1
        onThread(() -> { a.lock(); m2.lock(); m2.unlock(); a.unlock(); });
        onThread(() -> { m2.lock(); a.lock(); a.unlock(); m2.unlock(); }); // A <-> M#2: another deadlock
        assertThat(reports).as("kernel: two circular reports ((M) and (M#2)); ours: %s", reports).hasSize(2);
    }

    /**
     * The kernel's {@code __print_lock_name()}: the first live key of a name prints bare, a later
     * one as {@code name#2}, with a subclass as {@code name#2/1}, in the reports and in the
     * snapshot; a unique name prints as before.
     */
    @Test
    void aLaterClassOfOneNamePrintsWithItsNameVersion() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        LockClassKey k2 = new LockClassKey("M");
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock m1 = new ValidatedLock("m1", new LockClassKey("M"), ld);
        ValidatedLock m2 = new ValidatedLock("m2", k2, ld);
        ValidatedLock m2sub = ValidatedLock.builder("m2/1", k2, ld).subclass(1).build();
        onThread(() -> { a.lock(); m1.lock(); m1.unlock(); a.unlock(); });
        onThread(() -> { m1.lock(); a.lock(); a.unlock(); m1.unlock(); });
        onThread(() -> { a.lock(); m2.lock(); m2sub.lock(); m2sub.unlock(); m2.unlock(); a.unlock(); });
        onThread(() -> { m2.lock(); a.lock(); a.unlock(); m2.unlock(); });
        assertThat(reports).hasSize(2);
        assertThat(reports.get(0).classes()).containsExactly("A", "M");
        assertThat(reports.get(0).text()).contains("(M){+.+.}").doesNotContain("#2");
        assertThat(reports.get(1).classes()).containsExactly("A", "M#2");
        assertThat(reports.get(1).text()).contains("(M#2){+.+.}", "lock(M#2);");
        assertThat(ld.snapshot().classes()).extracting(LockdepSnapshot.ClassInfo::name)
                .contains("A", "M", "M#2", "M#2/1");
    }

    /**
     * A class freed and made again for another key of its name is another class: a deadlock
     * through it is reported again (its name may be the same: the kernel numbers a name among
     * the live keys).
     */
    @Test
    void aDeadlockThroughALaterKeyOfAFreedKeysNameIsReportedAgain() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        LockClassKey k1 = new LockClassKey("M");
        ValidatedLock m1 = new ValidatedLock("m1", k1, ld);
        onThread(() -> { a.lock(); m1.lock(); m1.unlock(); a.unlock(); });
        onThread(() -> { m1.lock(); a.lock(); a.unlock(); m1.unlock(); });
        ld.unregisterKey(k1);
        ValidatedLock m2 = new ValidatedLock("m2", new LockClassKey("M"), ld);
        onThread(() -> { a.lock(); m2.lock(); m2.unlock(); a.unlock(); });
        onThread(() -> { m2.lock(); a.lock(); a.unlock(); m2.unlock(); });
        assertThat(reports).hasSize(2);
        assertThat(reports.get(1).classes()).containsExactly("A", "M");
    }
}
