package samples;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The lock-guard idiom: {@code locked(l)} takes the lock and returns a method reference
 * {@code l::unlock} that try-with-resources calls. The program only ever holds one lock at a
 * time on main, and a worker thread takes 'orders' then 'stock'. There is no lock order that can
 * deadlock: expected verdict with the agent, silent.
 */
public final class LockGuardSample {

    interface Guard extends AutoCloseable {
        @Override
        void close();
    }

    static Guard locked(Lock l) {
        l.lock();
        return l::unlock;
    }

    private final ReentrantLock stock = new ReentrantLock();
    private final ReentrantLock orders = new ReentrantLock();
    private int level;

    public static void main(String[] args) throws InterruptedException {
        LockGuardSample s = new LockGuardSample();
        try (Guard g = locked(s.stock)) {
            s.level++;
        }
        // stock is free now (the program checks it)
        System.out.println("stock held after the guard: " + s.stock.isHeldByCurrentThread());
        Thread worker = new Thread(() -> {
            s.orders.lock();
            try {
                s.stock.lock();
                s.level++;
                s.stock.unlock();
            } finally {
                s.orders.unlock();
            }
        }, "worker");
        worker.start();
        worker.join();
        s.orders.lock(); // main holds nothing else
        s.level++;
        s.orders.unlock();
        System.out.println("done, level " + s.level);
    }
}
