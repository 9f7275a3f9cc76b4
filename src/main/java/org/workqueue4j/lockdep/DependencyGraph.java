package org.workqueue4j.lockdep;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One generation of lockdep's state: the lock classes, the dependency graph, the chain cache
 * and the acquisition site of each validated chain. {@link Lockdep#reset()} replaces the whole
 * generation. Everything except {@link #chains}' lookups is guarded by the graph lock.
 *
 * <p>Lifetime (the kernel's {@code lockdep_unregister_key()} / {@code zap_class()}): keys are
 * held weakly. A class is freed with its edges (both directions) and every cached chain that
 * contains it when its key is unregistered (a destroyed queue) or collected (polled from a
 * reference queue on the next class lookup). Freed slots are reused for the BFS arrays, but
 * chain keys hash the never-reused {@link LockClass#uid}, so a stale chain can never match.
 * A dependency skipped as redundant survives the free of a class on the path that implied it
 * ({@link Implied}), and so does one on a lock held below the entry where {@link #check} stops
 * walking the held stack (A, C, B held: A -&gt; B is kept as implied by A -&gt; C -&gt; B).
 */
final class DependencyGraph {

    /** A problem found by {@link #check}: which kind, which held lock, which path. */
    static final class Violation {
        final LockdepReport.Kind kind;
        /** Index in the held stack of the conflicting held lock (recursive / circular). */
        final int heldIndex;
        /** Circular: the existing path from the new lock back to the held one. */
        final List<LockDependency> path;
        /** Capacity: the kernel's name of the exhausted limit. */
        final @Nullable String limit;

        private Violation(LockdepReport.Kind kind, int heldIndex, List<LockDependency> path, @Nullable String limit) {
            this.kind = kind;
            this.heldIndex = heldIndex;
            this.path = path;
            this.limit = limit;
        }

        static Violation capacity(String limit) {
            return new Violation(LockdepReport.Kind.CAPACITY, -1, List.of(), limit);
        }
    }

    /**
     * A dependency {@link #check} did not add because a path at least as strong already implied
     * it (the kernel's {@code check_redundant()}, which today's kernel keeps for
     * {@code CONFIG_LOCKDEP_SMALL} only and otherwise adds every direct dependency). Kept,
     * indexed under its two ends and the classes of the implying path, because that path can go
     * away: when a class on it is freed (a destroyed queue, a collected key) the dependency is
     * checked again and becomes an edge if nothing implies it any more. Otherwise a cycle through
     * it, closed after the free, would be missed (A -> Q -> B implied A -> B; Q destroyed; B -> A).
     * Guarded by the graph lock.
     */
    static final class Implied {
        final LockClass from;
        final LockClass to;
        final int dep;
        final List<String> trace;
        /** The search's flags for {@link #strongPath}: prev held exclusively; next a recursive read. */
        final boolean fromExclusive;
        final boolean toRecursive;
        /** Superseded (re-indexed under another path), added as an edge, or an end was freed. */
        boolean dead;

        Implied(LockClass from, LockClass to, int dep, List<String> trace, boolean fromExclusive, boolean toRecursive) {
            this.from = from;
            this.to = to;
            this.dep = dep;
            this.trace = trace;
            this.fromExclusive = fromExclusive;
            this.toRecursive = toRecursive;
        }

        Implied copy() {
            return new Implied(from, to, dep, trace, fromExclusive, toRecursive);
        }
    }

    /** A validated chain: where its top lock was taken (for "at:" in reports) and its classes. */
    static final class Chain {
        final String at;
        final LockClass[] classes;
        final AcquireMode[] modes;

        Chain(String at, LockClass[] classes, AcquireMode[] modes) {
            this.at = at;
            this.classes = classes;
            this.modes = modes;
        }
    }

    /**
     * The graph's weak reference to a key: identity-hashed, equal to another ref of the same
     * live key. Holds the key's classes (one per subclass), so a collected key's classes are
     * found from the reference queue.
     */
    private static final class KeyRef extends WeakReference<LockClassKey> {
        final int hash;
        final String name;
        /** The key's {@link LockClassKey#serial}: the referent may be gone when its classes are freed. */
        final long serial;
        final LockClass[] subs = new LockClass[LockMap.MAX_SUBCLASS + 1];
        /** The kernel's {@code name_version}, set when the key is registered ({@link DependencyGraph#register}). Guarded by the graph lock. */
        int version = 1;

        KeyRef(LockClassKey key, @Nullable ReferenceQueue<LockClassKey> queue) {
            super(key, queue);
            this.hash = System.identityHashCode(key);
            this.name = key.name();
            this.serial = key.serial;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (o == this) {
                return true;
            }
            if (!(o instanceof KeyRef)) {
                return false;
            }
            LockClassKey k = get();
            return k != null && k == ((KeyRef) o).get();
        }
    }

    /** Whether classes carry lock_stat counters (Lockdep.Builder.lockStat); set before any class exists. */
    final boolean lockStat;
    final ChainCache chains = new ChainCache();
    /** Chain key -> the chain's site and classes. */
    final Map<Long, Chain> chainInfo = new HashMap<>();
    /** The class used for all locks once the class table is full (validation is then off). */
    final LockClass overflow;

    DependencyGraph(boolean lockStat) {
        this(lockStat, Integer.MAX_VALUE);
    }

    /** @param maxEdges the edge bound {@link #check} is given, also for implied dependencies that become edges */
    DependencyGraph(boolean lockStat, int maxEdges) {
        this.lockStat = lockStat;
        this.maxEdges = maxEdges;
        this.overflow = new LockClass(0, 0, "<overflow>", 0, 1, 0, this);
    }

    /** MAX_LOCKDEP_ENTRIES, for {@link #reimply} (check() is passed it). */
    private final int maxEdges;
    /**
     * An implied dependency that had to become an edge found the graph full ({@link #reimply}):
     * the validator reports MAX_LOCKDEP_ENTRIES ({@link #takeEdgeLimitHit}). Guarded by the graph lock.
     */
    private boolean edgeLimitHit;

    /** {@return whether an implied dependency was dropped at the edge bound since the last call} Caller holds the graph lock. */
    boolean takeEdgeLimitHit() {
        boolean hit = edgeLimitHit;
        edgeLimitHit = false;
        return hit;
    }

    private final ReferenceQueue<LockClassKey> collectedKeys = new ReferenceQueue<>();
    private final Map<KeyRef, KeyRef> byKey = new HashMap<>();
    /**
     * The registered keys of each name ({@link #byKey}'s values by {@link KeyRef#name}), for the
     * name versions: an entry goes when its last key does, so unique names cost one entry each
     * while they live.
     */
    private final Map<String, List<KeyRef>> namesakes = new HashMap<>();
    /** Class slots: {@code classes.get(id - 1)}; null for a freed slot, which {@link #freeIds} reuses. */
    private final List<LockClass> classes = new ArrayList<>();
    private final ArrayDeque<Integer> freeIds = new ArrayDeque<>();
    private int liveClasses;
    private long nextUid = 1;
    private int edges;
    private long freedClasses;

    /** Returns the class of (key, subclass), creating it unless {@code max} classes exist (then null). */
    @Nullable LockClass classFor(LockClassKey key, int subclass, int max) {
        expungeCollectedKeys();
        KeyRef probe = new KeyRef(key, null);
        KeyRef ref = byKey.get(probe);
        if (ref == null) {
            ref = new KeyRef(key, collectedKeys);
            register(ref);
        }
        LockClass c = ref.subs[subclass];
        if (c == null) {
            if (liveClasses >= max) {
                return null;
            }
            Integer free = freeIds.poll();
            int id = free != null ? free : classes.size() + 1;
            c = new LockClass(id, nextUid++, ref.name, ref.serial, ref.version, subclass, this);
            if (free != null) {
                classes.set(id - 1, c);
            } else {
                classes.add(c);
            }
            liveClasses++;
            ref.subs[subclass] = c;
        }
        return c;
    }

    /**
     * Adds a new key and gives it its name version, as the kernel's
     * {@code count_matching_names()}: one more than the highest version of the live keys of
     * the same name, so 1 (printed bare) for a key whose name no live key has.
     */
    private void register(KeyRef ref) {
        byKey.put(ref, ref);
        List<KeyRef> same = namesakes.computeIfAbsent(ref.name, n -> new ArrayList<>(1));
        int max = 0;
        for (KeyRef other : same) {
            max = Math.max(max, other.version);
        }
        ref.version = max + 1;
        same.add(ref);
    }

    /** Drops a key that left {@link #byKey} from {@link #namesakes}. */
    private void forget(KeyRef ref) {
        List<KeyRef> same = namesakes.get(ref.name);
        if (same != null) {
            same.removeIf(x -> x == ref); // by identity: a cleared ref equals nothing but itself
            if (same.isEmpty()) {
                namesakes.remove(ref.name);
            }
        }
    }

    /**
     * The printed name of {@code key} as {@code subclass} (its name version included, if the
     * key is registered), for a report about a lock map whose class may not exist. Caller holds
     * the graph lock.
     */
    String nameOf(LockClassKey key, int subclass) {
        KeyRef ref = byKey.get(new KeyRef(key, null));
        return LockClass.printName(key.name(), ref == null ? 1 : ref.version, subclass);
    }

    /**
     * Frees every class of {@code key} with its dependencies and chains (the kernel's
     * {@code lockdep_unregister_key()}). Caller holds the graph lock.
     *
     * @return the number of classes freed
     */
    int unregister(LockClassKey key) {
        KeyRef ref = byKey.remove(new KeyRef(key, null));
        if (ref == null) {
            return 0;
        }
        ref.clear(); // no longer needs to be enqueued
        forget(ref);
        return zapAll(ref);
    }

    /** Frees the classes of keys the garbage collector found unreachable. Caller holds the graph lock. */
    void expungeCollectedKeys() {
        for (Reference<? extends LockClassKey> r; (r = collectedKeys.poll()) != null; ) {
            KeyRef ref = (KeyRef) r;
            if (byKey.remove(ref) != null) {
                forget(ref);
                zapAll(ref);
            }
        }
    }

    private int zapAll(KeyRef ref) {
        int n = 0;
        for (int i = 0; i < ref.subs.length; i++) {
            if (ref.subs[i] != null) {
                zap(ref.subs[i]);
                ref.subs[i] = null;
                n++;
            }
        }
        return n;
    }

    /** Unlinks a class's edges and chains and frees its slot (kernel zap_class). */
    private void zap(LockClass c) {
        c.zapped = true;
        for (LockDependency e : c.after) {
            e.to.before.remove(e);
            edges--;
        }
        for (LockDependency e : c.before) {
            if (e.from != c) {
                e.from.after.remove(e);
                edges--;
            }
        }
        c.after.clear();
        c.before.clear();
        List<Implied> implied = c.implied;
        c.implied = null;
        if (implied != null) {
            for (Implied im : implied) {
                if (!im.dead) {
                    im.dead = true;
                    if (im.from != c && im.to != c) {
                        reimply(im.copy()); // c was on the path that implied it
                    }
                }
            }
        }
        for (Long key : c.chains) {
            chains.remove(key);
            Chain ch = chainInfo.remove(key);
            if (ch != null) {
                for (LockClass other : ch.classes) {
                    if (other != c) {
                        other.chains.remove(key);
                    }
                }
            }
        }
        c.chains.clear();
        classes.set(c.id - 1, null);
        freeIds.push(c.id);
        liveClasses--;
        freedClasses++;
    }

    /**
     * Adds a validated chain; caller holds the graph lock. The key goes into the lock-free
     * {@link #chains} last (a release store), after the chain's record: a fast-path reader that
     * sees the key sees the complete chain and every edge learnt before it.
     */
    void addChain(long key, String at, LockClass[] cls, AcquireMode[] modes) {
        chainInfo.put(key, new Chain(at, cls, modes));
        for (LockClass c : cls) {
            if (c != overflow) {
                c.chains.add(key);
            }
        }
        chains.add(key);
    }

    /**
     * Keeps {@code im} under the path that implies it now, or, with none left, adds it as an
     * edge (OR-ing its bits into an edge that exists meanwhile). Caller holds the graph lock.
     */
    private void reimply(Implied im) {
        List<LockDependency> path = strongPath(im.from, im.fromExclusive, im.to, im.toRecursive);
        if (path != null) {
            keepImplied(im, path);
            return;
        }
        LockDependency existing = im.from.edgeTo(im.to);
        if (existing != null) {
            existing.dep |= im.dep;
        } else if (edges >= maxEdges) {
            edgeLimitHit = true; // as check() at the bound: reported as MAX_LOCKDEP_ENTRIES, which ends validation
        } else {
            addEdge(new LockDependency(im.from, im.to, im.dep, im.trace));
        }
    }

    /** Indexes {@code im} under its ends and the inner classes of {@code path}, unless its ends hold it already. */
    private void keepImplied(Implied im, List<LockDependency> path) {
        List<Implied> atFrom = im.from.implied;
        if (atFrom != null) {
            atFrom.removeIf(x -> x.dead);
            for (Implied x : atFrom) {
                if (x.to == im.to && x.dep == im.dep && x.fromExclusive == im.fromExclusive && x.toRecursive == im.toRecursive) {
                    return; // the same dependency, implied already
                }
            }
        }
        index(im.from, im);
        index(im.to, im);
        for (int i = 0; i < path.size() - 1; i++) {
            index(path.get(i).to, im);
        }
    }

    private static void index(LockClass c, Implied im) {
        List<Implied> list = c.implied;
        if (list == null) {
            list = new ArrayList<>(2);
            c.implied = list;
        }
        int n = list.size();
        if (n >= 8 && (n & (n - 1)) == 0) {
            list.removeIf(x -> x.dead); // entries left by re-indexing or a freed end: amortized, so a long-lived class's list stays small
        }
        list.add(im);
    }

    /** Adds an edge; caller holds the graph lock. */
    void addEdge(LockDependency e) {
        e.from.after.add(e);
        e.to.before.add(e);
        edges++;
    }

    int classCount() {
        return liveClasses;
    }

    long freedClassCount() {
        return freedClasses;
    }

    /** Live classes in slot order; caller holds the graph lock. */
    List<LockClass> liveClasses() {
        List<LockClass> out = new ArrayList<>(liveClasses);
        for (LockClass c : classes) {
            if (c != null) {
                out.add(c);
            }
        }
        return out;
    }

    int edgeCount() {
        return edges;
    }

    /**
     * The checks of a chain-cache miss (the kernel's {@code check_deadlock()} and
     * {@code check_prevs_add()}) for acquiring {@code next} in {@code mode} on top of the first
     * {@code depth} entries of {@code held}. Returns the violations found (empty if none; at most one).
     *
     * <p>With {@code learnAll} (the acquisition goes ahead: WARN, or a re-validation after an
     * out-of-order release) every dependency the acquisition makes is added, also after a
     * violation and also the violating one itself: it really happened, and a later,
     * <em>distinct</em> cycle through it must still be found (issue 14, defect 3). Without it
     * (THROW: the caller will not take the lock) the first violation returns at once and
     * nothing of this acquisition is learnt. A recursive violation is returned alone: the
     * cycles through a class that is already held are implied by it. Under a nest lock
     * ({@code nest}) held at or below a held entry of {@code next}'s class, nothing is checked
     * further and nothing is learnt (the kernel's {@code check_deadlock()} returns 2).
     */
    List<Violation> check(HeldLocks held, int depth, LockClass next, AcquireMode mode, int maxEdges, boolean learnAll,
                          @Nullable LockMap nest) {
        List<Violation> found = new ArrayList<>(1);
        boolean nestHeld = false;
        for (int i = 0; i < depth; i++) {
            if (nest != null && held.holds(i, nest)) {
                nestHeld = true;
            }
            if (held.classes[i] != next) {
                continue;
            }
            if (mode == AcquireMode.RECURSIVE_READ && held.modes[i].isRead()) {
                continue; // read-after-read recursion of one class is allowed for recursive readers
            }
            if (nestHeld) {
                // The kernel's check_deadlock() returning 2: the nest lock, held at or below this
                // entry of the same class, serializes the instances, so the acquisition is no
                // deadlock and, with a lock of its class already held, adds no dependency
                // (validate_chain() skips check_prevs_add()).
                return found;
            }
            found.add(new Violation(LockdepReport.Kind.RECURSIVE, i, List.of(), null));
            if (!learnAll) {
                return found;
            }
            break;
        }
        List<String> trace = null;
        for (int i = depth - 1; i >= 0; i--) {
            LockClass prev = held.classes[i];
            AcquireMode prevMode = held.modes[i];
            if (prev != next && !prev.zapped) {
                List<LockDependency> path = strongPath(next, mode == AcquireMode.RECURSIVE_READ,
                        prev, prevMode == AcquireMode.EXCLUSIVE);
                if (path != null) {
                    if (found.isEmpty()) {
                        // With next already held (recursive), every cycle through it is implied
                        // by that report: learnt, not reported again.
                        found.add(new Violation(LockdepReport.Kind.CIRCULAR, i, path, null));
                    }
                    if (!learnAll) {
                        return found;
                    }
                }
                int dep = LockDependency.calcDep(prevMode, mode);
                LockDependency existing = prev.edgeTo(next);
                List<LockDependency> implying;
                if (existing != null) {
                    existing.dep |= dep;
                } else if (path == null && (implying = redundant(prev, prevMode, next, mode)) != null) {
                    if (trace == null) {
                        trace = held.trace != null ? held.trace : Frames.capture();
                    }
                    keepImplied(new Implied(prev, next, dep, trace, prevMode == AcquireMode.EXCLUSIVE,
                            mode == AcquireMode.RECURSIVE_READ), implying);
                } else {
                    if (edges >= maxEdges) {
                        found.add(Violation.capacity("MAX_LOCKDEP_ENTRIES"));
                        return found;
                    }
                    if (trace == null) {
                        trace = held.trace != null ? held.trace : Frames.capture();
                    }
                    addEdge(new LockDependency(prev, next, dep, trace));
                }
            }
            // Stop at the first entry that connects the older ones to next indirectly. Unlike the
            // kernel we also look past recursive readers: A -(ER)-> R -(SN)-> B is not a strong
            // path, so without a direct A -> B the A/B inversion behind a recursive read is lost.
            if (!held.trylocks[i] && prevMode != AcquireMode.RECURSIVE_READ) {
                trace = keepDeeper(held, i, next, mode, trace);
                break;
            }
        }
        return found;
    }

    /**
     * The entries below {@code stop} (where {@link #check} stopped walking) were held while
     * {@code next} was taken, too: each such dependency is implied by the path through the
     * held entry at {@code stop}, so it is not an edge (as in the kernel), but it is kept as an
     * {@link Implied} under that path. When a class on the path is freed (the lock held in
     * between belonged to a destroyed queue or a collected key), {@link #zap} turns it into an
     * edge, so that B -&gt; A after A, C, B held and C freed is still a cycle. Costs a search per
     * deeper entry on a chain-cache miss only (a hit never gets here); an entry whose direct
     * edge already carries the dependency, or which no strong path reaches (nothing was
     * learnt from it in this generation, e.g. held across a reset), is skipped.
     *
     * @return the trace, captured here if it was not yet
     */
    private @Nullable List<String> keepDeeper(HeldLocks held, int stop, LockClass next, AcquireMode mode,
                                              @Nullable List<String> trace) {
        for (int j = stop - 1; j >= 0; j--) {
            LockClass prev = held.classes[j];
            if (prev == next || prev.zapped || prev == overflow) {
                continue;
            }
            AcquireMode prevMode = held.modes[j];
            int dep = LockDependency.calcDep(prevMode, mode);
            LockDependency existing = prev.edgeTo(next);
            if (existing != null && (existing.dep & dep) != 0) {
                continue; // already a direct dependency: survives any free but of its ends
            }
            List<LockDependency> implying = redundant(prev, prevMode, next, mode);
            if (implying == null) {
                continue;
            }
            if (trace == null) {
                trace = held.trace != null ? held.trace : Frames.capture();
            }
            keepImplied(new Implied(prev, next, dep, trace, prevMode == AcquireMode.EXCLUSIVE,
                    mode == AcquireMode.RECURSIVE_READ), implying);
        }
        return trace;
    }

    /**
     * The kernel's {@code check_redundant()}: is there already a path from {@code prev} to
     * {@code next} at least as strong as the new edge? It must start with an exclusive-holder
     * edge if {@code prev} is held exclusively (the root's "only *R" flag masks -(S*)-> on the
     * first step), and end with a non-recursive acquirer unless {@code next} is a recursive read.
     * Returns that path (kept with the skipped dependency: {@link Implied}), or null.
     */
    private @Nullable List<LockDependency> redundant(LockClass prev, AcquireMode prevMode, LockClass next, AcquireMode mode) {
        return strongPath(prev, prevMode == AcquireMode.EXCLUSIVE, next, mode == AcquireMode.RECURSIVE_READ);
    }

    /**
     * Breadth-first search for a strong path (no -(xR)-> directly followed by -(Sx)->) from
     * {@code root} to {@code target}, the kernel's {@code __bfs()}. A search state is a class
     * plus "the edge that led here was only *R", so each class is visited at most twice; a
     * visit with a non-recursive last edge dominates one with only recursive ones, which the
     * kernel's one-visit-per-class search can miss.
     *
     * @param rootOnlyXr treat the root as reached through an -(*R)-> edge (masks -(S*)-> first)
     * @param acceptOnlyXr whether reaching target through only -(*R)-> counts as a match
     * @return the path's edges from root to target, or null
     */
    @Nullable List<LockDependency> strongPath(LockClass root, boolean rootOnlyXr, LockClass target, boolean acceptOnlyXr) {
        int states = 2 * (classes.size() + 1);
        LockDependency[] via = new LockDependency[states];
        int[] from = new int[states];
        boolean[] seen = new boolean[states];
        int[] queue = new int[states];
        int head = 0;
        int tail = 0;
        int rootState = state(root, rootOnlyXr);
        seen[rootState] = true;
        queue[tail++] = rootState;
        while (head < tail) {
            int s = queue[head++];
            LockClass c = s >>> 1 == 0 ? overflow : classes.get((s >>> 1) - 1);
            boolean onlyXr = (s & 1) != 0;
            for (LockDependency e : c.after) {
                int dep = e.dep;
                if (onlyXr) {
                    dep &= ~(LockDependency.SR | LockDependency.SN); // -(*R)-> -(S*)-> is not strong
                }
                if (dep == 0) {
                    continue;
                }
                boolean nextOnlyXr = (dep & (LockDependency.SN | LockDependency.EN)) == 0;
                int t = state(e.to, nextOnlyXr);
                if (seen[t] || (nextOnlyXr && seen[state(e.to, false)])) {
                    continue;
                }
                seen[t] = true;
                via[t] = e;
                from[t] = s;
                if (e.to == target && (acceptOnlyXr || !nextOnlyXr)) {
                    List<LockDependency> path = new ArrayList<>();
                    for (int x = t; x != rootState; x = from[x]) {
                        path.add(via[x]);
                    }
                    Collections.reverse(path);
                    return path;
                }
                queue[tail++] = t;
            }
        }
        return null;
    }

    private static int state(LockClass c, boolean onlyXr) {
        return (c.id << 1) | (onlyXr ? 1 : 0);
    }
}
