package org.workqueue4j.internal;

/**
 * The library's logger ({@code org.workqueue4j}), looked up on first use. {@code System.getLogger}
 * from a named or class-path module finds the {@code LoggerFinder}, which loads and configures
 * {@code java.util.logging} when that module is present: tens of milliseconds and ~150 classes.
 * A logger in a static field of a start-up class would make every {@code WorkQueues.create()} pay
 * that, although nothing is logged unless something goes wrong.
 */
public final class Log {
    private Log() {
    }

    /** Initialized on the first call of {@link #get()} (class initialization is the lock). */
    private static final class Holder {
        static final System.Logger LOG = System.getLogger("org.workqueue4j");
    }

    /** {@return the {@code org.workqueue4j} logger} */
    public static System.Logger get() {
        return Holder.LOG;
    }
}
