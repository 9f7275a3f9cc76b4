package samples;

/**
 * A method whose synchronized block recurses until the stack overflows; the program catches
 * the StackOverflowError outside, in rounds that start at varying stack depths, on a daemon
 * thread (main gives up after 20 s and says so). Expected: "done" with every round a
 * StackOverflowError, as without the agent.
 */
public final class BlockOverflowSample {
    private static final Object LOCK = new Object();
    private static long calls;

    static long down(long n) {
        synchronized (LOCK) {
            calls++;
            return down(n + 1) + 1;
        }
    }

    static void pad(int n, Runnable r) {
        if (n == 0) {
            r.run();
        } else {
            pad(n - 1, r);
        }
    }

    public static void main(String[] args) throws InterruptedException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        StringBuilder results = new StringBuilder();
        Thread t = new Thread(null, () -> {
            for (int round = 0; round < rounds; round++) {
                try {
                    pad(round, () -> down(0));
                    results.append('r');
                } catch (StackOverflowError e) {
                    results.append('.');
                } catch (Throwable e) {
                    results.append('X');
                    System.out.println("round " + round + ": " + e);
                }
            }
        }, "recursing", 512 * 1024);
        t.setDaemon(true);
        t.start();
        t.join(20_000);
        if (t.isAlive()) {
            StackTraceElement[] st = t.getStackTrace();
            System.out.println("still running after 20 s, " + results.length() + " rounds done; top frames:");
            for (int i = 0; i < Math.min(4, st.length); i++) {
                System.out.println("  " + st[i]);
            }
        } else {
            System.out.println("rounds " + results);
            System.out.println("lock held after: " + Thread.holdsLock(LOCK));
            System.out.println("done");
        }
    }
}
