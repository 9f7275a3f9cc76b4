package org.workqueue4j;

/**
 * Whether waiting on a queue that never had an item is reported to the lock validator (the
 * 2020 LKML thread on {@code sb_init_dio_done_wq()}; SPEC §2 and §5).
 *
 * <p>Flush, drain and destroy "acquire" the queue's pseudo-lock, so a caller holding lock L
 * records L &rarr; queue. If the queue's lock class is shared with queues whose items take L, a
 * destroy of a queue that never had an item is reported as a circular dependency, although it
 * cannot deadlock. Verdicts on the two scenarios (README, "Lock validation"):
 *
 * <table>
 *   <caption>Reports per policy</caption>
 *   <tr><th>scenario</th><th>ALWAYS</th><th>SKIP_NEVER_USED</th><th>DEFER_UNTIL_USED</th></tr>
 *   <tr><td>the seed: the CAS loser destroys its never-used queue under an inode lock</td>
 *       <td>false positive</td><td>silent</td><td>silent</td></tr>
 *   <tr><td>mutual flush: item of q1 flushes never-used q2; later an item of q2 flushes q1</td>
 *       <td>reported</td><td>missed</td><td>reported</td></tr>
 * </table>
 *
 * <p>Immutable; safe to share between threads.
 */
public enum FlushAnnotation {
    /**
     * The default. A flush, drain or destroy of a queue that was never queued to records nothing
     * yet: the caller's held locks are kept <em>latent</em> on that queue instance (one per
     * distinct held stack, at most 16 per queue; more are counted as dropped). When the queue is
     * first queued to, they are added to the graph with the full check, and a problem is
     * reported with the stack of the original call, marked {@link
     * org.workqueue4j.lockdep.LockdepReport#deferred() deferred}. When the queue is destroyed
     * unused they are dropped and counted ({@link org.workqueue4j.lockdep.LockdepStats#latentDropped()}).
     * Silent on the seed (the CAS loser's queue is destroyed unused) and it still catches the
     * mutual-flush cycle that {@link #SKIP_NEVER_USED} misses.
     *
     * <p>Under {@link org.workqueue4j.lockdep.ReportPolicy#THROW} a deferred report is logged,
     * passed to listeners and kept in {@code Lockdep.reports()} like a WARN report, and never
     * thrown: the wait it describes returned long ago, and the thread that makes the queue used
     * (the first queuer) is not the one that could block. Waits on queues already used are
     * recorded at once and thrown as usual.
     *
     * <p>Cost: the queue path pays nothing after a queue's first item (the "used" flag it tests
     * is the one {@link #SKIP_NEVER_USED} already maintains); the first item of a queue takes a
     * monitor once to collect the latent waits; only flushes of never-used queues capture a stack.
     */
    DEFER_UNTIL_USED,
    /**
     * The fix the thread converged on: each queue remembers whether an item was ever queued, and
     * flush, drain and destroy annotate only once it was. Far fewer false negatives than
     * skipping queues that are merely empty right now; the known one: an item of q1 flushing a
     * never-used q2 records nothing, so the mutual-flush cycle is missed.
     */
    SKIP_NEVER_USED,
    /** The kernel's behaviour: always annotate (reproduces the 2020 report). */
    ALWAYS
}
