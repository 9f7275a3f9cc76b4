package org.workqueue4j.lockdep;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A node of the dependency graph (the kernel's {@code lock_class}): one per (key, subclass) per
 * {@link DependencyGraph}. The identity fields are final; the edge lists, the chain set and
 * {@link #zapped} are guarded by the graph lock.
 *
 * <p>A class does not reference its {@link LockClassKey}: the graph keeps keys weakly, so a key
 * that no lock refers to any more can be collected and its class freed.
 */
final class LockClass {

    /** Slot in the graph's class table, 1-based; reused after the class is freed (BFS index). */
    final int id;
    /**
     * Never reused within a graph: chain keys are built from it, so a chain key of a freed class
     * can never match a chain of a later class that got the same slot.
     */
    final long uid;
    final String name;
    final int subclass;
    /** The graph generation that owns this class; a class from an older generation is stale. */
    final DependencyGraph graph;
    /** Outgoing edges, {@code this -> later}: locks acquired while this one was held. Guarded by the graph lock. */
    final List<LockDependency> after = new ArrayList<>();
    /** Incoming edges, {@code earlier -> this}, so that freeing the class can unlink them. Guarded by the graph lock. */
    final List<LockDependency> before = new ArrayList<>();
    /**
     * Dependencies from or to this class, or implied through it, that were skipped as redundant
     * ({@link DependencyGraph.Implied}); null until there is one. Guarded by the graph lock.
     */
    @Nullable List<DependencyGraph.Implied> implied;
    /** Keys of the cached chains that contain this class, dropped with it. Guarded by the graph lock. */
    final Set<Long> chains = new HashSet<>();
    /**
     * Set (under the graph lock) when the class is freed. Read racily by {@link Lockdep}'s
     * class-cache check: a stale false only lets a lock of a destroyed queue, used during its
     * own destruction, be validated once more against the freed class, which the slow path
     * then ignores (it re-checks under the graph lock).
     */
    boolean zapped;
    /** {@link #identity(LockClassKey, int)} of this class's key and subclass. */
    private final String identity;
    /** lock_stat counters; null unless statistics are on. */
    final @Nullable LockStatCounters stat;

    /**
     * @param name the key's name
     * @param keySerial the key's {@link LockClassKey#serial}, for {@link #identity()}
     * @param version the key's name version (the kernel's {@code name_version}): 1 for the first
     *     live key of that name, n for a later one, printed as {@code name#n}
     */
    LockClass(int id, long uid, String name, long keySerial, int version, int subclass, DependencyGraph graph) {
        this.stat = graph != null && graph.lockStat ? new LockStatCounters() : null;
        this.id = id;
        this.uid = uid;
        this.subclass = subclass;
        this.name = printName(name, version, subclass);
        this.identity = identity(name, keySerial, subclass);
        this.graph = graph;
    }

    /**
     * The kernel's {@code __print_lock_name()}: the key's name, {@code #version} when another
     * live key had the name first, {@code /subclass} for a subclass: {@code M}, {@code M#2},
     * {@code M#2/1}. A key whose name is unique prints as its name.
     */
    static String printName(String name, int version, int subclass) {
        if (version <= 1 && subclass == 0) {
            return name;
        }
        StringBuilder sb = new StringBuilder(name);
        if (version > 1) {
            sb.append('#').append(version);
        }
        if (subclass != 0) {
            sb.append('/').append(subclass);
        }
        return sb.toString();
    }

    /**
     * The identity of the class of {@code key} as {@code subclass} in a report's signature
     * ({@code LockdepReport.signature()}): the key's name, its never-reused
     * {@link LockClassKey#serial} and the subclass. The same whether or not the class exists
     * yet (a report made before the acquisition that creates it, or a lock never taken), so
     * one problem is one report; two keys of one name, or a freed key and a later one of its
     * name, are never one class. The name version is left out: it is given at registration.
     */
    static String identity(LockClassKey key, int subclass) {
        return identity(key.name(), key.serial, subclass);
    }

    private static String identity(String keyName, long keySerial, int subclass) {
        return keyName + '\u0001' + keySerial + '/' + subclass;
    }

    /** {@return this class's {@link #identity(LockClassKey, int)}} */
    String identity() {
        return identity;
    }

    /** Returns the edge to {@code next}, or null. Caller holds the graph lock. */
    @Nullable LockDependency edgeTo(LockClass next) {
        for (LockDependency e : after) {
            if (e.to == next) {
                return e;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return name;
    }
}
