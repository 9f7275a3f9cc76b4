package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * A leak's signature tells leaks apart by where they were made: the item's class and its
 * queue's. A first version used the item's name, and an executor view names every task it
 * accepts "<queue>/task-<n>" (a fresh number per submission), so the same task (one lambda, one
 * class, one queue, one leaked lock class) submitted N times made N reports under WARN_ONCE and
 * WARN, each kept in Lockdep.reports() and in the signature set.
 *
 * Correct behaviour: one leak site (same task class, same queue, same leaked lock class) is one
 * problem: reported once under WARN_ONCE/WARN, memory bounded however many times it runs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break12LdLeakPerTaskReportsTest {

    private void run(ReportPolicy policy) throws Exception {
        List<LockdepReport> reports = new CopyOnWriteArrayList<>();
        Lockdep ld = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(ld).cpus(2).build())) {
            WorkQueue q = rt.queueBuilder("q").build();
            ExecutorService e = q.asExecutorService();
            Runnable leaker = () -> l.lock(); // one class, leaks l each time (the worker releases it)
            for (int i = 0; i < 50; i++) {
                e.submit(leaker).get(30, TimeUnit.SECONDS);
            }
        }
        assertThat(reports).extracting(LockdepReport::kind).containsOnly(LockdepReport.Kind.LEAKED_LOCK);
        assertThat(reports.size()).as("the same task leaking the same lock 50 times, policy " + policy
                + ": one problem, one report (was one before the change)").isEqualTo(1);
        assertThat(ld.reportCount()).isEqualTo(1);
    }

    @Test
    void sameTaskLeakingRepeatedlyIsOneReportUnderWarnOnce() throws Exception {
        run(ReportPolicy.WARN_ONCE);
    }

    @Test
    void sameTaskLeakingRepeatedlyIsOneReportUnderWarn() throws Exception {
        run(ReportPolicy.WARN);
    }
}
