package samples;

import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * Two locks constructed on one source line, in locals (rule 3: the class of the site that
 * constructed each), always taken in one order: two classes, no report. Prints "ok".
 */
public final class SameLineSample {
    public static void main(String[] args) {
        ReentrantLock accounts = new ReentrantLock(), journal = new ReentrantLock();
        try {
            accounts.lock();
            try {
                journal.lock();
                journal.unlock();
            } finally {
                accounts.unlock();
            }
            System.out.println("ok");
        } catch (PotentialDeadlockException e) {
            System.out.println("refused " + e.report().summary());
        }
    }
}
