package samples;

/**
 * A static synchronized method and an instance synchronized method that recurse until the stack
 * overflows; the program catches the StackOverflowError outside and goes on. Prints what was
 * caught, whether the monitors are still held, and then takes two monitors in one order only
 * (expected: no report). Expected: the same output with and without the agent.
 */
public final class DeepRecursionSample {
    private static int depth;
    private int own;

    static synchronized long down(long n) {
        depth++;
        return down(n + 1) + 1;
    }

    synchronized double deeper(double x) {
        own++;
        return deeper(x + 1.0) * 2.0;
    }

    /** Calls {@code r} from {@code n} frames deeper, so that the overflow strikes at another point each round. */
    static void pad(int n, Runnable r) {
        if (n == 0) {
            r.run();
        } else {
            pad(n - 1, r);
        }
    }

    static final class Registry {
    }

    public static void main(String[] args) throws Exception {
        for (int round = 0; round < 40; round++) {
            try {
                pad(round, () -> down(0));
                System.out.println("static: returned");
            } catch (StackOverflowError e) {
                System.out.println("static: StackOverflowError");
            } catch (Throwable t) {
                System.out.println("static: " + t.getClass().getName());
            }
        }
        System.out.println("class monitor held after: " + Thread.holdsLock(DeepRecursionSample.class));
        DeepRecursionSample s = new DeepRecursionSample();
        for (int round = 0; round < 40; round++) {
            try {
                pad(round, () -> s.deeper(0));
                System.out.println("instance: returned");
            } catch (StackOverflowError e) {
                System.out.println("instance: StackOverflowError");
            } catch (Throwable t) {
                System.out.println("instance: " + t.getClass().getName());
            }
        }
        System.out.println("instance monitor held after: " + Thread.holdsLock(s));
        // Only ever: Registry then the class monitor, on another thread; main now holds nothing.
        Registry registry = new Registry();
        Thread t = new Thread(() -> {
            synchronized (registry) {
                synchronized (DeepRecursionSample.class) {
                    depth = 0;
                }
            }
        });
        t.start();
        t.join(10_000);
        System.out.println("other thread ended: " + !t.isAlive());
        synchronized (registry) {
            System.out.println("registry taken");
        }
        System.out.println("done");
    }
}
