package samples;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.lockdep.PotentialDeadlockException;
import samples.excluded.LockFactory;

/**
 * A field lock built by a library the agent does not instrument (exclude=samples.excluded),
 * first taken with a timed tryLock. README rule 1: a lock read from a field is of class
 * Owner.field. Run under policy=THROW: the ABBA between it and 'index' must be refused naming
 * samples.TimedTryLockSample.store.
 */
public final class TimedTryLockSample {
    private final ReentrantLock store = LockFactory.newLock();
    private final Object index = new Object();

    public static void main(String[] args) throws InterruptedException {
        TimedTryLockSample s = new TimedTryLockSample();
        if (s.store.tryLock(1, TimeUnit.SECONDS)) {
            try {
                synchronized (s.index) {
                    s.index.hashCode();
                }
            } finally {
                s.store.unlock();
            }
        }
        synchronized (s.index) {
            try {
                s.store.lock();
                s.store.unlock();
                System.out.println("timed-trylock-field: ok");
            } catch (PotentialDeadlockException e) {
                System.out.println("timed-trylock-field: refused " + e.report().summary());
            }
        }
    }
}
