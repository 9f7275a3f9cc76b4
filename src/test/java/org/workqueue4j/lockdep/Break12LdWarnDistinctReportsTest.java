package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * Under {@link ReportPolicy#WARN} ("log every distinct report", README/SPEC §5) a report was,
 * before (README faults table), dropped when its {@code LockdepReport.signature()} (kind + class identities) was seen before.
 * The signature leaves out what makes two warnings distinct:
 * <ul>
 * <li>an assertion's expectation: a failed {@code assertHeld()} of M hides a later failed
 * {@code assertNotHeld()} of M (title "expected NOT_HELD"), and a failed
 * {@code assertHeldWrite()} a later failed {@code assertHeldRead()} of the same class. The
 * kernel's {@code lockdep_assert_held*()} are separate {@code WARN_ON}s, each printed;</li>
 * <li>a leaked lock's item and queue: item b of queue q2 returning with L held is not
 * reported once item a of q1 was (the kernel's "BUG: workqueue leaked lock or atomic" is a
 * {@code pr_err} per occurrence, naming the function).</li>
 * </ul>
 * (Same-problem duplicates staying one report, {@code Break7LWarnDedupTest}, is right and not
 * contested here.)
 *
 * <p>Correct behaviour: each of these distinct problems is reported once.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break12LdWarnDistinctReportsTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    private Lockdep ld() {
        return Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    }

    @Test
    void aFailedAssertNotHeldIsReportedAfterAFailedAssertHeldOfTheSameClass() {
        Lockdep ld = ld();
        ValidatedLock m = new ValidatedLock("m", new LockClassKey("M"), ld);
        m.assertHeld(); // fails: not held
        m.lock();
        try {
            m.assertNotHeld(); // fails: held. A different problem, at a different place
        } finally {
            m.unlock();
        }
        assertThat(reports).extracting(LockdepReport::title)
                .containsExactly("WARNING: lock assertion failed: M expected HELD",
                        "WARNING: lock assertion failed: M expected NOT_HELD");
    }

    @Test
    void aFailedAssertHeldReadIsReportedAfterAFailedAssertHeldWriteOfTheSameClass() {
        Lockdep ld = ld();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), ld);
        rw.readLock().lock();
        try {
            rw.assertHeldWrite(); // fails: read held
        } finally {
            rw.readLock().unlock();
        }
        rw.writeLock().lock();
        try {
            rw.assertHeldRead(); // fails: write held
        } finally {
            rw.writeLock().unlock();
        }
        assertThat(reports).extracting(LockdepReport::title)
                .containsExactly("WARNING: lock assertion failed: RW expected HELD_WRITE",
                        "WARNING: lock assertion failed: RW expected HELD_READ");
    }

    @Test
    void aSecondItemLeakingTheSameLockClassIsReported() {
        Lockdep ld = ld();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(ld).build())) {
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
            q1.queue(new Work("leaker-a", () -> l.lock()));
            q1.flush();
            q2.queue(new Work("leaker-b", () -> l.lock()));
            q2.flush();
        }
        assertThat(reports).extracting(LockdepReport::kind)
                .containsExactly(LockdepReport.Kind.LEAKED_LOCK, LockdepReport.Kind.LEAKED_LOCK);
        assertThat(reports.get(1).text()).contains("last function: leaker-b (queue 'q2')");
    }
}
