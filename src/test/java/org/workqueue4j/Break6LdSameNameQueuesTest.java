package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * Break6, defect (workqueue face of {@code lockdep.Break6LdSameNameClassesTest}): each queue has
 * a lock class of its own ("(wq_completion)name", the kernel's dynamic per-queue key), but two
 * queues of one name share a report signature. Holding M around {@code flush()} of a queue whose
 * item takes M is a deadlock (FlushAsLockTest); done on a second queue named alike, it is a
 * second, distinct deadlock (another queue, another M -&gt; queue dependency). Kernel: two
 * circular reports, the second naming "(wq_completion)io#2". Ours under WARN ("every distinct
 * report"): the second is dropped.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break6LdSameNameQueuesTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private WorkQueues rt;

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    @Test
    void twoQueuesOfOneNameEachFlushedUnderALockTheirItemTakesAreTwoReports() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(FlushAnnotation.ALWAYS).build());
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        for (int i = 0; i < 2; i++) {
            WorkQueue q = rt.queueBuilder("io").build();
            q.queue(new Work("takes-m", () -> {
                m.lock();
                m.unlock();
            }));
            q.flush();         // Q -> W -> M
            m.lock();
            try {
                q.flush();     // M -> Q: circular, for this queue
            } finally {
                m.unlock();
            }
        }
        assertThat(reports).as("kernel: one circular report per queue; ours: %s", reports)
                .hasSize(2).allSatisfy(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }
}
