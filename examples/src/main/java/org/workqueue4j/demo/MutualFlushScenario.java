package org.workqueue4j.demo;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.ReportPolicy;

/**
 * The mutual flush (issue 14): item {@code w1} of {@code q1} flushes {@code q2} while
 * {@code q2} has never been used; later item {@code w2} of {@code q2} flushes {@code q1}. The
 * code has a real cycle, q1 &rarr; w1 &rarr; q2 &rarr; w2 &rarr; q1: run the two items at the
 * same time, with w2 queued behind w1's flush, and both wait forever. SKIP_NEVER_USED never
 * records w1's wait on q2, so it misses the cycle; ALWAYS and DEFER_UNTIL_USED report it.
 * Here the two items run one after the other, so nothing hangs.
 */
public final class MutualFlushScenario {
    /**
     * What one run observed.
     *
     * @param policy the flush-annotation policy
     * @param reports the validator's reports
     * @param workErrors exceptions the items threw (under THROW, the predicted deadlock)
     */
    public record Outcome(FlushAnnotation policy, List<LockdepReport> reports, List<Throwable> workErrors) {
        /**
         * One line for the demo's table.
         *
         * @return the policy and the verdict
         */
        public String summary() {
            return String.format("mutual flush + %-16s -> %s", policy, reports.isEmpty() ? "no lockdep report (missed)"
                    : reports.size() + " lockdep report(s): " + reports.get(0).title()
                            + (reports.get(0).deferred() ? " (deferred)" : ""));
        }
    }

    private MutualFlushScenario() {
    }

    /**
     * Runs the scenario once on a fresh runtime and validator.
     *
     * @param policy the flush-annotation policy
     * @param reportPolicy the validator's report policy
     * @return what it observed
     */
    public static Outcome run(FlushAnnotation policy, ReportPolicy reportPolicy) {
        List<LockdepReport> reports = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Lockdep lockdep = Lockdep.builder().policy(reportPolicy).quiet().listener(reports::add).build();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(policy).uncaughtWorkHandler((q, w, e) -> errors.add(e)).build())) {
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            q1.queue(new Work("w1", q2::flush)); // q2 never used yet
            q1.flush();
            q2.queue(new Work("w2", q1::flush));
            q2.flush();
            q2.destroy();
            q1.destroy();
            return new Outcome(policy, List.copyOf(reports), List.copyOf(errors));
        }
    }
}
