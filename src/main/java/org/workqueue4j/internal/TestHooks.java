package org.workqueue4j.internal;

import java.util.List;

/**
 * Named points inside engine operations where a test can hold the calling thread between two
 * steps, to replay an interleaving deterministically. No hook is installed outside tests: each
 * point then costs one volatile read. This package is not exported.
 */
public final class TestHooks {
    /** Called at a point, on the thread passing it. */
    @FunctionalInterface
    public interface Hook {
        /**
         * @param point   the point's name (see the callers of {@link TestHooks#at})
         * @param subject the queue or item the operation is about
         */
        void at(String point, Object subject);
    }

    /*
     * The installed hook lives in WqRuntime.testHook, and the points on the first item's path
     * call WqRuntime.testHook(...): a runtime outside tests then never loads this class (each
     * class from the jar costs about half a millisecond at start-up).
     */

    private TestHooks() {
    }

    /** Installs {@code h} (null removes it). */
    public static void install(Hook h) {
        WqRuntime.hook = h;
    }

    /** {@return the classes the monitor loads ahead of the runtime's first item, in order} */
    public static List<String> preloadedClasses() {
        return java.util.List.of(Monitor.FIRST_ITEM_CLASSES);
    }

    /** Runs the installed hook, if any (as {@link WqRuntime#testHook}). */
    public static void at(String point, Object subject) {
        WqRuntime.testHook(point, subject);
    }
}
