package samples;

import java.util.Map;
import java.util.TreeMap;

/**
 * Nested synchronized blocks on two fresh monitors per frame, recursing until the stack
 * overflows; each frame catches the StackOverflowError after its outer block, notes whether it
 * still holds its outer monitor (never, without the agent: the outer block's handler exits it),
 * and re-throws. Prints, per run of 40 rounds, the errors that reached main and the leak flag.
 */
public final class NestedOverflowSample {
    static volatile boolean leaked;

    static void recurse(int d) {
        Object a = new Object();
        Object b = new Object();
        try {
            synchronized (a) {
                synchronized (b) {
                    recurse(d + 1);
                }
            }
        } catch (StackOverflowError e) {
            if (Thread.holdsLock(a)) {
                leaked = true;
            }
            throw e;
        }
    }

    public static void main(String[] args) {
        Map<String, Integer> errors = new TreeMap<>();
        for (int round = 0; round < 40; round++) {
            try {
                recurse(0);
            } catch (Throwable t) {
                errors.merge(t.getClass().getName(), 1, Integer::sum);
            }
        }
        System.out.println("errors " + errors + ", outer monitor left held: " + leaked);
    }
}
