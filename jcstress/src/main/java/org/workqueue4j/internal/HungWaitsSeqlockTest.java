package org.workqueue4j.internal;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.VarHandle;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The hung-waiter record's single-writer sequence lock ({@link HungWaits}): the waiting thread
 * writes a wait's fields (plain, as the engine has them) and bumps {@code seq} to odd; end()
 * bumps it to even and clears the fields; the next wait rewrites them and bumps it to odd
 * again. The monitor reads {@code seq}, the fields, an acquire fence, {@code seq} again, as
 * {@code HungWaits.check} does: equal and odd, the fields it read must be that wait's. A
 * validated stamp with the next wait's fields (or the cleared ones) is a report naming the
 * wrong queue or item. This package, not the jcstress one, because HungWaits is internal (on
 * jcstress's class path the package is shared).
 */
@JCStressTest
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "No stable wait seen (none yet, between waits, or torn and skipped).")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The first wait, validated, with its own op.")
@Outcome(id = "3, 2", expect = ACCEPTABLE_INTERESTING, desc = "The second wait, validated, with its own op.")
@Outcome(id = {"1, 2", "1, 3", "1, 0"}, expect = FORBIDDEN,
        desc = "The first wait's stamp validated with the next wait's (or end()'s cleared) fields.")
@Outcome(id = {"3, 1", "3, 3", "3, 0"}, expect = FORBIDDEN,
        desc = "The second wait's stamp validated with stale fields.")
@State
public class HungWaitsSeqlockTest {
    private final HungWaits hung = new HungWaits(true);

    @Actor
    public void waiter() {
        HungWaits.Waiter w = hung.begin("first", null, null);
        hung.end(w);
        hung.begin("second", null, null); // left recorded: the state is dropped after the round
    }

    @Actor
    public void monitor(II_Result r) {
        for (HungWaits.Waiter w : hung.waiters) { // the record of the waiter actor, once made
            int stamp = w.seq;
            if ((stamp & 1) == 0) {
                return;
            }
            String op = w.op;
            VarHandle.acquireFence(); // as HungWaits.check: the field reads come before the re-read
            if (w.seq != stamp) {
                return;
            }
            r.r1 = stamp;
            r.r2 = switch (op) {
                case "first" -> 1;
                case "second" -> 2;
                case "" -> 0;
                default -> 3;
            };
        }
    }
}
