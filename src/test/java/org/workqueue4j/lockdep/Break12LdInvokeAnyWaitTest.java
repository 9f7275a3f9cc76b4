package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * Before (README faults table): an executor view's {@code invokeAny} waits for its tasks (through an
 * {@code ExecutorCompletionService}'s queue, not through {@code Future.get()}), so the wait is
 * never recorded for the validator. Under a lock that the only task takes it is a real deadlock
 * (untimed {@code invokeAny} hangs for ever); here the 1 s bound runs out with no report.
 *
 * <p>Correct behaviour (SPEC §1 and §5 THROW: the dangerous order is reported the first time,
 * thrown before blocking; README's faults table records {@code Future.get()},
 * {@code awaitTermination()} and a {@code flushAsync()} future's {@code get}/{@code join} the
 * same way, {@code Break4LdExecutorViewWaitsTest}): {@code invokeAny} under L, every task of
 * which takes L, throws {@link PotentialDeadlockException} before it blocks, as
 * {@code submit(task).get()} in the same spot does (the control).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break12LdInvokeAnyWaitTest {

    private static WorkQueues runtime(Lockdep ld) {
        return WorkQueues.create(WorkQueuesConfig.builder().validator(ld).flushAnnotation(FlushAnnotation.ALWAYS).build());
    }

    private static String underL(ValidatedLock l, Callable<String> wait) {
        l.lock();
        try {
            wait.call();
            return "completed (the task got L?)";
        } catch (PotentialDeadlockException e) {
            return "refused";
        } catch (TimeoutException e) {
            return "blocked until the 1 s timeout, unreported";
        } catch (Exception e) {
            return "failed: " + e;
        } finally {
            l.unlock();
        }
    }

    /** Learns (q, task) -> L with one task that takes L, then runs {@code wait} under L: what happened. */
    private static String waitUnderTheLockItsTaskTakes(
            java.util.function.BiFunction<ExecutorService, Callable<String>, Callable<String>> wait) throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = runtime(ld)) {
            ExecutorService es = rt.queueBuilder("q").build().asExecutorService();
            ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
            Callable<String> takesL = () -> {
                l.lock();
                l.unlock();
                return "ran";
            };
            es.submit(takesL).get(5, TimeUnit.SECONDS); // learns (q, task) -> L
            return underL(l, wait.apply(es, takesL));
        }
    }

    @Test
    void controlFutureGetUnderTheLockIsRefused() throws Exception {
        assertThat(waitUnderTheLockItsTaskTakes((es, task) -> () -> es.submit(task).get(1, TimeUnit.SECONDS)))
                .isEqualTo("refused");
    }

    @Test
    void invokeAnyUnderALockEveryTaskTakesIsPredicted() throws Exception {
        String outcome = waitUnderTheLockItsTaskTakes((es, task) -> () -> es.invokeAny(List.of(task), 1, TimeUnit.SECONDS));
        assertThat(outcome)
                .as("invokeAny under L, whose only task takes L, refused under THROW before blocking; actual: %s", outcome)
                .isEqualTo("refused");
    }
}
