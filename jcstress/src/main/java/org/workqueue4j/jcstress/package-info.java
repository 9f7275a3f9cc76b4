/**
 * jcstress race tests for workqueue4j, one class per property, one nested {@code @JCStressTest}
 * per race, each opening with the invariant it checks (SPEC §7).
 *
 * <ul>
 *   <li>{@link org.workqueue4j.jcstress.PendingBitTest}: pending at most once, every true return
 *       runs, no lost event, non-reentrancy across CPUs;</li>
 *   <li>{@link org.workqueue4j.jcstress.FlushTest}: queue flush vs concurrent queue/flush, work
 *       flush vs a concurrent queue of the same item;</li>
 *   <li>{@link org.workqueue4j.jcstress.CancelTest}: cancelSync vs self-requeue, disable vs queue;</li>
 *   <li>{@link org.workqueue4j.jcstress.DelayedWorkTest}: cancel, modDelayed and flush vs timer
 *       expiry;</li>
 *   <li>{@link org.workqueue4j.jcstress.DestroyTest}: destroy vs queue;</li>
 *   <li>{@link org.workqueue4j.jcstress.LazyQueueHolderTest}: both strategies publish one live
 *       queue; MUTEX never allocates twice, CAS_DISCARD destroys exactly the loser's;</li>
 *   <li>{@link org.workqueue4j.jcstress.UsedFlagTest}: publication of the per-queue
 *       {@code used} flag to a reader that happens-after a queue, and to every run;</li>
 *   <li>{@link org.workqueue4j.jcstress.LockdepTest}: concurrent graph updates, the ABBA race
 *       reported exactly once (Guava #2048), an edge learnt by two threads stored once.</li>
 * </ul>
 *
 * <p>Rules of the house: at most two {@code @Actor}s (a third is silently skipped on two CPUs);
 * the runtime is shared ({@link org.workqueue4j.jcstress.SharedRuntime}), per-state objects are
 * work items and, only where the race needs one, a queue; waiting is bounded or left to the
 * {@code @Arbiter}. The CI set is the regex in {@code ci-tests.regex} next to the pom.
 */
package org.workqueue4j.jcstress;
