package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * WARN_ONCE is "the kernel default". In the kernel only lockdep's own splats call
 * {@code debug_locks_off()}; {@code lockdep_assert_held()} is a plain
 * {@code WARN_ON(debug_locks && !lockdep_is_held(l))} (reference §4) and
 * {@code process_one_work}'s "BUG: workqueue leaked lock or atomic" is a {@code pr_err}: neither
 * turns lockdep off. Here either one ends validation, so the first real inversion after it goes
 * unreported.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break4LdWarnOnceOffSwitchTest {

    private static void onFreshThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        t.join(10_000);
    }

    private static void abba(ValidatedLock a, ValidatedLock b) throws InterruptedException {
        onFreshThread(() -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
        });
        onFreshThread(() -> {
            b.lock();
            a.lock();
            a.unlock();
            b.unlock();
        });
    }

    private static boolean circularReported(Lockdep ld) {
        return ld.reports().stream().anyMatch(r -> r.kind() == LockdepReport.Kind.CIRCULAR);
    }

    @Test
    void aFailedAssertHeldDoesNotTurnValidationOff() throws Exception {
        Lockdep ld = Lockdep.builder().quiet().build(); // WARN_ONCE
        ValidatedLock m = new ValidatedLock("m", new LockClassKey("M"), ld);
        m.assertHeld(); // not held: a warning
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        abba(a, b);
        assertThat(circularReported(ld))
                .as("expected: the ABBA after a failed assertHeld() reported (kernel: lockdep_assert_held is a WARN_ON,"
                        + " lockdep stays on); actual: validating=%s, reports=%s", ld.isValidating(), ld.reports().stream()
                        .map(LockdepReport::title).toList())
                .isTrue();
    }

    @Test
    void aLeakedLockReportDoesNotTurnValidationOff() throws Exception {
        Lockdep ld = Lockdep.builder().quiet().build(); // WARN_ONCE
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(ld).build())) {
            WorkQueue q = rt.queueBuilder("q").build();
            ValidatedLock m = new ValidatedLock("m", new LockClassKey("M"), ld);
            q.queue(new Work("leaks-m", () -> m.lock()));
            q.flush();
            ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
            ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
            abba(a, b);
            assertThat(circularReported(ld))
                    .as("expected: the ABBA after a workqueue leaked-lock report reported (kernel: a pr_err in"
                            + " process_one_work, lockdep stays on); actual: validating=%s, reports=%s", ld.isValidating(),
                            ld.reports().stream().map(LockdepReport::title).toList())
                    .isTrue();
        }
    }
}
