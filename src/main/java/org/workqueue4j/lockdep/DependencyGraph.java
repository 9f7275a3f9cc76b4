package org.workqueue4j.lockdep;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One generation of lockdep's state: the lock classes, the dependency graph, the chain cache
 * and the acquisition site of each validated chain. {@link Lockdep#reset()} replaces the whole
 * generation. Everything except {@link #chains}' lookups is guarded by the graph lock.
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

    final ChainCache chains = new ChainCache();
    /** Chain key -> acquisition site of its top lock, for "at:" in reports. */
    final Map<Long, String> chainFrames = new HashMap<>();
    /** The class used for all locks once the class table is full (validation is then off). */
    final LockClass overflow = new LockClass(0, new LockClassKey("<overflow>"), 0, this);

    private final Map<LockClassKey, LockClass[]> byKey = new IdentityHashMap<>();
    private final List<LockClass> classes = new ArrayList<>();
    private int edges;

    /** Returns the class of (key, subclass), creating it unless {@code max} classes exist (then null). */
    @Nullable LockClass classFor(LockClassKey key, int subclass, int max) {
        LockClass[] subs = byKey.computeIfAbsent(key, k -> new LockClass[LockMap.MAX_SUBCLASS + 1]);
        LockClass c = subs[subclass];
        if (c == null) {
            if (classes.size() >= max) {
                return null;
            }
            c = new LockClass(classes.size() + 1, key, subclass, this);
            classes.add(c);
            subs[subclass] = c;
        }
        return c;
    }

    int classCount() {
        return classes.size();
    }

    int edgeCount() {
        return edges;
    }

    /**
     * The checks of a chain-cache miss (the kernel's {@code check_deadlock()} and
     * {@code check_prevs_add()}) for acquiring {@code next} in {@code mode} on top of the first
     * {@code depth} entries of {@code held}. Adds the new dependencies it proves safe; returns
     * the first violation found, or null.
     */
    @Nullable Violation check(HeldLocks held, int depth, LockClass next, AcquireMode mode, int maxEdges) {
        for (int i = 0; i < depth; i++) {
            if (held.classes[i] != next) {
                continue;
            }
            if (mode == AcquireMode.RECURSIVE_READ && held.modes[i].isRead()) {
                continue; // read-after-read recursion of one class is allowed for recursive readers
            }
            return new Violation(LockdepReport.Kind.RECURSIVE, i, List.of(), null);
        }
        List<String> trace = null;
        for (int i = depth - 1; i >= 0; i--) {
            LockClass prev = held.classes[i];
            AcquireMode prevMode = held.modes[i];
            if (prev != next) {
                List<LockDependency> path = strongPath(next, mode == AcquireMode.RECURSIVE_READ,
                        prev, prevMode == AcquireMode.EXCLUSIVE);
                if (path != null) {
                    return new Violation(LockdepReport.Kind.CIRCULAR, i, path, null);
                }
                int dep = LockDependency.calcDep(prevMode, mode);
                LockDependency existing = prev.edgeTo(next);
                if (existing != null) {
                    existing.dep |= dep;
                } else if (!redundant(prev, prevMode, next, mode)) {
                    if (edges >= maxEdges) {
                        return Violation.capacity("MAX_LOCKDEP_ENTRIES");
                    }
                    if (trace == null) {
                        trace = Frames.capture();
                    }
                    prev.after.add(new LockDependency(prev, next, dep, trace));
                    edges++;
                }
            }
            // Stop at the first entry that connects the older ones to next indirectly. Unlike the
            // kernel we also look past recursive readers: A -(ER)-> R -(SN)-> B is not a strong
            // path, so without a direct A -> B the A/B inversion behind a recursive read is lost.
            if (!held.trylocks[i] && prevMode != AcquireMode.RECURSIVE_READ) {
                break;
            }
        }
        return null;
    }

    /**
     * The kernel's {@code check_redundant()}: is there already a path from {@code prev} to
     * {@code next} at least as strong as the new edge? It must start with an exclusive-holder
     * edge if {@code prev} is held exclusively (the root's "only *R" flag masks -(S*)-> on the
     * first step), and end with a non-recursive acquirer unless {@code next} is a recursive read.
     */
    private boolean redundant(LockClass prev, AcquireMode prevMode, LockClass next, AcquireMode mode) {
        return strongPath(prev, prevMode == AcquireMode.EXCLUSIVE, next,
                mode == AcquireMode.RECURSIVE_READ) != null;
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
