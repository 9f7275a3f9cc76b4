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

    /**
     * Set once a record went through the logger (volatile: a plain flag would do, as a stale
     * false only costs one more probe; volatile keeps the check honest across threads).
     */
    private static volatile boolean published;

    /**
     * Until a record has gone through the logger, probes the stack deep first: the first record
     * initializes the JDK's logging (the LoggerFinder, java.util.logging, the formatter's locale
     * providers) far deeper than the caller, and an overflow inside those initializations marks
     * the JDK's classes failed for the JVM's life, so that every later record of every library
     * fails (FirstUseOverflowTest). Struck here, the overflow sends this one record to
     * System.err, and the next record, made at a normal depth, initializes the logging.
     */
    private static void probeBeforeFirstRecord() {
        if (!published) {
            WorkerPool.probeStackForFirstLog();
        }
    }

    /** Initialized on the first call of {@link #get()} (class initialization is the lock). */
    private static final class Holder {
        static final System.Logger LOG = System.getLogger("org.workqueue4j");
    }

    /** {@return the {@code org.workqueue4j} logger} */
    public static System.Logger get() {
        return Holder.LOG;
    }

    /**
     * Logs {@code message} with {@code thrown} (may be null) and never throws: the engine logs
     * in the middle of its own work (a destroy reporting each armed item, the timer thread
     * surviving an error), and a logging back end that fails must not abort that work halfway.
     * A record the logger refuses goes to {@code System.err}, with the logger's own failure, so it
     * is never lost silently.
     *
     * @param level the level
     * @param message the complete message
     * @param thrown the exception to attach, or null
     */
    public static void log(System.Logger.Level level, String message, Throwable thrown) {
        try {
            probeBeforeFirstRecord();
            if (thrown == null) {
                get().log(level, message);
            } else {
                get().log(level, message, thrown);
            }
            published = true;
        } catch (Throwable failure) {
            toStandardError(level + " " + message, thrown, failure);
        }
    }

    /**
     * Logs a {@link java.text.MessageFormat} pattern with its parameters; never throws (see
     * {@link #log(System.Logger.Level, String, Throwable)}).
     *
     * @param level the level
     * @param format the pattern
     * @param params its parameters
     */
    public static void logFormat(System.Logger.Level level, String format, Object... params) {
        try {
            probeBeforeFirstRecord();
            get().log(level, format, params);
            published = true;
        } catch (Throwable failure) {
            toStandardError(level + " " + format + " " + java.util.Arrays.toString(params), null, failure);
        }
    }

    /**
     * {@code String.valueOf(t)} for a message, never throwing: a user's exception's
     * {@code toString()} (through {@code getMessage()}) is user code and may throw itself.
     *
     * @param t the exception to describe, or null
     * @return its description, or its class name and what its {@code toString()} threw
     */
    public static String describe(Throwable t) {
        try {
            return String.valueOf(t);
        } catch (Throwable failure) {
            return t.getClass().getName() + " (its toString() threw " + failure.getClass().getName() + ")";
        }
    }

    /** The last resort; a failure here has nowhere left to go. */
    private static void toStandardError(String record, Throwable thrown, Throwable loggerFailure) {
        try {
            java.io.PrintStream err = System.err;
            synchronized (err) { // one record's lines together
                err.println("workqueue4j: logging failed (" + loggerFailure + "); the record was: " + record);
                if (thrown != null) {
                    thrown.printStackTrace(err);
                }
            }
        } catch (Throwable ignored) { // System.err itself failed: nothing is left to report to
        }
    }
}
