package org.workqueue4j.lockdep;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The set of validated chain keys (the kernel's {@code chainhash_table}): an open-addressing
 * hash set of non-zero {@code long}s with lock-free lookups and a single writer (adds, and
 * removals when a class is freed).
 *
 * <p>Concurrency: {@link #add} and {@link #remove} run only under the graph lock (one writer);
 * {@link #contains} runs on the acquire fast path without any lock. A slot is written with
 * {@code setRelease} and read with {@code getAcquire} (the kernel's
 * {@code smp_store_release}/{@code smp_load_acquire}): the writer adds a key only after the
 * chain's checks are done and its edges and chain record are in the graph, so a reader that
 * sees the key also sees everything the key stands for (pinned by the jcstress test
 * {@code ChainCacheTest.Publication}). On x86 both modes compile to plain moves; they only stop
 * the compilers from reordering. A reader that misses a key just added (a stale miss) only
 * takes the slow path, which re-checks under the graph lock and finds it there: a miss costs
 * time, never a check. The table never fills beyond half, so every probe sequence ends at an
 * empty slot. Growth builds a new table and publishes it through the volatile {@link #table}
 * field (release/acquire), so a reader sees either the old complete table or the new complete
 * one; a reader still probing the old table can only miss.
 */
final class ChainCache {

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private volatile long[] table = new long[256];
    /** Number of keys; written only under the graph lock, read by stats (racy, informational). */
    private volatile int size;

    boolean contains(long key) {
        long[] t = table;
        int mask = t.length - 1;
        for (int i = index(key, mask); ; i = (i + 1) & mask) {
            long v = (long) SLOT.getAcquire(t, i); // pairs with insert's setRelease: the key's chain is complete
            if (v == key) {
                return true;
            }
            if (v == 0L) {
                return false;
            }
        }
    }

    /** Adds a key; caller holds the graph lock. */
    void add(long key) {
        long[] t = table;
        if ((size + 1) * 2 > t.length) {
            long[] bigger = new long[t.length * 2];
            for (long k : t) {
                if (k != 0L) {
                    insert(bigger, k);
                }
            }
            table = bigger; // volatile write: publishes the fully built table
            t = bigger;
        }
        if (insert(t, key)) {
            size = size + 1;
        }
    }

    /**
     * Removes a key (a chain of a freed class); caller holds the graph lock. Backward-shift
     * deletion (Knuth's Algorithm R): entries after the hole that may not sit before their home
     * slot are moved into it, so no tombstones accumulate. Each entry is written to its new slot
     * before its old slot is overwritten, so a concurrent reader sees it at least once or, at
     * worst, misses it and takes the slow path (which re-checks under the graph lock).
     *
     * @return whether the key was present
     */
    boolean remove(long key) {
        long[] t = table;
        int mask = t.length - 1;
        int hole = index(key, mask);
        for (long v; (v = (long) SLOT.getOpaque(t, hole)) != key; hole = (hole + 1) & mask) {
            if (v == 0L) {
                return false;
            }
        }
        for (int j = (hole + 1) & mask; ; j = (j + 1) & mask) {
            long v = (long) SLOT.getOpaque(t, j);
            if (v == 0L) {
                break;
            }
            int home = index(v, mask);
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                SLOT.setRelease(t, hole, v); // the moved key's chain is as complete as before
                hole = j;
            }
        }
        SLOT.setOpaque(t, hole, 0L); // emptying publishes nothing: a reader may only miss
        size = size - 1;
        return true;
    }

    int size() {
        return size;
    }

    private static boolean insert(long[] t, long key) {
        int mask = t.length - 1;
        for (int i = index(key, mask); ; i = (i + 1) & mask) {
            long v = (long) SLOT.getOpaque(t, i);
            if (v == key) {
                return false;
            }
            if (v == 0L) {
                SLOT.setRelease(t, i, key); // publishes the chain's edges and record, written before
                return true;
            }
        }
    }

    private static int index(long key, int mask) {
        return (int) (key ^ (key >>> 29)) & mask;
    }
}
