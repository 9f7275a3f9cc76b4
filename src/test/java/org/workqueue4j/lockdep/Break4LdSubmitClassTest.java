package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * README "Which lock class an item has": the class of the item's function, so items from the
 * same lambda share a class and unrelated ones do not; a generic wrapper shares one class, and
 * the way out is {@code new Work(name, key, fn)}. The executor views wrap every {@code submit()}
 * in their own future class, so every task submitted to any view of any queue shares one class,
 * and there is no way to give a key: a lock taken by a task of one queue is charged to the
 * tasks of every other queue. Here q2's only task takes nothing, yet flushing q2 under L is
 * reported because a task of q1 took L.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break4LdSubmitClassTest {

    @Test
    void unrelatedSubmittedTasksOfTwoQueuesAreNotOneClass() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(ld)
                .flushAnnotation(FlushAnnotation.ALWAYS).build())) {
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            ExecutorService es1 = q1.asExecutorService();
            ExecutorService es2 = q2.asExecutorService();
            ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
            es1.submit(() -> {
                l.lock();
                l.unlock();
            }).get(5, TimeUnit.SECONDS);
            es2.submit(() -> {
                // takes no lock
            }).get(5, TimeUnit.SECONDS);
            String outcome = "silent";
            l.lock();
            try {
                q2.flush(); // q2's tasks take no lock: no cycle
            } catch (PotentialDeadlockException e) {
                outcome = e.report().title() + " / chain: " + e.report().classes();
            } finally {
                l.unlock();
            }
            assertThat(outcome)
                    .as("expected: flushing q2 under L silent (no task of q2 takes L); actual: %s", outcome)
                    .isEqualTo("silent");
        }
    }
}
