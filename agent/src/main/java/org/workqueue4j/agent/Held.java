package org.workqueue4j.agent;

import java.util.Arrays;

import org.workqueue4j.lockdep.AcquireMode;
import org.workqueue4j.lockdep.LockMap;

/**
 * The locks one thread holds as the agent sees them: one entry per lock <em>instance</em>
 * (a monitor object, a {@code ReentrantLock}, a read or write view), with a hold count, so
 * that re-entering an instance the thread already holds tells the validator nothing (SPEC:
 * re-acquiring the same instance of a reentrant lock is legal) and only the last exit releases.
 *
 * <p>Confined to its thread (a {@code ThreadLocal} in {@link Hooks}): no synchronization. It
 * holds strong references only while a lock is held, so it never keeps a lock object alive
 * after the thread let go of it.
 */
final class Held {
    /** The lock instances held, oldest first. */
    Object[] objs = new Object[8];
    /** Per entry: {@link #MONITOR} for a monitor, else the identity of the underlying lock (the AQS sync shared by a read/write pair). */
    Object[] keys = new Object[8];
    /** Per entry: the validator's map (the lock class). */
    LockMap[] maps = new LockMap[8];
    /** Per entry: the mode. */
    AcquireMode[] modes = new AcquireMode[8];
    /** Per entry: holds of the instance by this thread. */
    int[] counts = new int[8];
    /**
     * Per entry: whether the validator records this hold. False for a read lock taken while the
     * write side of the same lock is held (ReentrantReadWriteLock's downgrade), and for a
     * re-acquisition the validator refused under THROW after a wait.
     */
    boolean[] tracked = new boolean[8];
    int depth;

    /**
     * A small direct-mapped cache of lock classes of {@code java.util.concurrent} locks this
     * thread used, keyed by identity of the lock's sync object, so that the shared table in
     * {@link JucLocks} (one monitor for the JVM) is consulted only on a miss. It keeps at most
     * {@value #CACHE} lock objects reachable per thread.
     */
    static final int CACHE = 16;
    final Object[] cachedKeys = new Object[CACHE];
    final LockMap[] cachedMaps = new LockMap[CACHE];
    /** Whether the cached class is a field's (final: a field site does not rename it). */
    final boolean[] cachedByField = new boolean[CACHE];
    /** The renaming count ({@code JucLocks.renames}) a construction-site name was cached at. */
    final int[] cachedRenames = new int[CACHE];

    /**
     * The key of monitor entries. A monitor and a {@code java.util.concurrent} lock are two
     * locks even on one object ({@code synchronized (reentrantLock)}): their entries never match
     * each other's lookups.
     */
    static final Object MONITOR = new Object();

    /** Returns the entry of monitor {@code o}, searching from the most recent, or -1. */
    int findMonitor(Object o) {
        for (int i = depth - 1; i >= 0; i--) {
            if (objs[i] == o && keys[i] == MONITOR) {
                return i;
            }
        }
        return -1;
    }

    /** Returns the entry of {@code java.util.concurrent} lock {@code l}, searching from the most recent, or -1. */
    int findLock(Object l) {
        for (int i = depth - 1; i >= 0; i--) {
            if (objs[i] == l && keys[i] != MONITOR) {
                return i;
            }
        }
        return -1;
    }

    /** Returns the most recent entry of the given underlying lock and mode, or -1. */
    int findKey(Object key, AcquireMode mode) {
        for (int i = depth - 1; i >= 0; i--) {
            if (keys[i] == key && modes[i] == mode) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Records a new entry. Grows the arrays into locals first and assigns them with no call in
     * between: an Error in a copy (a StackOverflowError in a hook on a nearly full stack, an
     * OutOfMemoryError) leaves every array as it was, never some grown and some not (the next
     * push would then index past the short ones, on every later round of the thread).
     */
    void push(Object o, Object key, LockMap map, AcquireMode mode, boolean isTracked) {
        if (depth == objs.length) {
            int n = depth * 2;
            Object[] o2 = Arrays.copyOf(objs, n);
            Object[] k2 = Arrays.copyOf(keys, n);
            LockMap[] m2 = Arrays.copyOf(maps, n);
            AcquireMode[] md2 = Arrays.copyOf(modes, n);
            int[] c2 = Arrays.copyOf(counts, n);
            boolean[] t2 = Arrays.copyOf(tracked, n);
            objs = o2;
            keys = k2;
            maps = m2;
            modes = md2;
            counts = c2;
            tracked = t2;
        }
        objs[depth] = o;
        keys[depth] = key;
        maps[depth] = map;
        modes[depth] = mode;
        counts[depth] = 1;
        tracked[depth] = isTracked;
        depth++;
    }

    /**
     * Removes entry {@code i}, keeping the order of the others (locks may be released out of
     * order). The shift is a plain loop, no call: an Error cannot strike between the arrays'
     * shifts and leave one entry's fields spread over two slots.
     */
    void remove(int i) {
        for (int j = i, last = depth - 1; j < last; j++) {
            objs[j] = objs[j + 1];
            keys[j] = keys[j + 1];
            maps[j] = maps[j + 1];
            modes[j] = modes[j + 1];
            counts[j] = counts[j + 1];
            tracked[j] = tracked[j + 1];
        }
        depth--;
        objs[depth] = null;
        keys[depth] = null;
        maps[depth] = null;
        modes[depth] = null;
    }
}
