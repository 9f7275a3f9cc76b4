package org.workqueue4j.agent;

import java.util.concurrent.ConcurrentHashMap;

import org.workqueue4j.agent.annotation.LockClass;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockMap;

/**
 * Lock classes by name. Every lock the agent sees is reported to the validator through the one
 * {@link LockMap} of its class name, so the memory the agent keeps grows with the number of
 * classes (fields, types, construction sites), never with the number of lock objects.
 *
 * <p>The naming rule (documented in the README):
 * <ol>
 *   <li>a lock read from a field, or constructed straight into a field, is of class
 *       {@code Owner.field}, or of the field's {@link LockClass} name;</li>
 *   <li>other monitors are of the class of the monitor object ({@code com.acme.Account}), or of
 *       the type's {@link LockClass} name; a {@code Class} object used as a monitor (static
 *       synchronized methods, {@code synchronized (Foo.class)}) is of class {@code Foo.class};</li>
 *   <li>other {@code java.util.concurrent} locks are of class {@code Type@Owner.method(File:line)}
 *       of the site that constructed them, or, when constructed outside instrumented code, of
 *       the first instrumented site that locked them.</li>
 * </ol>
 */
final class LockNames {
    private static final ConcurrentHashMap<String, LockMap> MAPS = new ConcurrentHashMap<>();

    private static final ClassValue<LockMap> BY_TYPE = new ClassValue<>() {
        @Override
        protected LockMap computeValue(Class<?> type) {
            LockClass a = annotation(type);
            return map(a != null ? a.value() : type.getName());
        }
    };

    private static final ClassValue<LockMap> BY_CLASS_OBJECT = new ClassValue<>() {
        @Override
        protected LockMap computeValue(Class<?> type) {
            return map(type.getName() + ".class");
        }
    };

    private LockNames() {
    }

    /** Returns the map of the class called {@code name}, creating it once. */
    static LockMap map(String name) {
        LockMap m = MAPS.get(name);
        return m != null ? m : MAPS.computeIfAbsent(name, n -> new LockMap(n, new LockClassKey(n)));
    }

    /** Returns the map of a monitor object that was not read from a field (rule 2). */
    static LockMap ofMonitor(Object monitor) {
        return monitor instanceof Class ? BY_CLASS_OBJECT.get((Class<?>) monitor) : BY_TYPE.get(monitor.getClass());
    }

    /** Returns the map of a field site (rule 1), cached in the site. */
    static LockMap ofField(Site s) {
        LockMap m = s.map;
        if (m == null) {
            m = map(s.fieldClassName());
            s.map = m; // racy publication is fine: every thread computes the same interned map
        }
        return m;
    }

    private static LockClass annotation(Class<?> type) {
        try {
            return type.getAnnotation(LockClass.class);
        } catch (RuntimeException | LinkageError e) {
            return null; // malformed annotations: use the type name
        }
    }
}
