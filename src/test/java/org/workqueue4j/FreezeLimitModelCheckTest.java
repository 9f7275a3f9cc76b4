package org.workqueue4j;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Model checking of freeze, thaw and max_active changes racing one another and the queue
 * (defect 4 of issue 12): the same engine and model as {@link QueueModelCheckTest}, with
 * {@code freeze}, {@code thaw} and {@code setMaxActive} free to run concurrently. A queue that
 * ends frozen must run nothing more; a thaw must not restore a limit a concurrent
 * {@code setMaxActive} replaced.
 *
 * <p>Fixed scenarios only, with items run after the race: random ones would also overlap a run
 * with a freeze, where an item queued during the run waits inactive behind the running one's
 * slot, which the atomic model cannot express (see {@link QueueModelCheckTest}).
 */
@Param(name = "item", gen = IntGen.class, conf = "0:1")
@Param(name = "limit", gen = IntGen.class, conf = "1:2")
public class FreezeLimitModelCheckTest {
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

    @Operation(nonParallelGroup = "worker")
    public int runOne() {
        return s.runOne();
    }

    @Operation
    public void setMaxActive(@Param(name = "limit") int n) {
        s.setMaxActive(n);
    }

    @Operation
    public void freeze() {
        s.freeze();
    }

    @Operation
    public void thaw() {
        s.thaw();
    }

    @Validate
    public void accounting() {
        s.checkAccounting();
    }

    // The three races of defect 4, each a fixed scenario whose interleavings are all explored.
    // Each fails on the unfixed engine (see the README's faults table).

    /** A setMaxActive that read "not frozen" applies its limit after a concurrent freeze: the frozen queue runs a new item. */
    @Test
    @Timeout(900)
    void freezeRacingSetMaxActive() {
        check(Scenarios.ops(), new String[][] {{"freeze"}, {"setMaxActive:2"}}, Scenarios.ops("queue:0", "runOne"));
    }

    /** A thaw applies the limit it read after a concurrent setMaxActive applied a new one (seen once frozen again). */
    @Test
    @Timeout(900)
    void thawRacingSetMaxActive() {
        check(Scenarios.ops("freeze"), new String[][] {{"thaw"}, {"setMaxActive:2"}},
                Scenarios.ops("queue:0", "queue:1", "freeze", "runOne", "runOne"));
    }

    /**
     * A freeze's limit 0 lands after a concurrent thaw: the queue ends thawed with limit 0 and
     * runs nothing, and a later setMaxActive (which sees it thawed) starts what a frozen queue
     * would keep waiting.
     */
    @Test
    @Timeout(900)
    void freezeRacingThaw() {
        check(Scenarios.ops(), new String[][] {{"freeze"}, {"thaw"}}, Scenarios.ops("queue:0", "runOne", "setMaxActive:2", "runOne"));
    }

    /**
     * setMaxActive(0) limits the queue to 1, as the kernel clamps it (defect 12 of issue 12: it
     * set the default, 1024): of two items queued after it, the second waits inactive and a
     * freeze keeps it waiting.
     */
    @Test
    @Timeout(900)
    void setMaxActiveZeroClampsToOne() {
        check(Scenarios.ops("setMaxActive:0"), new String[][] {{"queue:0"}, {"queue:1"}},
                Scenarios.ops("freeze", "runOne", "runOne"));
    }

    private static void check(String[] initial, String[][] parallel, String[] post) {
        QueueModelCheckTest.options(0, Integer.getInteger("workqueue4j.mc.invocations", 100))
                .addCustomScenario(Scenarios.of(FreezeLimitModelCheckTest.class, initial, parallel, post))
                .check(FreezeLimitModelCheckTest.class);
    }
}
