package org.workqueue4j.lockdep;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Identifies a lock class, the unit that lockdep validates (the kernel's {@code lock_class_key}).
 *
 * <p>Identity is the object itself: every {@link LockMap} created with the same key belongs to
 * the same class (together with the map's subclass), so a dependency learnt from one instance
 * applies to all of them. Create one key per logical kind of lock, typically in a
 * {@code static final} field, or per construction site with {@link #forCallSite(String)}.
 *
 * <p>Immutable; safe to share between threads.
 */
public final class LockClassKey {

    /** Keys interned by construction site; see {@link #forCallSite(String)}. */
    private static final ConcurrentHashMap<String, LockClassKey> CALL_SITE_KEYS = new ConcurrentHashMap<>();

    /** A holder: creating a StackWalker loads its options and enum reflection, which plain keys never need. */
    private static final class Walker {
        static final StackWalker WALKER = StackWalker.getInstance();
    }

    /** Source of {@link #serial}: the object's identity as a number, like a thread's id. */
    private static final AtomicLong SERIALS = new AtomicLong();

    private final String name;
    /**
     * This key's number, never given to another key: what a report's signature tells classes
     * apart by ({@link LockClass#identity}), the same before and after the key's classes exist.
     * Final, so safely published with the key.
     */
    final long serial;

    /**
     * Creates a new, distinct lock class key.
     *
     * @param name the class name used in reports; not null
     */
    public LockClassKey(String name) {
        this.name = Objects.requireNonNull(name, "name");
        this.serial = SERIALS.incrementAndGet();
    }

    /** {@return the class name used in reports} */
    public String name() {
        return name;
    }

    /**
     * Returns the key interned for the calling class, method and line: "one class per
     * construction site", like the static {@code __key} of the kernel's {@code mutex_init()}.
     * Repeated calls from the same source line return the same key.
     *
     * @param prefix prepended to the call site to form the class name; not null
     * @return the key for the caller's site, the same instance on every call from it
     */
    public static LockClassKey forCallSite(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        String site = Walker.WALKER.walk(frames -> frames
                .filter(f -> !f.getClassName().equals(LockClassKey.class.getName()))
                .findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber())
                .orElse("?"));
        String name = prefix + site;
        return CALL_SITE_KEYS.computeIfAbsent(name, LockClassKey::new);
    }

    @Override
    public String toString() {
        return name;
    }
}
