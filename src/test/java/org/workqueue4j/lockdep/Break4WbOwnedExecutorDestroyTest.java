package org.workqueue4j.lockdep;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * An executor view that owns its queue (WorkQueue.Builder.buildExecutorService) destroys that
 * queue from an item of the runtime's system_unbound queue once terminated
 * (WorkQueueExecutorService.tryTerminate). A task of the view that flushed system_unbound (a
 * legal wait: another queue) has taught the validator "owned -> system_unbound"; the library's
 * own destroy item then records "system_unbound -> owned".
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break4WbOwnedExecutorDestroyTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> handled = new CopyOnWriteArrayList<>();
    private WorkQueues rt;

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    private void build(ReportPolicy policy) {
        Lockdep lockdep = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> handled.add(e)).build());
    }

    /**
     * Under THROW: the destroy item's flush of the owned queue throws PotentialDeadlockException
     * on the system_unbound worker, markTerminated() is never reached (the item is
     * "queue.destroy(); markTerminated();"), and the view never terminates although every task
     * finished and shutdown() was called.
     */
    @Test
    void anOwnedViewTerminatesAfterATaskFlushedSystemUnbound() throws Exception {
        build(ReportPolicy.THROW);
        rt.systemUnbound().execute(() -> { }); // system_unbound used
        ExecutorService ex = rt.queueBuilder("owned").buildExecutorService();
        ex.submit(() -> rt.systemUnbound().flush()).get(10, TimeUnit.SECONDS);
        ex.shutdown();
        boolean terminated = ex.awaitTermination(10, TimeUnit.SECONDS);
        assertTrue(terminated, "expected the view to terminate after shutdown() with no task left; actual: not"
                + " terminated after 10 s; handler got " + handled + "; validator reports "
                + reports.stream().map(LockdepReport::title).toList());
    }

    /**
     * Under the default policy: no report should come from the library's own destroy of an owned
     * queue (the user never waits for system_unbound while the owned queue is being destroyed:
     * the destroy is queued only once no task is left).
     */
    @Test
    void theOwnedViewsOwnDestroyRaisesNoDependencyReport() throws Exception {
        build(ReportPolicy.WARN);
        rt.systemUnbound().execute(() -> { });
        ExecutorService ex = rt.queueBuilder("owned").buildExecutorService();
        ex.submit(() -> rt.systemUnbound().flush()).get(10, TimeUnit.SECONDS);
        ex.shutdown();
        assertTrue(ex.awaitTermination(10, TimeUnit.SECONDS), "terminated");
        assertTrue(reports.isEmpty(), "expected no validator report from the view's own destroy of its queue; actual: "
                + reports.stream().map(LockdepReport::summary).toList());
    }
}
