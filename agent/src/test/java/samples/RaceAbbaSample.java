package samples;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * A real ABBA race: two threads each take their first lock, meet at a barrier, then each takes
 * the other's lock. Without the agent this deadlocks (the threads are daemons and main gives up
 * after 10 s). Under policy=THROW one of the two second acquisitions must be refused before
 * blocking, so both threads end. Arguments: "monitor" or "lock" (synchronized or ReentrantLock).
 */
public final class RaceAbbaSample {
    static final class Left {
    }

    static final class Right {
    }

    public static void main(String[] args) throws Exception {
        boolean monitors = args.length == 0 || args[0].equals("monitor");
        Object left = new Left();
        Object right = new Right();
        ReentrantLock leftLock = new ReentrantLock();
        ReentrantLock rightLock = new ReentrantLock();
        CyclicBarrier barrier = new CyclicBarrier(2);
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        Thread a = new Thread(() -> run(monitors, left, right, leftLock, rightLock, barrier, refused, finished), "a");
        Thread b = new Thread(() -> run(monitors, right, left, rightLock, leftLock, barrier, refused, finished), "b");
        a.setDaemon(true);
        b.setDaemon(true);
        a.start();
        b.start();
        a.join(10_000);
        b.join(10_000);
        System.out.println(a.isAlive() || b.isAlive() ? "deadlocked" : "ended, refused " + refused.get() + ", finished " + finished.get());
    }

    private static void run(boolean monitors, Object first, Object second, ReentrantLock firstLock,
                            ReentrantLock secondLock, CyclicBarrier barrier, AtomicInteger refused, AtomicInteger finished) {
        try {
            if (monitors) {
                synchronized (first) {
                    barrier.await();
                    synchronized (second) {
                        finished.incrementAndGet();
                    }
                }
            } else {
                firstLock.lock();
                try {
                    barrier.await();
                    secondLock.lock();
                    try {
                        finished.incrementAndGet();
                    } finally {
                        secondLock.unlock();
                    }
                } finally {
                    firstLock.unlock();
                }
            }
        } catch (PotentialDeadlockException e) {
            refused.incrementAndGet();
        } catch (Exception e) {
            System.out.println("unexpected " + e);
        }
    }
}
