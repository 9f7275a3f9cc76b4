package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * The executor views wait for work items too: {@code awaitTermination} waits for every task of
 * the view (a drain), {@code Future.get()} for one task (a {@code work.flush()}), and so does a
 * {@code get()} of a queue's {@code flushAsync()} future (a {@code flush()}). Under a lock
 * the task takes, each is a real deadlock; SPEC §1: deadlocks between locks and work items are
 * reported "the first time the dangerous order happens". The queue's own {@code drain()} and
 * {@code Work.flush()} in the same spot are refused under THROW before blocking (checked here as
 * the control); the view's waits block until the caller's timeout, unreported.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break4LdExecutorViewWaitsTest {

    private static WorkQueues runtime(Lockdep ld) {
        return WorkQueues.create(WorkQueuesConfig.builder().validator(ld).flushAnnotation(FlushAnnotation.ALWAYS).build());
    }

    @Test
    void controlTheQueuesOwnFlushUnderTheLockIsRefused() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = runtime(ld)) {
            WorkQueue q = rt.queueBuilder("q").build();
            ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
            Runnable takesL = () -> {
                l.lock();
                l.unlock();
            };
            q.queue(new Work("takes-l", takesL));
            q.flush(); // learns q -> item -> L
            l.lock();
            try {
                q.queue(new Work("takes-l", takesL));
                PotentialDeadlockException e = null;
                try {
                    q.flush();
                } catch (PotentialDeadlockException x) {
                    e = x;
                }
                assertThat(e).as("control: flush under L").isNotNull();
            } finally {
                l.unlock();
            }
        }
    }

    @Test
    void futureGetUnderALockTheTaskTakesIsPredicted() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = runtime(ld)) {
            WorkQueue q = rt.queueBuilder("q").build();
            ExecutorService es = q.asExecutorService();
            ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
            Runnable takesL = () -> {
                l.lock();
                l.unlock();
            };
            es.submit(takesL).get(5, TimeUnit.SECONDS); // the task's order: (queue, task) -> L
            String outcome;
            l.lock();
            try {
                Future<?> f = es.submit(takesL);
                try {
                    f.get(1, TimeUnit.SECONDS);
                    outcome = "completed (the task got L?)";
                } catch (PotentialDeadlockException e) {
                    outcome = "refused";
                } catch (TimeoutException e) {
                    outcome = "blocked until the 1 s timeout, " + ld.reportCount() + " report(s)";
                }
            } finally {
                l.unlock();
            }
            assertThat(outcome)
                    .as("expected: Future.get() under L, for a task that takes L, refused under THROW before blocking"
                            + " (as Work.flush() is); actual: %s", outcome)
                    .isEqualTo("refused");
        }
    }

    @Test
    void awaitTerminationUnderALockATaskTakesIsPredicted() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = runtime(ld)) {
            WorkQueue q = rt.queueBuilder("q").build();
            ExecutorService es = q.asExecutorService();
            ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
            Runnable takesL = () -> {
                l.lock();
                l.unlock();
            };
            es.submit(takesL).get(5, TimeUnit.SECONDS);
            String outcome;
            l.lock();
            try {
                es.submit(takesL);
                es.shutdown();
                try {
                    outcome = es.awaitTermination(1, TimeUnit.SECONDS) ? "terminated (the task got L?)"
                            : "blocked until the 1 s timeout, " + ld.reportCount() + " report(s)";
                } catch (PotentialDeadlockException e) {
                    outcome = "refused";
                }
            } finally {
                l.unlock();
            }
            assertThat(outcome)
                    .as("expected: awaitTermination() under L, with a task that takes L still to run, refused under THROW"
                            + " before blocking (as drain() is); actual: %s", outcome)
                    .isEqualTo("refused");
        }
    }
    @Test
    void flushAsyncGetUnderALockAnItemTakesIsPredicted() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = runtime(ld)) {
            WorkQueue q = rt.queueBuilder("q").build();
            ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
            Runnable takesL = () -> {
                l.lock();
                l.unlock();
            };
            q.queue(new Work("takes-l", takesL));
            q.flush();
            String outcome;
            l.lock();
            try {
                q.queue(new Work("takes-l", takesL));
                try {
                    q.flushAsync().get(1, TimeUnit.SECONDS);
                    outcome = "completed (the item got L?)";
                } catch (PotentialDeadlockException e) {
                    outcome = "refused";
                } catch (TimeoutException e) {
                    outcome = "blocked until the 1 s timeout, " + ld.reportCount() + " report(s)";
                }
            } finally {
                l.unlock();
            }
            assertThat(outcome)
                    .as("expected: q.flushAsync().get() under L, with an item that takes L queued, refused under THROW"
                            + " before blocking (README: flushAsync() is flush() without a parked thread; flush() there is"
                            + " refused); actual: %s", outcome)
                    .isEqualTo("refused");
        }
    }
}
