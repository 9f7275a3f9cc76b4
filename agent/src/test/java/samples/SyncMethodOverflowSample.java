package samples;

import java.util.Map;
import java.util.TreeMap;

/**
 * A synchronized method holding a synchronized block that recurses, on a fresh object per frame,
 * until the stack overflows. Prints the errors that reached main over 40 rounds: without the
 * agent only StackOverflowErrors (the JVM releases each frame's monitors as the error passes).
 */
public final class SyncMethodOverflowSample {
    final Object b = new Object();

    synchronized void run(int d) {
        synchronized (b) {
            new SyncMethodOverflowSample().run(d + 1);
        }
    }

    public static void main(String[] args) {
        Map<String, Integer> errors = new TreeMap<>();
        for (int round = 0; round < 40; round++) {
            try {
                new SyncMethodOverflowSample().run(0);
            } catch (Throwable t) {
                errors.merge(t.getClass().getName(), 1, Integer::sum);
            }
        }
        System.out.println("errors " + errors);
    }
}
