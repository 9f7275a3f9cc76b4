package samples;

import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * Striped locks built at one site (one lock class). Holding stripe 0, the program tries stripe 1
 * with tryLock(), the usual way to avoid a deadlock. Run under policy=THROW: if the validator
 * refuses the trylock, the program must not be left holding stripe 1 (it never got it as far as
 * it can tell). Prints what happened and whether stripe 1 is still held.
 */
public final class TryLockThrowSample {
    public static void main(String[] args) {
        ReentrantLock[] stripes = new ReentrantLock[2];
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new ReentrantLock();
        }
        stripes[0].lock();
        try {
            if (stripes[1].tryLock()) {
                try {
                    System.out.println("trylock: taken");
                } finally {
                    stripes[1].unlock();
                }
            } else {
                System.out.println("trylock: busy");
            }
        } catch (PotentialDeadlockException e) {
            System.out.println("trylock: refused " + e.report().summary());
        } finally {
            stripes[0].unlock();
        }
        System.out.println("stripe 1 held after: " + stripes[1].isHeldByCurrentThread()
                + ", hold count " + stripes[1].getHoldCount());
    }
}
