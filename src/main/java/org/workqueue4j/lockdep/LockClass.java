package org.workqueue4j.lockdep;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A node of the dependency graph (the kernel's {@code lock_class}): one per (key, subclass) per
 * {@link DependencyGraph}. Immutable except for {@link #after}, which only the holder of the
 * graph lock reads or writes.
 */
final class LockClass {

    final int id;
    final String name;
    final LockClassKey key;
    final int subclass;
    /** The graph generation that owns this class; a class from an older generation is stale. */
    final DependencyGraph graph;
    /** Outgoing edges, {@code this -> later}: locks acquired while this one was held. Guarded by the graph lock. */
    final List<LockDependency> after = new ArrayList<>();

    LockClass(int id, LockClassKey key, int subclass, DependencyGraph graph) {
        this.id = id;
        this.key = key;
        this.subclass = subclass;
        this.name = subclass == 0 ? key.name() : key.name() + "/" + subclass;
        this.graph = graph;
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
