package org.workqueue4j.lockdep;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One lock instance as the validator sees it (the kernel's {@code lockdep_map}).
 *
 * <p>A {@code LockMap} is embedded in every validated lock, and can also be used on its own as
 * a pseudo-lock: acquire it around a wait (a latch, a future, a flush) so that the validator
 * learns "this thread waits for whoever holds the map". The validator tracks instances per
 * thread but reasons about classes: the class is {@link #key()} plus {@link #subclass()}.
 *
 * <p>Thread-safe: the validator may be called with one map from any number of threads; its class
 * cache is a benign race (see the field).
 */
public final class LockMap {

    /** Highest subclass, as the kernel's {@code MAX_LOCKDEP_SUBCLASSES - 1}. */
    public static final int MAX_SUBCLASS = 7;

    private final String name;
    private final LockClassKey key;
    private final int subclass;

    /**
     * Cache of this map's class in the validator's current graph (the kernel's
     * {@code class_cache}). Written and read without synchronization: a racy read sees either
     * null, a stale class (whose {@code graph} no longer matches and is ignored) or a current
     * one, and {@link LockClass} has only final fields, so final-field semantics guarantee a
     * reader that sees the reference also sees a fully constructed object.
     */
    @Nullable LockClass classCache;

    /**
     * How the owning thread fully releases the real lock behind this map when a work item
     * leaked it (set once by {@link ValidatedLock} / {@link ValidatedReadWriteLock} before the
     * lock is published through their final fields); null for a bare pseudo-lock.
     */
    @Nullable Runnable leakRelease;

    /** Classes of this map taken as another subclass (lockNested), per subclass; racy like classCache. */
    LockClass @Nullable [] subclassCache;

    /**
     * Creates a lock instance of subclass 0.
     *
     * @param name instance name (informational); not null
     * @param key the lock class; not null
     */
    public LockMap(String name, LockClassKey key) {
        this(name, key, 0);
    }

    /**
     * Creates a lock instance with a nesting subclass, the kernel's {@code *_nested(lock, n)}:
     * subclass {@code n} of a key is a class of its own, so holding one instance of subclass 0
     * while taking another of subclass 1 is not recursive locking.
     *
     * @param name instance name (informational); not null
     * @param key the lock class; not null
     * @param subclass 0..{@value #MAX_SUBCLASS}
     */
    public LockMap(String name, LockClassKey key, int subclass) {
        this.name = Objects.requireNonNull(name, "name");
        this.key = Objects.requireNonNull(key, "key");
        if (subclass < 0 || subclass > MAX_SUBCLASS) {
            throw new IllegalArgumentException(
                    "subclass " + subclass + " of lock '" + name + "' is outside 0.." + MAX_SUBCLASS);
        }
        this.subclass = subclass;
    }

    /** {@return the instance name} */
    public String name() {
        return name;
    }

    /** {@return the lock class key} */
    public LockClassKey key() {
        return key;
    }

    /** {@return the nesting subclass, 0..7} */
    public int subclass() {
        return subclass;
    }

    /**
     * The kernel's {@code lockdep_assert_held*()} for a pseudo-lock:
     * {@code validator.assertHeld(this, expected)}.
     *
     * @param validator the validator the map is acquired with; not null
     * @param expected what must be true of the calling thread; not null
     * @throws IllegalStateException under {@link ReportPolicy#THROW}, if the assertion fails
     */
    public void assertHeld(LockDependencyValidator validator, LockAssertion expected) {
        Objects.requireNonNull(validator, "validator").assertHeld(this, expected);
    }

    @Override
    public String toString() {
        return subclass == 0 ? name : name + "/" + subclass;
    }
}
