package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * A latent wait deferred before a Lockdep.reset() is forgotten with the reset. Before (README
 * faults table; a first fix skipped only classes freed in the same generation): the kept
 * classes belonged to the old generation, so the replay never skipped them and classAs()
 * registered the destroyed queue q1's key in the new graph: a class of a destroyed
 * queue that nothing frees any more (its unregisterKey has run), exactly what
 * Break12LdLatentReplayResurrectsClassTest says must not happen.
 *
 * Correct behaviour: after q2's first use, no class of the destroyed queue q1 is in the graph,
 * whether reset() came before or after q1's destroy.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break12LdLatentReplayAfterResetResurrectsTest {

    private static List<String> classNames(Lockdep ld) {
        return ld.snapshot().classes().stream().map(LockdepSnapshot.ClassInfo::name).toList();
    }

    private void run(boolean resetBeforeDestroy) {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(ld).build())) { // DEFER_UNTIL_USED
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            q1.queue(new Work("flusher", () -> q2.flush())); // q2 never used: a latent wait holding [q1, flusher]
            q1.flush();
            if (resetBeforeDestroy) {
                ld.reset();
                q1.destroy();
            } else {
                q1.destroy();
                ld.reset();
            }
            assertThat(classNames(ld)).as("control: no class of q1 before the replay").noneMatch(n -> n.contains("q1"));
            q2.queue(new Work("first-use", () -> { })); // replays the latent wait
            q2.flush();
            assertThat(classNames(ld)).as("no class of the destroyed queue q1 after the replay").noneMatch(n -> n.contains("q1"));
        }
    }

    @Test
    void destroyThenResetThenReplay() {
        run(false);
    }

    @Test
    void resetThenDestroyThenReplay() {
        run(true);
    }
}
