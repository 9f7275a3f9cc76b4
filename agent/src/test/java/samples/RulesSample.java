package samples;

import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.workqueue4j.agent.annotation.LockClass;
import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * One scenario per rule the agent must get right, run under policy=THROW on one thread (each
 * scenario uses locks of its own, so one cannot explain another's verdict). Prints one line per
 * scenario: "ok" when nothing was reported, or "refused KIND classes" when the validator threw
 * before the thread blocked.
 */
public final class RulesSample {

    // exit by exception: the monitor must be released when the block is left by a throw
    private final Object first = new Object();
    private final Object second = new Object();

    void exitByException() {
        try {
            synchronized (first) {
                throw new IllegalStateException("leaves the block by exception");
            }
        } catch (IllegalStateException expected) {
            // first is no longer held: taking second then first is the only order there is
        }
        synchronized (second) {
            synchronized (first) {
                report("exit-by-exception", null);
            }
        }
    }

    // read -> write upgrade of one ReentrantReadWriteLock: a real self-deadlock
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();

    void upgrade() {
        rw.readLock().lock();
        try {
            rw.writeLock().lock(); // would block forever without the agent
            rw.writeLock().unlock();
            report("upgrade", null);
        } catch (PotentialDeadlockException e) {
            report("upgrade", e);
        } finally {
            rw.readLock().unlock();
        }
    }

    // trylock rules: a successful tryLock adds no dependency, so the reverse blocking order is fine
    private final ReentrantLock outer = new ReentrantLock();
    private final ReentrantLock inner = new ReentrantLock();

    void trylock() {
        outer.lock();
        try {
            if (inner.tryLock()) {
                inner.unlock();
            }
        } finally {
            outer.unlock();
        }
        inner.lock();
        try {
            outer.lock();
            outer.unlock();
            report("trylock", null);
        } catch (PotentialDeadlockException e) {
            report("trylock", e);
        } finally {
            inner.unlock();
        }
    }

    // @LockClass merges two fields into one class: nesting them is then recursive locking
    @LockClass("samples.bucket")
    private final Object leftBucket = new Object();
    @LockClass("samples.bucket")
    private final Object rightBucket = new Object();

    void merged() {
        synchronized (leftBucket) {
            try {
                synchronized (rightBucket) {
                    report("merged", null);
                }
            } catch (PotentialDeadlockException e) {
                report("merged", e);
            }
        }
    }

    // ...and by default two fields are two classes: the same nesting is fine
    private final Object leftShelf = new Object();
    private final Object rightShelf = new Object();

    void split() {
        synchronized (leftShelf) {
            synchronized (rightShelf) {
                report("split", null);
            }
        }
    }

    // a synchronized method taking a monitor in the reverse order of a block: refused under THROW
    private final Object journal = new Object();

    synchronized void append() {
        synchronized (journal) {
            report("method-then-block", null);
        }
    }

    void reverse() {
        synchronized (journal) {
            try {
                append();
            } catch (PotentialDeadlockException e) {
                report("block-then-method", e);
            }
        }
    }

    // wait() releases only the monitor waited on: waiting on the outer monitor while holding an
    // inner one re-takes the outer under the inner (a notifier taking outer then inner would hang)
    private final Object waitOuter = new Object();
    private final Object waitInner = new Object();

    void waitUnderInnerLock() {
        synchronized (waitOuter) {
            synchronized (waitInner) {
                try {
                    waitOuter.wait(1); // times out: nobody notifies; the verdict is about the order
                    report("wait-under-inner-lock", null);
                } catch (PotentialDeadlockException e) {
                    report("wait-under-inner-lock", e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    // the monitor of a Lock object and the Lock itself are two locks: nesting them is not recursive
    private final ReentrantLock doubleDuty = new ReentrantLock();

    void monitorOfALock() {
        synchronized (doubleDuty) {
            try {
                doubleDuty.lock();
                doubleDuty.unlock();
                report("monitor-of-a-lock", null);
            } catch (PotentialDeadlockException e) {
                report("monitor-of-a-lock", e);
            }
        }
    }

    private static void report(String scenario, PotentialDeadlockException e) {
        System.out.println(scenario + ": " + (e == null ? "ok" : "refused " + e.report().summary()));
    }

    public static void main(String[] args) {
        RulesSample s = new RulesSample();
        s.exitByException();
        s.upgrade();
        s.trylock();
        s.merged();
        s.split();
        s.append();
        s.reverse();
        s.waitUnderInnerLock();
        s.monitorOfALock();
    }
}
