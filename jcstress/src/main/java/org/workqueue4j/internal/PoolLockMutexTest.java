package org.workqueue4j.internal;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A pool's lock ({@link PoolLock}) orders two threads' plain read-modify-writes, as the engine's
 * pool state is plain fields under it: each actor reads the counter, runs a section long enough
 * that the other exhausts its spins and waits on the lock's monitor, then writes the counter
 * back. A lost update (or two holders at once) is a count of 1; a lost wake-up leaves an actor
 * waiting for good, which jcstress reports as a stuck test. {@code r2} is the sum of what each
 * actor saw, which must be 0 + 1.
 */
@JCStressTest
@Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "Both increments, one after the other.")
@Outcome(expect = FORBIDDEN, desc = "Both held the lock at once, or an update was lost.")
@State
public class PoolLockMutexTest {
    private final PoolLock lock = new PoolLock();
    private int count; // plain, as pool state is
    private int seen;  // plain

    private void increment() {
        lock.lock();
        try {
            int c = count;
            for (int i = 0; i < 200; i++) { // a long section: the other actor's 64 spins run out and it waits
                Thread.onSpinWait();
            }
            seen += c;
            count = c + 1;
        } finally {
            lock.unlock();
        }
    }

    @Actor
    public void first() {
        increment();
    }

    @Actor
    public void second() {
        increment();
    }

    @Arbiter
    public void check(II_Result r) {
        r.r1 = count;
        r.r2 = seen;
    }
}
