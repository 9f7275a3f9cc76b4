package org.workqueue4j;

import java.util.concurrent.atomic.AtomicBoolean;

import org.workqueue4j.internal.TestHooks;

/** A throw injected once at one of the engine's test points (see {@link TestHooks}). */
final class InjectedThrows {
    private InjectedThrows() {
    }

    /** The Error a test throws at a point: told apart from any failure of the library's own. */
    static final class Injected extends Error {
        private static final long serialVersionUID = 1L;

        Injected(String m) {
            super(m);
        }
    }

    /** Installs a hook that throws {@link Injected} the first time {@code point} is reached; returns the armed flag. */
    static AtomicBoolean throwOnceAt(String point) {
        AtomicBoolean armed = new AtomicBoolean(true);
        TestHooks.install((p, s) -> {
            if (p.equals(point) && armed.compareAndSet(true, false)) {
                throw new Injected("injected at " + p);
            }
        });
        return armed;
    }
}
