package org.workqueue4j.lockdep;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import org.jspecify.annotations.Nullable;

/**
 * One thread's held-lock stack for one {@link Lockdep} (the kernel's {@code held_locks[]},
 * {@code lockdep_depth} and {@code curr_chain_key}), kept as parallel arrays so that pushing a
 * lock allocates nothing.
 *
 * <p>Only the owning thread writes. Other threads read {@link #depth} and {@link #maps} racily
 * in {@link Lockdep#initialize} ("is this map held by anyone?"), a best-effort diagnostic: a
 * racy read of an int or a reference is atomic, so they see some recent state, never garbage.
 * The hit/miss counters are written with {@code setOpaque} by the owner and read with
 * {@code getOpaque} by {@link Lockdep#stats()}: atomic 64-bit access with no ordering, which is
 * all a statistic needs and costs a plain store on the fast path.
 */
final class HeldLocks {

    /** The kernel's {@code MAX_LOCK_DEPTH}. */
    static final int MAX_DEPTH = 48;
    /** The kernel's {@code INITIAL_CHAIN_KEY}. */
    static final long INITIAL_CHAIN_KEY = -1L;

    private static final VarHandle HITS;
    private static final VarHandle MISSES;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HITS = l.findVarHandle(HeldLocks.class, "hits", long.class);
            MISSES = l.findVarHandle(HeldLocks.class, "misses", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final WeakReference<Thread> owner;
    final LockMap[] maps = new LockMap[MAX_DEPTH];
    final LockClass[] classes = new LockClass[MAX_DEPTH];
    final AcquireMode[] modes = new AcquireMode[MAX_DEPTH];
    final boolean[] trylocks = new boolean[MAX_DEPTH];
    /** {@code keys[i]}: chain key of the stack {@code [0..i]}, the kernel's per-hlock chain key. */
    final long[] keys = new long[MAX_DEPTH];
    int depth;
    /** The graph generation the classes and keys above belong to. */
    @Nullable DependencyGraph graph;
    @SuppressWarnings("unused") // accessed through HITS
    private long hits;
    @SuppressWarnings("unused") // accessed through MISSES
    private long misses;

    HeldLocks(Thread owner) {
        this.owner = new WeakReference<>(owner);
    }

    long topKey() {
        return depth == 0 ? INITIAL_CHAIN_KEY : keys[depth - 1];
    }

    void push(LockMap map, LockClass cls, AcquireMode mode, boolean trylock, long key) {
        int d = depth;
        maps[d] = map;
        classes[d] = cls;
        modes[d] = mode;
        trylocks[d] = trylock;
        keys[d] = key;
        depth = d + 1;
    }

    /** Returns the index of the most recent hold of {@code map}, or -1. */
    int find(LockMap map) {
        for (int i = depth - 1; i >= 0; i--) {
            if (maps[i] == map) {
                return i;
            }
        }
        return -1;
    }

    /** Removes entry {@code i}, shifting the entries above it down; the caller recomputes their keys. */
    void remove(int i) {
        int last = depth - 1;
        for (int j = i; j < last; j++) {
            maps[j] = maps[j + 1];
            classes[j] = classes[j + 1];
            modes[j] = modes[j + 1];
            trylocks[j] = trylocks[j + 1];
        }
        maps[last] = null;
        classes[last] = null;
        modes[last] = null;
        depth = last;
    }

    /** Recomputes the chain keys of entries {@code from..depth-1}. */
    void rehash(int from) {
        long key = from == 0 ? INITIAL_CHAIN_KEY : keys[from - 1];
        for (int j = from; j < depth; j++) {
            key = iterateChainKey(key, classes[j], modes[j], trylocks[j]);
            keys[j] = key;
        }
    }

    void hit() {
        HITS.setOpaque(this, (long) HITS.getOpaque(this) + 1);
    }

    void miss() {
        MISSES.setOpaque(this, (long) MISSES.getOpaque(this) + 1);
    }

    long hits() {
        return (long) HITS.getOpaque(this);
    }

    long misses() {
        return (long) MISSES.getOpaque(this);
    }

    void resetCounters() {
        HITS.setOpaque(this, 0L);
        MISSES.setOpaque(this, 0L);
    }

    boolean ownerAlive() {
        Thread t = owner.get();
        return t != null && t.isAlive();
    }

    /**
     * The kernel's {@code iterate_chain_key()}: mixes one held lock into the chain key. The id
     * includes the acquire mode (so a cached L -> RL chain cannot hide L -> WL) and the trylock
     * flag (which changes the dependencies a chain adds). Never returns 0, the empty slot of
     * {@link ChainCache}.
     */
    static long iterateChainKey(long key, LockClass cls, AcquireMode mode, boolean trylock) {
        long id = cls.id | ((long) mode.ordinal() << 16) | (trylock ? 1L << 18 : 0L);
        long h = (key ^ id) * 0x9E3779B97F4A7C15L;
        h ^= h >>> 32;
        h *= 0xD6E8FEB86659FD93L;
        h ^= h >>> 29;
        return h == 0L ? 1L : h;
    }
}
