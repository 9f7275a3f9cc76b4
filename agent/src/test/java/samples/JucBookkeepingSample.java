package samples;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Failed and interrupted acquisitions, downgrade, and waits must leave the thread's held locks
 * as the JVM has them. Each scenario first leaves 'a' NOT held (failed or finished), then takes
 * b alone on main; a worker thread takes b then a. If 'a' were still counted as held on main,
 * main's b would close a false a -> b -> a cycle. Expected: no report at all (policy=WARN).
 */
public final class JucBookkeepingSample {
    private final ReentrantLock a = new ReentrantLock();
    private final ReentrantLock b = new ReentrantLock();
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    private final Object mon = new Object();
    private final Condition aCond = a.newCondition();
    private final Condition rwCond = rw.writeLock().newCondition();

    void workerTakesBThenA() throws InterruptedException {
        Thread t = new Thread(() -> {
            b.lock();
            try {
                a.lock();
                a.unlock();
                rw.writeLock().lock();
                rw.writeLock().unlock();
                synchronized (mon) {
                    mon.hashCode();
                }
            } finally {
                b.unlock();
            }
        }, "worker");
        t.start();
        t.join();
    }

    void mainTakesB(String scenario) {
        b.lock();
        b.unlock();
        System.out.println(scenario + ": a held " + a.isHeldByCurrentThread() + ", rw write held "
                + rw.isWriteLockedByCurrentThread() + ", rw reads " + rw.getReadHoldCount());
    }

    /** Holds 'a' on another thread until released. */
    private Thread holdAElsewhere(CountDownLatch taken, CountDownLatch release) {
        Thread t = new Thread(() -> {
            a.lock();
            try {
                taken.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                a.unlock();
            }
        }, "holder");
        t.setDaemon(true);
        t.start();
        return t;
    }

    public static void main(String[] args) throws Exception {
        JucBookkeepingSample s = new JucBookkeepingSample();
        s.workerTakesBThenA();

        // 1. lockInterruptibly interrupted before it starts
        Thread.currentThread().interrupt();
        try {
            s.a.lockInterruptibly();
            s.a.unlock();
        } catch (InterruptedException expected) {
            // not taken
        }
        s.mainTakesB("interrupted");

        // 2. lockInterruptibly interrupted while blocked, timed tryLock that times out, tryLock that fails
        CountDownLatch taken = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = s.holdAElsewhere(taken, release);
        taken.await();
        Thread me = Thread.currentThread();
        Thread interrupter = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            me.interrupt();
        });
        interrupter.start();
        try {
            s.a.lockInterruptibly();
            s.a.unlock();
        } catch (InterruptedException expected) {
            // not taken
        }
        interrupter.join();
        s.mainTakesB("interrupted-while-blocked");
        System.out.println("timed tryLock " + s.a.tryLock(50, TimeUnit.MILLISECONDS));
        s.mainTakesB("timed-trylock-failed");
        System.out.println("tryLock " + s.a.tryLock());
        s.mainTakesB("trylock-failed");
        release.countDown();
        holder.join();

        // 3. a taken twice, condition waits with timeouts, released twice
        s.a.lock();
        s.a.lock();
        try {
            s.aCond.await(10, TimeUnit.MILLISECONDS);
            s.aCond.awaitNanos(1_000_000);
        } finally {
            s.a.unlock();
            s.a.unlock();
        }
        s.mainTakesB("reentrant-await");

        // 4. write, read (downgrade), write released, read released; write with a condition wait
        s.rw.writeLock().lock();
        s.rw.readLock().lock();
        s.rw.writeLock().unlock();
        s.rw.readLock().unlock();
        s.rw.writeLock().lock();
        try {
            s.rwCond.await(10, TimeUnit.MILLISECONDS);
        } finally {
            s.rw.writeLock().unlock();
        }
        s.mainTakesB("downgrade");

        // 5. Object.wait interrupted
        Thread.currentThread().interrupt();
        synchronized (s.mon) {
            try {
                s.mon.wait();
            } catch (InterruptedException expected) {
                // monitor re-taken, then left
            }
        }
        s.mainTakesB("wait-interrupted");

        // 6. unlock of a lock not held: IMSE, nothing else changes
        try {
            s.a.unlock();
        } catch (IllegalMonitorStateException expected) {
            System.out.println("unlock not held: IllegalMonitorStateException");
        }
        s.mainTakesB("bad-unlock");
        s.workerTakesBThenA();
        System.out.println("done");
    }
}
