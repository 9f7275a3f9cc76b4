package org.workqueue4j;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Model checking of the queue operations against {@link QueueModel}: Lincheck generates random
 * scenarios of these operations on 3 threads and explores their interleavings deterministically
 * (thread switches at every shared-memory access and lock operation of the engine), then checks
 * that each run's results equal some sequential order on the model, and that every successful
 * queue ended in exactly one run or cancel ({@link #accounting()}). {@link #flushWork} links a
 * work-flush barrier ({@code Work.flushAsync()}) behind a plain item; the barriers race cancels,
 * runs, max_active changes and freezes, and each completed one checks the flush contract.
 *
 * <p>Items run in {@link #runOne()}, through the engine's own worker code on the calling thread
 * (one worker thread: the operations that run items share one group). max_active changes and
 * freeze/thaw share that group, so they never overlap a run or one another: a run holds its
 * active slot until it completes, so an item queued during a run can wait inactive and stay so
 * if a freeze lands before the completion, a state the atomic model cannot express. Their races
 * with one another (defect 4 of issue 12) are {@link FreezeLimitModelCheckTest}'s.
 */
@Param(name = "item", gen = IntGen.class, conf = "0:1")
@Param(name = "anyItem", gen = IntGen.class, conf = "0:2")
@Param(name = "limit", gen = IntGen.class, conf = "1:2")
public class QueueModelCheckTest {
    static final int INITIAL_MAX_ACTIVE = 1;

    private final ModelCheckedQueue s = new ModelCheckedQueue();

    @BeforeAll
    static void quietLogging() {
        ModelCheckedQueue.quietLogging(); // again, for a JVM where another model-check class restored it
    }

    @AfterAll
    static void restoreLogging() {
        ModelCheckedQueue.restoreLogging(); // a SEVERE level left behind hides the warnings later classes assert on
    }

    @Operation
    public boolean queue(@Param(name = "item") int i) {
        return s.queue(i);
    }

    @Operation
    public boolean cancel(@Param(name = "anyItem") int i) {
        return s.cancel(i);
    }

    @Operation(nonParallelGroup = "worker")
    public int runOne() {
        return s.runOne();
    }

    @Operation(nonParallelGroup = "worker")
    public void setMaxActive(@Param(name = "limit") int n) {
        s.setMaxActive(n);
    }

    @Operation(nonParallelGroup = "worker")
    public void freeze() {
        s.freeze();
    }

    @Operation(nonParallelGroup = "worker")
    public void thaw() {
        s.thaw();
    }

    @Operation(nonParallelGroup = "flusher")
    public void flush() {
        s.flush();
    }

    @Operation
    public boolean flushWork(@Param(name = "item") int i) {
        return s.flushWork(i);
    }

    @Operation
    public boolean queueDelayed() {
        return s.queueDelayed();
    }

    @Operation
    public boolean modDelayed() {
        return s.modDelayed();
    }

    @Operation
    public boolean expire() {
        return s.expire();
    }

    @Validate
    public void accounting() {
        s.checkAccounting();
    }

    /** The CI configuration: a few minutes at most on a shared 2-core machine. */
    @Test
    @Timeout(900)
    void modelCheck() {
        options(Integer.getInteger("workqueue4j.mc.iterations", 6), Integer.getInteger("workqueue4j.mc.invocations", 100))
                .check(QueueModelCheckTest.class);
    }

    /** The long configuration, by hand (see README, "Model checking"). */
    @Test
    @Tag("long")
    @Timeout(7200)
    void modelCheckLong() {
        options(Integer.getInteger("workqueue4j.mc.iterations", 400), Integer.getInteger("workqueue4j.mc.invocations", 5000))
                .actorsPerThread(4)
                .check(QueueModelCheckTest.class);
    }

    static ModelCheckingOptions options(int iterations, int invocations) {
        return new ModelCheckingOptions()
                .iterations(iterations)
                .invocationsPerIteration(invocations)
                .threads(3)
                .actorsPerThread(3)
                .actorsBefore(2)
                .actorsAfter(3)
                .minimizeFailedScenario(Boolean.parseBoolean(System.getProperty("workqueue4j.mc.minimize", "true")))
                .sequentialSpecification(QueueModel.class);
    }
}
