package org.workqueue4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.AcquireMode;

/**
 * {@link Held} under a {@link StackOverflowError} (the agent's hooks run at the user's stack
 * depth, so one may strike inside them): a growing push or a shift is tried at every frame of a
 * stack unwinding from an overflow, so that the error strikes at each point of it in turn; the
 * thread's record must stay usable, never half grown (the next push then indexed past the short
 * arrays, on every later lock of the thread).
 */
class HeldOverflowTest {
    private static final int ROUNDS = 20;

    private static Held full() {
        Held h = new Held();
        while (h.depth < h.objs.length) {
            h.push(new Object(), Held.MONITOR, null, AcquireMode.EXCLUSIVE, true);
        }
        return h;
    }

    /** Recurses until the stack overflows; on the way back, each frame tries a growing push. */
    private static void pushWhileUnwinding(Held h) {
        try {
            pushWhileUnwinding(h);
        } catch (StackOverflowError e) {
            if (h.depth == h.objs.length) {
                h.push(new Object(), Held.MONITOR, null, AcquireMode.EXCLUSIVE, true);
            }
            throw e;
        }
    }

    /** The same with a removal of the oldest entry (the longest shift). */
    private static void removeWhileUnwinding(Held h, int until) {
        try {
            removeWhileUnwinding(h, until);
        } catch (StackOverflowError e) {
            if (h.depth > until) {
                h.remove(0);
            }
            throw e;
        }
    }

    private static void assertConsistent(Held h) {
        int n = h.objs.length;
        assertThat(new int[] {h.keys.length, h.maps.length, h.modes.length, h.counts.length, h.tracked.length})
                .as("every array of the record has the same length")
                .containsOnly(n);
        assertThat(h.depth).isBetween(0, n);
        // still usable: grow well past the capacity, then empty it again
        for (int i = 0; i < 3 * n; i++) {
            h.push(new Object(), Held.MONITOR, null, AcquireMode.EXCLUSIVE, true);
        }
        while (h.depth > 0) {
            h.remove(h.depth - 1);
        }
    }

    @Test
    void anErrorInsideAGrowingPushLeavesTheRecordUsable() {
        for (int round = 0; round < ROUNDS; round++) {
            Held h = full();
            try {
                pushWhileUnwinding(h);
            } catch (StackOverflowError expected) {
                // the overflow reaches the top: what matters is the record it leaves
            }
            assertConsistent(h);
        }
    }

    @Test
    void anErrorInsideAnOutOfOrderRemoveKeepsEachEntryWhole() {
        for (int round = 0; round < ROUNDS; round++) {
            Held h = new Held();
            Object[] locks = new Object[64];
            for (int i = 0; i < locks.length; i++) {
                locks[i] = new Object();
                h.push(locks[i], Held.MONITOR, null, i % 2 == 0 ? AcquireMode.EXCLUSIVE : AcquireMode.READ, i % 3 == 0);
                h.counts[i] = i + 1;
            }
            try {
                removeWhileUnwinding(h, 32);
            } catch (StackOverflowError expected) {
                // as above
            }
            // whatever was removed, every entry left is one whole original entry, in order
            int last = -1;
            for (int j = 0; j < h.depth; j++) {
                int i = indexOf(locks, h.objs[j]);
                assertThat(i).as("entry %d is one of the locks pushed, after the one before it", j).isGreaterThan(last);
                assertThat(h.counts[j]).as("entry %d's count", j).isEqualTo(i + 1);
                assertThat(h.modes[j]).isEqualTo(i % 2 == 0 ? AcquireMode.EXCLUSIVE : AcquireMode.READ);
                assertThat(h.tracked[j]).isEqualTo(i % 3 == 0);
                last = i;
            }
            assertConsistent(h);
        }
    }

    private static int indexOf(Object[] a, Object o) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == o) {
                return i;
            }
        }
        return -1;
    }
}
