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
 * README "Long-running services": "A work item that returns holding a validated lock is
 * reported ... and the worker then releases the lock fully (every hold), so the next item and
 * other threads are not affected". Locks taken under a nest lock share one held entry
 * (references): every instance must be released, not only the one the entry names.
 * And {@code ValidatedLock.Builder.reentrant(false)}: "re-locking the same instance is reported".
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break4LdLeakReleaseTest {

    @Test
    void everyInstanceLeakedUnderANestLockIsReleased() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(ld).build())) {
            WorkQueue q = rt.queueBuilder("q").build();
            LockClassKey itemKey = new LockClassKey("item");
            ValidatedLock outer = new ValidatedLock("outer", new LockClassKey("outer"), ld);
            ValidatedLock x1 = new ValidatedLock("x1", itemKey, ld);
            ValidatedLock x2 = new ValidatedLock("x2", itemKey, ld);
            Work w = new Work("leaks-nested", () -> {
                outer.lock();
                x1.lockNestLock(outer);
                x2.lockNestLock(outer);
                // returns holding all three
            });
            q.queue(w);
            q.flush();
            boolean outerFree = outer.tryLock(2, TimeUnit.SECONDS);
            if (outerFree) {
                outer.unlock();
            }
            boolean x1Free = x1.tryLock(2, TimeUnit.SECONDS);
            if (x1Free) {
                x1.unlock();
            }
            boolean x2Free = x2.tryLock(2, TimeUnit.SECONDS);
            if (x2Free) {
                x2.unlock();
            }
            assertThat(ld.reports()).as("the leak is reported").anyMatch(r -> r.kind() == LockdepReport.Kind.LEAKED_LOCK);
            assertThat(new boolean[] {outerFree, x1Free, x2Free})
                    .as("expected: outer, x1 and x2 all released by the worker after the leak report (README: every hold);"
                            + " actual: free after the item [outer, x1, x2] = " + java.util.Arrays.toString(new boolean[] {outerFree, x1Free, x2Free})
                            + " (x2 stays locked by the worker thread for good)")
                    .containsExactly(true, true, true);
        }
    }

    @Test
    void aNonReentrantLockReLockedByTryLockIsReportedOrRefused() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedLock m = ValidatedLock.builder("m", new LockClassKey("M"), ld).reentrant(false).build();
        m.lock();
        boolean again = m.tryLock();
        if (again) {
            m.unlock();
        }
        m.unlock();
        assertThat(!again || !ld.reports().isEmpty())
                .as("expected: with reentrant(false) (javadoc: re-locking the same instance is reported) a tryLock() by"
                        + " the holder fails or is reported; actual: tryLock() returned %s, reports %s", again,
                        ld.reports().size())
                .isTrue();
    }
}
