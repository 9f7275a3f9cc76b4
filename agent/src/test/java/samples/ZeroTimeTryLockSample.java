package samples;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * A poll in the reverse order: 'inner' is taken under 'outer', then, holding 'inner', the program
 * polls 'outer' with tryLock(0, SECONDS), which does not wait at all (the Lock contract), and
 * with a positive time, which can. Run under policy=THROW: the poll must not be refused; the
 * timed attempt must be.
 */
public final class ZeroTimeTryLockSample {
    private static final ReentrantLock OUTER = new ReentrantLock();
    private static final ReentrantLock INNER = new ReentrantLock();

    public static void main(String[] args) throws InterruptedException {
        OUTER.lock();
        try {
            INNER.lock();
            INNER.unlock();
        } finally {
            OUTER.unlock();
        }
        INNER.lock();
        try {
            System.out.println("zero-time poll: " + poll(0));
            System.out.println("timed attempt: " + poll(1));
        } finally {
            INNER.unlock();
        }
    }

    private static String poll(long seconds) throws InterruptedException {
        try {
            if (OUTER.tryLock(seconds, TimeUnit.SECONDS)) {
                OUTER.unlock();
                return "taken";
            }
            return "busy";
        } catch (PotentialDeadlockException e) {
            return "refused " + e.report().summary();
        }
    }
}
