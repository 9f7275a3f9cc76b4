package samples;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock, first named by its construction site (rule 3) on a thread that takes it through a
 * local, then renamed by another thread's field read (rule 1): both threads must then see one
 * class. The main thread takes a then b; the other thread, after the rename, b then a: a cycle.
 * The order of steps is fixed by latches; the program never deadlocks. Prints "done".
 */
public final class RenamedLockSample {
    static final class Box {
        ReentrantLock lock;
    }

    static ReentrantLock make() {
        return new ReentrantLock();
    }

    public static void main(String[] args) throws Exception {
        ReentrantLock a = make();
        ReentrantLock b = make();
        CountDownLatch cached = new CountDownLatch(1);
        CountDownLatch renamed = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            a.lock(); // this thread now knows a by its construction site
            a.unlock();
            cached.countDown();
            try {
                renamed.await();
            } catch (InterruptedException e) {
                return;
            }
            b.lock(); // b -> a
            try {
                a.lock();
                a.unlock();
            } finally {
                b.unlock();
            }
        }, "other");
        other.start();
        cached.await();
        Box box = new Box();
        box.lock = a;
        box.lock.lock(); // a field read: a is of class Box.lock from now on
        box.lock.unlock();
        a.lock(); // a -> b
        try {
            b.lock();
            b.unlock();
        } finally {
            a.unlock();
        }
        renamed.countDown();
        other.join();
        System.out.println("done");
    }
}
