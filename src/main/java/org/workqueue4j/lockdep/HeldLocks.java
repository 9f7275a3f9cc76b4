package org.workqueue4j.lockdep;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.List;
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
    /** The owner's name at registration, for a report after it ended. */
    final String threadName;
    /**
     * Null for a live thread's stack. For the replay of a {@link LatentWait}: the original
     * waiter's stack, used for new edges and for the report instead of the current stack.
     */
    final @Nullable List<String> trace;
    final LockMap[] maps = new LockMap[MAX_DEPTH];
    final LockClass[] classes = new LockClass[MAX_DEPTH];
    final AcquireMode[] modes = new AcquireMode[MAX_DEPTH];
    final boolean[] trylocks = new boolean[MAX_DEPTH];
    /**
     * The nest lock an entry was taken under (the kernel's {@code hlock->nest_lock}, see
     * {@link #ownNests}), or null. An entry with {@link #refs} &gt; 0 always has one (a merge
     * under a nest lock into an entry taken without one sets it: {@link Lockdep#acquireNested}),
     * so the release fast path checks this array alone.
     */
    final LockMap[] nests = new LockMap[MAX_DEPTH];
    /**
     * True when {@link #nests} of an entry is the nest lock it was taken under, the kernel's
     * {@code hlock->nest_lock}, which must stay held while the entry is (re-checked when a lock
     * below is released first); false when it only marks a merge into an entry taken plain,
     * whose {@code nest_lock} the kernel leaves null. Never true with a null nest, so false for
     * every entry at or above {@link #depth}.
     */
    final boolean[] ownNests = new boolean[MAX_DEPTH];
    /**
     * The kernel's {@code hlock->references}: 0 for one acquisition; n &gt;= 2 when n instances of
     * the entry's class were merged into it under a held nest lock (released one by one).
     */
    final int[] refs = new int[MAX_DEPTH];
    /**
     * The instances merged into an entry with {@link #refs} &gt; 0, one element per hold (the
     * entry's own {@link #maps} element among them), so that an assertion, a release and a
     * leak's release can tell which instances of the class the thread really holds (the
     * kernel, keeping only a count, matches any instance of the class). Null for an entry with
     * no references, so for every entry at or above {@link #depth}; allocated only by a merge
     * (a nest-lock acquisition, never on the chain-cache fast path). A released instance is
     * removed, so a merged entry keeps no map reachable that the thread no longer holds.
     */
    final @Nullable List<LockMap>[] members = newMembers();
    /** lock_stat: when each entry was acquired (System.nanoTime), only while statistics are on. */
    final long[] since = new long[MAX_DEPTH];
    /** {@code keys[i]}: chain key of the stack {@code [0..i]}, the kernel's per-hlock chain key. */
    final long[] keys = new long[MAX_DEPTH];
    int depth;
    /**
     * Holds taken past {@link #MAX_DEPTH} that were not recorded (the depth report was made
     * instead), not yet released: releasing a lock not found on the stack while this is
     * positive consumes one silently rather than reporting a bad unlock. Owner-only.
     */
    int unrecorded;
    /**
     * Slots below this index may hold a chain key that was never validated in the current
     * generation: {@link Lockdep}'s move to a new generation re-keys the held entries without
     * validating them (they are validated, as before, when re-acquired after a release). The
     * acquire fast path trusts a left-over slot's key as a validated chain (and skips the cache
     * probe) only at or above this index; {@link #trust} lowers it when a slot below is
     * re-validated. 0 on a stack that never saw a generation change.
     */
    int trustFrom;
    /** The graph generation the classes and keys above belong to. */
    @Nullable DependencyGraph graph;
    @SuppressWarnings("unused") // accessed through HITS
    private long hits;
    @SuppressWarnings("unused") // accessed through MISSES
    private long misses;

    HeldLocks(Thread owner) {
        this.owner = new WeakReference<>(owner);
        this.threadName = owner.getName();
        this.trace = null;
    }

    /** A stack rebuilt from a {@link LatentWait}: no owner thread, the waiter's trace. */
    HeldLocks(String threadName, List<String> trace) {
        this.owner = new WeakReference<>(null);
        this.threadName = threadName;
        this.trace = trace;
    }

    long topKey() {
        return depth == 0 ? INITIAL_CHAIN_KEY : keys[depth - 1];
    }

    void push(LockMap map, LockClass cls, AcquireMode mode, boolean trylock, long key) {
        push(map, cls, mode, trylock, key, null);
    }

    @SuppressWarnings("unchecked")
    private static @Nullable List<LockMap>[] newMembers() {
        return (List<LockMap>[]) new List<?>[MAX_DEPTH];
    }

    void push(LockMap map, LockClass cls, AcquireMode mode, boolean trylock, long key, @Nullable LockMap nest) {
        int d = depth;
        fill(d, cls, mode, trylock, key);
        nests[d] = nest;
        ownNests[d] = nest != null;
        refs[d] = 0;
        members[d] = null;
        maps[d] = map;
        depth = d + 1;
    }

    /**
     * Fast-path push of an entry with no nest lock whose chain key the caller found validated
     * (a cache hit, or validation off) and whose slot is not {@link #validatedSlot} for it.
     * Entries at and above {@link #depth} always have a null nest and no references
     * ({@link #remove} and {@link #popTop} leave them so), so only the map, class, mode, flag,
     * key and depth are written.
     */
    void pushTop(LockMap map, LockClass cls, AcquireMode mode, boolean trylock, long key) {
        int d = depth;
        fill(d, cls, mode, trylock, key);
        maps[d] = map;
        depth = d + 1;
    }

    /**
     * True if slot {@code d} (= {@link #depth}) is left over from an earlier push of this same
     * acquisition ({@code cls}, live and of the current generation, in {@code mode}, with
     * {@code trylock}) on top of the same chain, validated in the current generation: then the
     * slot already holds the chain key, and pushing onto it stores only the map and the depth
     * ({@link #pushMap}), with no chain key to compute and no cache probe.
     *
     * <p>The slot holds the chain key: {@link #popTop} leaves the popped entry's class, mode,
     * trylock flag and chain key in place, every writer of a slot keeps its key consistent
     * with its class, mode and flag, and an empty slot has a null class ({@link #remove},
     * {@link #clearAbove()}, {@link #trust}). The key is also consistent with the slot below:
     * a write that changes a slot's key empties the slot above ({@link #fill}), and the slot
     * above the top is emptied when a held entry is re-keyed ({@link #remove}, {@link #rehash}) or the stack
     * moves to a new generation ({@link #clearAbove()}); a left-over slot above an empty one
     * can only be reached by first filling that one, which empties it. So the slot's key is the
     * key of this acquisition on top of the held stack.
     *
     * <p>The chain is validated: every push writes a key only after finding it cached or
     * validating it (the slow path caches the chain unless validation is off, and then it stays
     * off until a new generation), and {@link Lockdep}'s re-validation after an out-of-order
     * release validates the keys it rewrites. A new generation re-keys the held entries without
     * validating them, so it distrusts those ({@link #trustFrom}). A key leaves the cache only
     * when one of its classes is freed: the caller checks that {@code cls} is live, and a freed
     * class below it is one held across its own unregistration, about which the slow path
     * learns nothing either.
     */
    boolean validatedSlot(int d, LockClass cls, AcquireMode mode, boolean trylock) {
        return classes[d] == cls && modes[d] == mode && trylocks[d] == trylock && d >= trustFrom;
    }

    /** Pushes {@code map} onto the {@link #validatedSlot} {@code d} (= {@link #depth}). */
    void pushMap(int d, LockMap map) {
        maps[d] = map;
        depth = d + 1;
    }

    /**
     * Writes slot {@code d} (= {@link #depth}) with a validated (or, validation off, unchecked)
     * acquisition. A changed key empties the slot above, whose left-over key was built on the
     * old one (see {@link #validatedSlot}).
     */
    private void fill(int d, LockClass cls, AcquireMode mode, boolean trylock, long key) {
        if (d < trustFrom) {
            trust(d);
        }
        if (keys[d] != key && d + 1 < MAX_DEPTH) {
            classes[d + 1] = null;
            keys[d + 1] = 0L;
        }
        classes[d] = cls;
        modes[d] = mode;
        trylocks[d] = trylock;
        keys[d] = key;
    }

    /**
     * Slot {@code d} below {@link #trustFrom} is being written with a validated key: the slots
     * between it and {@code trustFrom} still hold unvalidated keys, so they are emptied and only
     * the slots below {@code d} stay distrusted.
     */
    private void trust(int d) {
        java.util.Arrays.fill(classes, d + 1, trustFrom, null);
        java.util.Arrays.fill(keys, d + 1, trustFrom, 0L);
        trustFrom = d;
    }

    /**
     * Fast-path pop of the top entry, which has a null nest and so no references (the caller
     * checked). Clears the map, so that the key of a lock nobody uses any more can be collected
     * and its class freed; leaves the class, mode, flag and key for the next push of the same chain
     * ({@link #validatedSlot}; a
     * stale class above the top keeps only that class object, which is read only by
     * {@link #validatedSlot}'s identity check: every other reader stops at {@link #depth}, and
     * a new generation clears them, see {@link #clearAbove()}).
     */
    void popTop() {
        int last = depth - 1;
        maps[last] = null;
        depth = last;
    }

    /**
     * Drops the entries left above the top by {@link #popTop}, so an old generation is not kept
     * reachable and its slots are never reused ({@link #validatedSlot}).
     */
    void clearAbove() {
        java.util.Arrays.fill(classes, depth, MAX_DEPTH, null);
        java.util.Arrays.fill(keys, depth, MAX_DEPTH, 0L);
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

    /**
     * Returns the index of an entry that holds {@code map}: the instance itself, or else an entry
     * into which acquisitions of {@code map} under a nest lock were merged (the kernel's
     * match_held_lock() matches such an entry by class; the {@link #members} make the match
     * exact, so an instance of the class that the thread does not hold is not found); -1 if none.
     */
    int findHolding(LockMap map) {
        int i = find(map);
        if (i >= 0 && (refs[i] == 0 || holdsMember(i, map))) {
            return i;
        }
        for (int j = depth - 1; j >= 0; j--) {
            if (refs[j] > 0 && holdsMember(j, map)) {
                return j;
            }
        }
        return -1;
    }

    private boolean holdsMember(int i, LockMap map) {
        List<LockMap> m = members[i];
        if (m == null) {
            return maps[i] == map;
        }
        for (int k = 0; k < m.size(); k++) {
            if (m.get(k) == map) {
                return true;
            }
        }
        return false;
    }

    /** Records one more hold of {@code map} merged into entry {@code i} (refs already counted by the caller). */
    void merge(int i, LockMap map) {
        List<LockMap> m = members[i];
        if (m == null) {
            m = new java.util.ArrayList<>(4);
            m.add(maps[i]);
            members[i] = m;
        }
        m.add(map);
    }

    /**
     * Drops one merged hold of {@code map} from entry {@code i} (whose references the caller
     * decremented, and which stays held); if the entry was named after that instance and it is
     * no longer held, renames it after one that is.
     */
    void unmerge(int i, LockMap map) {
        List<LockMap> m = members[i];
        if (m == null) {
            return;
        }
        m.remove(map);
        if (maps[i] == map && !m.contains(map) && !m.isEmpty()) {
            maps[i] = m.get(0);
        }
    }

    /** {@return the distinct instances entry {@code i} holds: its map, or every merged one} */
    List<LockMap> instances(int i) {
        List<LockMap> m = members[i];
        if (m == null) {
            return List.of(maps[i]);
        }
        List<LockMap> out = new java.util.ArrayList<>(m.size());
        for (LockMap x : m) {
            if (!out.contains(x)) {
                out.add(x);
            }
        }
        return out;
    }

    /**
     * True if entry {@code i} holds {@code map}: is named after it, or has it among its merged
     * instances. The kernel's {@code prev->instance == next->nest_lock} in
     * {@code check_deadlock()} (which sees only the instance an entry is named after).
     */
    boolean holds(int i, LockMap map) {
        return maps[i] == map || (refs[i] > 0 && holdsMember(i, map));
    }

    /**
     * True if this is the calling thread's stack. {@link ValidatedAcquire} keeps the stack of
     * its lock's last holder in a plain field and passes it back as a hint; the hint may be any
     * thread's stack (a racy read), and this check is what makes using it safe: {@link #owner}
     * is final, so even a racy reader sees it initialized, and only the owner passes.
     */
    boolean ownedByCurrentThread() {
        return owner.refersTo(Thread.currentThread());
    }

    /** Removes entry {@code i}, shifting the entries above it down; the caller recomputes their keys. */
    void remove(int i) {
        int last = depth - 1;
        for (int j = i; j < last; j++) {
            maps[j] = maps[j + 1];
            classes[j] = classes[j + 1];
            modes[j] = modes[j + 1];
            trylocks[j] = trylocks[j + 1];
            nests[j] = nests[j + 1];
            ownNests[j] = ownNests[j + 1];
            refs[j] = refs[j + 1];
            members[j] = members[j + 1];
            since[j] = since[j + 1];
        }
        nests[last] = null;
        ownNests[last] = false;
        refs[last] = 0;
        members[last] = null;
        maps[last] = null;
        classes[last] = null;
        modes[last] = null;
        keys[last] = 0L; // empty: validatedSlot must not reuse it, nor the slot above it (built on the old top key)
        depth = last;
    }

    /**
     * Recomputes the chain keys of entries {@code from..depth-1}, and empties the slot above
     * the top: its left-over key was built on the old top key ({@link #validatedSlot}). Before,
     * a downgrade left it, and the next push of that slot's lock cached the read-held chain
     * under the write-held chain's key, hiding that chain's report.
     */
    void rehash(int from) {
        long key = from == 0 ? INITIAL_CHAIN_KEY : keys[from - 1];
        for (int j = from; j < depth; j++) {
            key = iterateChainKey(key, classes[j], modes[j], trylocks[j]);
            keys[j] = key;
        }
        if (depth < MAX_DEPTH) {
            classes[depth] = null;
            keys[depth] = 0L;
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
     * is the class's never-reused uid (a freed class's chains can never match a new class) with
     * the acquire mode (so a cached L -> RL chain cannot hide L -> WL) and the trylock
     * flag (which changes the dependencies a chain adds). Never returns 0, the empty slot of
     * {@link ChainCache}.
     */
    static long iterateChainKey(long key, LockClass cls, AcquireMode mode, boolean trylock) {
        long id = (cls.uid << 3) | ((long) mode.ordinal() << 1) | (trylock ? 1L : 0L);
        long h = (key ^ id) * 0x9E3779B97F4A7C15L;
        h ^= h >>> 32;
        h *= 0xD6E8FEB86659FD93L;
        h ^= h >>> 29;
        return h == 0L ? 1L : h;
    }
}
