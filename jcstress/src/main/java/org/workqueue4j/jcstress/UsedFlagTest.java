package org.workqueue4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.ZZ_Result;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;

/**
 * The per-queue {@code used} flag ({@link WorkQueue#wasUsed()}, maintained while validation is
 * on): the first insert writes it with release under the pool lock, readers use acquire, so a
 * thread that happens-after a {@code queue} that returned true sees it. Flush, drain and destroy
 * decide with the same acquire read whether to annotate under SKIP_NEVER_USED, so a miss here
 * is a lost lockdep annotation there. Each state builds a fresh queue on
 * {@link SharedRuntime.Validated} (the flag is sticky) and destroys it in the arbiter.
 */
public class UsedFlagTest {

    /**
     * One thread queues and then raises a volatile flag; the other reads the flag, then
     * {@code used}: having seen the flag, it must see {@code used}.
     *
     * <p>Result: (the reader saw the flag, the reader saw {@code used}).
     */
    @JCStressTest
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Saw the flag and, through it, used.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "Read before the queue: neither.")
    @Outcome(id = "0, 1", expect = ACCEPTABLE_INTERESTING, desc = "Read between the queue and the flag: used only.")
    @Outcome(id = "1, 0", expect = FORBIDDEN,
            desc = "Stale used: the reader happens-after a successful queue yet reads the queue as never used.")
    @State
    public static class QueuePublishesUsed {
        final WorkQueue queue = SharedRuntime.Validated.newQueue("used/publish");
        final Work work = new Work("used/publish", SharedRuntime.Validated.WORK_CLASS, () -> { });
        volatile boolean queued;

        @Actor
        public void queuer() {
            if (queue.queue(work)) {
                queued = true;
            }
        }

        @Actor
        public void reader(II_Result r) {
            r.r1 = queued ? 1 : 0;
            r.r2 = queue.wasUsed() ? 1 : 0;
        }

        @Arbiter
        public void arbiter() {
            queue.destroy(); // drains the item
        }
    }

    /**
     * Two threads queue an item each to a fresh queue, one on CPU 0's pool and one on CPU 1's,
     * at the same time: only one of them writes {@code used} (the other reads it set and skips
     * the write), yet both items, run by workers of different pools, see it.
     *
     * <p>Result: (item on CPU 0 saw {@code used} when it ran, item on CPU 1 saw it).
     */
    @JCStressTest
    @Outcome(id = "true, true", expect = ACCEPTABLE, desc = "Both runs saw the queue as used.")
    @Outcome(expect = FORBIDDEN,
            desc = "An item ran on a queue that read as never used: the insert that skipped the write was not ordered after the one that made it.")
    @State
    public static class EveryRunSeesUsed {
        final WorkQueue queue = SharedRuntime.Validated.newQueue("used/runs");
        volatile boolean saw0;
        volatile boolean saw1;
        final Work on0 = new Work("used/cpu0", SharedRuntime.Validated.WORK_CLASS, () -> saw0 = queue.wasUsed());
        final Work on1 = new Work("used/cpu1", SharedRuntime.Validated.WORK_CLASS, () -> saw1 = queue.wasUsed());

        @Actor
        public void queuer0() {
            queue.queueOn(0, on0);
        }

        @Actor
        public void queuer1() {
            queue.queueOn(1, on1);
        }

        @Arbiter
        public void arbiter(ZZ_Result r) {
            queue.destroy(); // drains both items: their runs happen-before destroy returns
            r.r1 = saw0;
            r.r2 = saw1;
        }
    }
}
