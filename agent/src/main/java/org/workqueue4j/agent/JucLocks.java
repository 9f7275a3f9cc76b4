package org.workqueue4j.agent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.locks.AbstractQueuedSynchronizer;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.workqueue4j.lockdep.AcquireMode;
import org.workqueue4j.lockdep.LockMap;

/**
 * What the agent knows about {@code ReentrantLock} and {@code ReentrantReadWriteLock}
 * instances: their mode, the identity they share (the AQS {@code sync} object, common to a
 * read/write pair), the lock class each was given, and which lock a {@code Condition} belongs to.
 *
 * <p>The {@code sync} fields are private to {@code java.util.concurrent.locks}; the agent opens
 * that package to itself with {@code Instrumentation.redefineModule} before this class is
 * initialized. If that failed, each lock object is its own identity (a read and a write view
 * of one lock are then not known to be one lock: downgrade is not recognised and a
 * {@code Condition} is not tied to its lock, so waits on it are not annotated).
 *
 * <p>Lock classes live in a {@link WeakHashMap} keyed by the sync object (the JDK's sync
 * classes do not override {@code equals}, so it is an identity map): an entry goes when its
 * lock is collected, so 10^4 short-lived locks of one site leave nothing behind. Access is
 * serialized by the map's monitor, taken only when the thread's own small cache
 * ({@link Held#cachedKeys}) misses.
 */
final class JucLocks {
    private static final VarHandle LOCK_SYNC = field(ReentrantLock.class, "sync");
    private static final VarHandle RW_SYNC = field(ReentrantReadWriteLock.class, "sync");
    private static final VarHandle READ_SYNC = field(ReentrantReadWriteLock.ReadLock.class, "sync");
    private static final VarHandle WRITE_SYNC = field(ReentrantReadWriteLock.WriteLock.class, "sync");
    private static final VarHandle CONDITION_OWNER = field(AbstractQueuedSynchronizer.ConditionObject.class, "this$0");

    private static final Map<Object, Named> CLASSES = new WeakHashMap<>();

    /** A lock's class, and whether it is a field's (rule 1), which a construction site's (rule 3) gives way to. */
    private static final class Named {
        final LockMap map;
        final boolean byField;

        Named(LockMap map, boolean byField) {
            this.map = map;
            this.byField = byField;
        }
    }

    private JucLocks() {
    }

    /** Returns whether the package was opened and the private fields are readable. */
    static boolean introspects() {
        return LOCK_SYNC != null && RW_SYNC != null && READ_SYNC != null && WRITE_SYNC != null;
    }

    /**
     * Returns the validator mode of a lock the agent tracks, or null for any other {@link Lock}
     * (user implementations, the library's own validated locks: those are left alone).
     */
    static AcquireMode mode(Lock l) {
        if (l instanceof ReentrantLock || l instanceof ReentrantReadWriteLock.WriteLock) {
            return AcquireMode.EXCLUSIVE;
        }
        if (l instanceof ReentrantReadWriteLock.ReadLock) {
            return AcquireMode.READ; // 'r': a reader waits behind a queued writer
        }
        return null;
    }

    /**
     * Whether the calling thread holds {@code l} exclusively already (a {@code ReentrantLock}, or
     * a {@code ReentrantReadWriteLock}'s write lock), so that taking it again cannot wait.
     */
    static boolean heldExclusivelyByCaller(Lock l) {
        if (l instanceof ReentrantLock) {
            return ((ReentrantLock) l).isHeldByCurrentThread();
        }
        return l instanceof ReentrantReadWriteLock.WriteLock && ((ReentrantReadWriteLock.WriteLock) l).isHeldByCurrentThread();
    }

    /** Returns the identity of the underlying lock: its sync object, or {@code l} itself. */
    static Object key(Lock l) {
        Object s = null;
        if (l instanceof ReentrantLock) {
            s = get(LOCK_SYNC, l);
        } else if (l instanceof ReentrantReadWriteLock.ReadLock) {
            s = get(READ_SYNC, l);
        } else if (l instanceof ReentrantReadWriteLock.WriteLock) {
            s = get(WRITE_SYNC, l);
        }
        return s != null ? s : l;
    }

    /** Returns the identity of the lock a condition belongs to, or null if unknown. */
    static Object owner(Condition c) {
        return c instanceof AbstractQueuedSynchronizer.ConditionObject ? get(CONDITION_OWNER, c) : null;
    }

    /** Records the class of a lock constructed at an instrumented site (rule 1 or 3 of {@link LockNames}). */
    static void created(Object lock, Site site) {
        Object key;
        if (lock instanceof ReentrantReadWriteLock) {
            Object s = get(RW_SYNC, lock);
            key = s != null ? s : ((ReentrantReadWriteLock) lock).writeLock();
        } else if (lock instanceof Lock) {
            key = key((Lock) lock);
        } else {
            return;
        }
        Named n = new Named(site.hasField() ? LockNames.ofField(site) : LockNames.map(typeName(lock) + "@" + site.where),
                site.hasField());
        synchronized (CLASSES) {
            CLASSES.put(key, n);
        }
    }

    /**
     * Returns the class of a lock, naming it after {@code site} if it has none yet, or if it
     * has only a construction site's name and {@code site} reads it from a field (rule 1 comes
     * before rule 3, whoever constructed the lock); served from the thread's cache when it can be
     * (a field site bypasses a cached construction-site name).
     */
    static LockMap classOf(Held h, Object key, Lock l, Site site) {
        int slot = System.identityHashCode(key) & (Held.CACHE - 1);
        if (h.cachedKeys[slot] == key
                && (h.cachedByField[slot] || (!site.hasField() && h.cachedRenames[slot] == renames))) {
            return h.cachedMaps[slot];
        }
        int seen = renames; // before the lookup: a rename after it makes this entry stale
        Named n = shared(key, l, site);
        h.cachedKeys[slot] = key;
        h.cachedMaps[slot] = n.map;
        h.cachedByField[slot] = n.byField;
        h.cachedRenames[slot] = seen;
        return n.map;
    }

    /**
     * How many locks were renamed from a construction site's name to a field's (rule 1 over rule
     * 3). A thread's cached construction-site name is good only while this is unchanged: another
     * thread's field read may have renamed that lock since, and one lock must not be two classes
     * at once. Written under {@link #CLASSES}; volatile, read on a cache hit.
     */
    private static volatile int renames;

    private static Named shared(Object key, Lock l, Site site) {
        synchronized (CLASSES) {
            Named n = CLASSES.get(key);
            if (n == null || (!n.byField && site.hasField())) {
                boolean rename = n != null;
                n = new Named(site.hasField() ? LockNames.ofField(site) : LockNames.map(typeName(l) + "@" + site.where),
                        site.hasField());
                CLASSES.put(key, n);
                if (rename) {
                    renames++; // after the put (volatile write): a reader that sees it finds the new name
                }
            }
            return n;
        }
    }

    private static String typeName(Object lock) {
        return lock instanceof ReentrantLock ? "ReentrantLock" : "ReentrantReadWriteLock";
    }

    private static Object get(VarHandle h, Object o) {
        return h == null ? null : h.get(o); // the fields are final: a plain read is enough
    }

    private static VarHandle field(Class<?> owner, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            return MethodHandles.privateLookupIn(owner, MethodHandles.lookup()).unreflectVarHandle(f);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // package not opened, or the JDK changed: fall back to instance identity
        }
    }
}
