package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * {@code FlushAnnotation.DEFER_UNTIL_USED} (the default) keeps an item's flush of a never-used
 * queue q2 as a latent wait holding the worker's held stack, q1's map included. If q1 is
 * destroyed before q2's first use, q1's classes are freed (README "Long-running services": "A
 * destroyed queue's class is freed with its dependencies and chains (the kernel's
 * lockdep_unregister_key())"). Before (README faults table): the replay on q2's first use ({@code Lockdep.addLatentWaits},
 * {@code classAs} on each kept map) registers q1's key again and creates a new
 * {@code (wq_completion)q1} class in the graph, which nothing frees any more (its queue's
 * {@code unregisterKey} has already run): a class of a destroyed queue lives as long as anything
 * references the queue object.
 *
 * <p>Correct behaviour: the replay does not bring a freed class back; entries of the latent
 * stack whose key was unregistered are skipped (what they implied is kept elsewhere, see
 * {@code DependencyGraph.Implied}), so after q2's first use no class of q1 is in the graph, as
 * after q1's destroy.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break12LdLatentReplayResurrectsClassTest {

    private static List<String> classNames(Lockdep ld) {
        return ld.snapshot().classes().stream().map(LockdepSnapshot.ClassInfo::name).toList();
    }

    /** Each step between the deferral and the replay. */
    enum Between { DESTROY, RESET_THEN_DESTROY, DESTROY_THEN_RESET }

    /**
     * An item of q1 flushes the never-used q2 (a latent wait holding [q1, flusher]); then q1 is
     * destroyed, with or without a reset() before or after; then q2's first use replays.
     * Before (README faults table): the replay registered q1's key again; a first fix still did
     * after a reset() (it skipped only classes freed in the same generation). A latent wait
     * deferred before a reset() is now forgotten with it.
     */
    @ParameterizedTest
    @EnumSource(Between.class)
    void aLatentWaitReplayedAfterItsQueueWasDestroyedDoesNotRecreateThatQueuesClass(Between between) {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(ld).build())) { // DEFER_UNTIL_USED
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            q1.queue(new Work("flusher", () -> q2.flush())); // q2 never used: a latent wait holding [q1, flusher]
            q1.flush();
            if (between == Between.RESET_THEN_DESTROY) {
                ld.reset();
            }
            q1.destroy();
            if (between == Between.DESTROY_THEN_RESET) {
                ld.reset();
            }
            assertThat(classNames(ld)).as("control: q1's classes are freed by its destroy").noneMatch(n -> n.contains("q1"));
            q2.queue(new Work("first-use", () -> { })); // replays the latent wait
            q2.flush();
            assertThat(classNames(ld)).as("no class of the destroyed queue q1 after the replay").noneMatch(n -> n.contains("q1"));
            assertThat(ld.reportCount()).isZero();
        }
    }
}
