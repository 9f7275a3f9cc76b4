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
 * LockdepReport.signature() tells leaks apart by the item's class and its queue's, by identity
 * ("two queues of one name are two problems", its javadoc). Before (README faults table) it
 * used the queue's name: two distinct queues that share a name (here: two runtimes sharing one
 * validator, each with a queue "q"), each with an item "leaker" returning with the same lock
 * held, were one signature, and under WARN ("every distinct report") the second leak was dropped.
 *
 * Correct behaviour: two queues, two leaks, two reports (as two differently named queues give:
 * Break12LdWarnDistinctReportsTest).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break12LdLeakSameNameQueuesTest {
    @Test
    void leaksOnTwoDistinctQueuesOfOneNameAreTwoReports() {
        List<LockdepReport> reports = new CopyOnWriteArrayList<>();
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
        try (WorkQueues rt1 = WorkQueues.create(WorkQueuesConfig.builder().name("rt1").validator(ld).build());
             WorkQueues rt2 = WorkQueues.create(WorkQueuesConfig.builder().name("rt2").validator(ld).build())) {
            WorkQueue q1 = rt1.queueBuilder("q").build();
            WorkQueue q2 = rt2.queueBuilder("q").build();
            q1.queue(new Work("leaker", () -> l.lock()));
            q1.flush();
            q2.queue(new Work("leaker", () -> l.lock()));
            q2.flush();
        }
        assertThat(reports).extracting(LockdepReport::kind)
                .containsExactly(LockdepReport.Kind.LEAKED_LOCK, LockdepReport.Kind.LEAKED_LOCK);
    }
}
