package org.workqueue4j.internal;

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

    /** Volatile: a hook installed by the test thread is seen by the engine threads it races. */
    private static volatile Hook hook;

    private TestHooks() {
    }

    /** Installs {@code h} (null removes it). */
    public static void install(Hook h) {
        hook = h;
    }

    /** Runs the installed hook, if any. */
    public static void at(String point, Object subject) {
        Hook h = hook;
        if (h != null) {
            h.at(point, subject);
        }
    }
}
