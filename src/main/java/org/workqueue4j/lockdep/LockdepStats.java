package org.workqueue4j.lockdep;

/**
 * A snapshot of {@link Lockdep}'s counters since construction or the last {@link Lockdep#reset()}.
 *
 * <p>Immutable: a snapshot; the counters are not one atomic cut.
 *
 * @param chainHits acquisitions whose held-lock chain was already validated (no graph work)
 * @param chainMisses acquisitions that had to take the graph lock and validate
 * @param classes lock classes registered
 * @param edges dependencies (edges) in the graph
 * @param chains validated chains in the chain cache
 * @param freedClasses classes freed so far (destroyed queues' keys, unreachable keys)
 * @param latentAdded latent waits (DEFER_UNTIL_USED: one per distinct held stack per never-used queue) added to the graph when their queue was first used
 * @param latentDropped latent waits dropped unrecorded (queue destroyed unused, or over the per-queue bound)
 */
public record LockdepStats(long chainHits, long chainMisses, int classes, int edges, int chains, long freedClasses,
                           long latentAdded, long latentDropped) {

    /** {@return {@code hits / (hits + misses)}, or 0 when nothing was acquired} */
    public double chainHitRate() {
        long total = chainHits + chainMisses;
        return total == 0 ? 0.0 : (double) chainHits / total;
    }
}
