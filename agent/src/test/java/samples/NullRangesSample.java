package samples;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Null locks inside synchronized blocks and methods, try/catch/finally and loops: the
 * NullPointerException must be caught by the same handler, with the same message and the same
 * sample frames (line numbers), the monitors released, as without the agent. Prints one block
 * per case; then a nested-monitor ordering that must stay silent.
 */
public final class NullRangesSample {
    private ReentrantLock lock; // never set
    private Condition cond; // never set
    private final Object m = new Object();
    private final Object n = new Object();
    private int finallies;

    synchronized void inSyncMethod() {
        try {
            lock.lockInterruptibly();
        } catch (InterruptedException e) {
            System.out.println("interrupted");
        } finally {
            finallies++;
        }
    }

    static synchronized boolean timed(ReentrantLock l, long t) throws InterruptedException {
        return l.tryLock(t, TimeUnit.MILLISECONDS);
    }

    void nested() {
        synchronized (m) {
            synchronized (n) {
                for (int i = 0; i < 2; i++) {
                    try {
                        if (i == 1) {
                            lock.unlock();
                        }
                    } catch (IllegalStateException e) {
                        System.out.println("wrong handler");
                    }
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        NullRangesSample s = new NullRangesSample();
        try {
            synchronized (s.m) {
                s.lock.lock();
            }
        } catch (NullPointerException e) {
            print("block", e, s);
        }
        try {
            s.inSyncMethod();
        } catch (NullPointerException e) {
            print("sync-method", e, s);
        }
        try {
            timed(null, 5L);
        } catch (NullPointerException e) {
            print("static-timed", e, s);
        }
        try {
            s.nested();
        } catch (NullPointerException e) {
            print("nested-loop", e, s);
        }
        Runnable r = () -> {
            synchronized (s.n) {
                s.cond.awaitUninterruptibly();
            }
        };
        try {
            r.run();
        } catch (NullPointerException e) {
            print("lambda", e, s);
        }
        // the same monitors in nested()'s order afterwards: silent unless something was left held
        for (int i = 0; i < 3; i++) {
            synchronized (s.m) {
                synchronized (s.n) {
                    s.finallies += 0;
                }
            }
        }
        System.out.println("done, finallies " + s.finallies);
    }

    private static void print(String scenario, Throwable e, NullRangesSample s) {
        System.out.println(scenario + ": " + e.getClass().getName() + ": " + e.getMessage());
        for (StackTraceElement f : e.getStackTrace()) {
            if (f.getClassName().startsWith("samples.")) {
                System.out.println("  at " + f);
            }
        }
        System.out.println("  holds m " + Thread.holdsLock(s.m) + ", n " + Thread.holdsLock(s.n) + ", this "
                + Thread.holdsLock(s) + ", class " + Thread.holdsLock(NullRangesSample.class));
    }
}
