package org.workqueue4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * A {@link ValidatedLock} remembers the held-lock stack of its last acquirer (a plain field,
 * read and written racily) and its {@code unlock()} releases from that stack without checking
 * whose it is. Two threads handing the lock back and forth, through {@code lock()},
 * {@code tryLock()} and a condition wait (which re-acquires inside the {@code ReentrantLock}),
 * must each end with an empty stack of their own and no report. Result: (actor 1 still
 * recorded as holding, actor 2 still recorded as holding, reports).
 */
public class LockdepHolderHintTest {

    static final LockClassKey L = new LockClassKey("L");
    static final LockClassKey M = new LockClassKey("M");

    abstract static class HintState {
        final AtomicInteger reports = new AtomicInteger();
        final Lockdep lockdep = Lockdep.builder().quiet().policy(ReportPolicy.WARN)
                .listener(r -> reports.incrementAndGet())
                .build();
        final ValidatedLock l = new ValidatedLock("l", L, lockdep);
        final ValidatedLock m = new ValidatedLock("m", M, lockdep);

        int stillHeld() {
            return lockdep.isHeld(l.map()) || lockdep.isHeld(m.map()) ? 1 : 0;
        }
    }

    /** {@code lock()} with a nested lock against {@code tryLock()}, falling back to {@code lock()}. */
    @JCStressTest
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "Each thread recorded and released on its own stack.")
    @Outcome(expect = FORBIDDEN, desc = "An entry left on a stack (or popped from the other's), or a report.")
    @State
    public static class LockAgainstTryLock extends HintState {
        @Actor
        public void locker(III_Result r) {
            l.lock();
            m.lock();
            m.unlock();
            l.unlock();
            r.r1 = stillHeld();
        }

        @Actor
        public void tryLocker(III_Result r) {
            if (!l.tryLock()) {
                l.lock();
            }
            l.unlock();
            r.r2 = stillHeld();
        }

        @Arbiter
        public void arbiter(III_Result r) {
            r.r3 = reports.get();
        }
    }

    /**
     * A condition waiter against the thread that signals it: the waiter re-acquires inside the
     * {@code ReentrantLock}, after the signaller's acquisition made the signaller's stack the
     * lock's remembered one.
     */
    @JCStressTest
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "Each thread recorded and released on its own stack.")
    @Outcome(expect = FORBIDDEN, desc = "An entry left on a stack (or popped from the other's), or a report.")
    @State
    public static class AwaitAgainstSignal extends HintState {
        final Condition ready = l.newCondition();
        /** Guarded by {@code l}. */
        boolean signalled;

        @Actor
        public void waiter(III_Result r) {
            l.lock();
            try {
                while (!signalled) {
                    ready.awaitUninterruptibly();
                }
            } finally {
                l.unlock();
            }
            r.r1 = stillHeld();
        }

        @Actor
        public void signaller(III_Result r) {
            l.lock();
            try {
                signalled = true;
                ready.signal();
            } finally {
                l.unlock();
            }
            r.r2 = stillHeld();
        }

        @Arbiter
        public void arbiter(III_Result r) {
            r.r3 = reports.get();
        }
    }
}
