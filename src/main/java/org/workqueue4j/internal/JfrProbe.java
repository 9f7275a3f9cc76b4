package org.workqueue4j.internal;

import jdk.jfr.FlightRecorder;

/** The one JFR question asked before JFR is up; loads {@code FlightRecorder} only, bootstraps nothing. */
final class JfrProbe {
    private JfrProbe() {
    }

    /** @return true once JFR is initialized in this JVM (a static volatile read) */
    static boolean isInitialized() {
        return FlightRecorder.isInitialized();
    }
}
