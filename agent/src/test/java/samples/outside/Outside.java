package samples.outside;

import java.util.concurrent.locks.Lock;

/** Code the agent is told not to instrument (HeldOutsideSample runs with exclude=samples.outside). */
public final class Outside {
    private Outside() {
    }

    /** Runs {@code r} holding {@code o}'s monitor. */
    public static void withMonitor(Object o, Runnable r) {
        synchronized (o) {
            r.run();
        }
    }

    /** Runs {@code r} holding {@code l}. */
    public static void withLock(Lock l, Runnable r) {
        l.lock();
        try {
            r.run();
        } finally {
            l.unlock();
        }
    }
}
