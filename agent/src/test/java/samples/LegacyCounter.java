package samples;

/**
 * Straight-line code only (no branches, no class literals, no string concatenation), so that
 * its class file is also a valid class file of an older version once the version is lowered
 * ({@link OldClassFileSample} does so at run time).
 */
public class LegacyCounter {
    private static int count;
    private int own;

    public static synchronized int next() {
        count = count + 1;
        return count;
    }

    public synchronized int bump() {
        own = own + 1;
        return own;
    }
}
