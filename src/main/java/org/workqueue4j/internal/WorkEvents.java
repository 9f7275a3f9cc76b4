package org.workqueue4j.internal;

/**
 * Java Flight Recorder events, optional: the module only {@code requires static jdk.jfr}. This
 * class names one {@code jdk.jfr} method, {@code FlightRecorder.isInitialized()}, resolved when
 * first called (a missing module fails that call, which is caught); {@link JfrEvents} names the
 * rest, and is touched only once JFR itself is initialized in this JVM (a recording started, {@code -XX:StartFlightRecording}, or
 * any use of the JFR API). Until then an event costs a read of JFR's "initialized" flag and
 * only {@code jdk.jfr.FlightRecorder} is loaded: the first item of a process does not
 * bootstrap JFR. On a runtime image without
 * {@code jdk.jfr}, or wherever linking the JFR side fails, events stay off for good.
 */
final class WorkEvents {
    /*
     * Implementation Overview
     *
     * `sink` is null until JFR is initialized. While it is null, each begin asks
     * FlightRecorder.isInitialized() (a static volatile read; loading that one class bootstraps
     * nothing). The call is resolved when first executed, not when this class is verified, so a
     * runtime image without jdk.jfr fails it with a NoClassDefFoundError caught below. `sink` is
     * typed JfrEvents, not an interface: the verifier then loads no type of its own for it (each
     * class on the first item's path costs a class load). Once JFR is up, the first begin builds JfrEvents (the
     * event classes, registered now that a recording can want them) and publishes it. A
     * LinkageError on the way (no jdk.jfr module in this runtime image) or any other failure
     * turns `jfrLinked` off for good: the holder survives, and so does every worker and flush
     * that touches it.
     *
     * `sink` is volatile: the thread that builds JfrEvents publishes it fully built to others
     * (a race builds it twice, harmlessly: event types are registered once by JFR). `jfrLinked`
     * is volatile too; it only ever goes from true to false.
     */

    private static volatile JfrEvents sink;
    private static volatile boolean jfrLinked = true;

    /** The sink once JFR is initialized, else null; never throws. */
    private static JfrEvents sink() {
        JfrEvents s = sink;
        if (s != null || !jfrLinked) {
            return s;
        }
        try {
            if (!jdk.jfr.FlightRecorder.isInitialized()) {
                return null;
            }
            s = new JfrEvents();
            sink = s;
            return s;
        } catch (LinkageError | RuntimeException e) { // no jdk.jfr in this runtime image: events stay off
            jfrLinked = false;
            return null;
        }
    }

    private WorkEvents() {
    }

    /** True once a recording can want events: the queue path then stamps queue times. */
    static boolean active() {
        return sink != null;
    }

    /** An event to end and commit after the run, or null when no recording wants it. */
    static Object beginExecution() {
        JfrEvents s = sink();
        return s == null ? null : s.beginExecution();
    }

    static void commitExecution(Object e, String queue, String work, String worker, long queueToStartNanos) {
        JfrEvents s = sink;
        if (e != null && s != null) {
            s.commitExecution(e, queue, work, worker, queueToStartNanos);
        }
    }

    static Object beginFlush() {
        JfrEvents s = sink();
        return s == null ? null : s.beginFlush();
    }

    static void commitFlush(Object e, String operation, String target) {
        JfrEvents s = sink;
        if (e != null && s != null) {
            s.commitFlush(e, operation, target);
        }
    }
}
