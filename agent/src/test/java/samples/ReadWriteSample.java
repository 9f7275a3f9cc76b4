package samples;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A registry guarded by a ReentrantReadWriteLock, used safely by four threads: reads, writes,
 * a re-entrant read, a write downgraded to a read, a tryLock, and a statistics lock always
 * taken inside the registry lock (one order). Verdict with the agent: silent.
 */
public final class ReadWriteSample {
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    private final Lock stats = new ReentrantLock();
    private final Map<String, Integer> map = new HashMap<>();
    private long reads;

    Integer get(String k) {
        rw.readLock().lock();
        try {
            stats.lock();
            try {
                reads++;
            } finally {
                stats.unlock();
            }
            return map.get(k);
        } finally {
            rw.readLock().unlock();
        }
    }

    int size() {
        rw.readLock().lock();
        try {
            rw.readLock().lock(); // re-entrant read of the same lock: legal
            try {
                return map.size();
            } finally {
                rw.readLock().unlock();
            }
        } finally {
            rw.readLock().unlock();
        }
    }

    void put(String k, int v) {
        rw.writeLock().lock();
        try {
            map.put(k, v);
            stats.lock();
            try {
                reads = 0;
            } finally {
                stats.unlock();
            }
        } finally {
            rw.writeLock().unlock();
        }
    }

    int putAndRead(String k, int v) {
        rw.writeLock().lock();
        rw.readLock().lock(); // downgrade: take the read lock, then let the write lock go
        rw.writeLock().unlock();
        try {
            return get(k) == null ? -1 : map.get(k) + v;
        } finally {
            rw.readLock().unlock();
        }
    }

    boolean tryPut(String k, int v) {
        if (!rw.writeLock().tryLock()) {
            return false;
        }
        try {
            map.put(k, v);
            return true;
        } finally {
            rw.writeLock().unlock();
        }
    }

    public static void main(String[] args) throws InterruptedException {
        ReadWriteSample r = new ReadWriteSample();
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 2000; i++) {
                    String k = "k" + (i % 50);
                    switch ((i + id) % 5) {
                        case 0: r.put(k, i); break;
                        case 1: r.get(k); break;
                        case 2: r.size(); break;
                        case 3: r.putAndRead(k, i); break;
                        default: r.tryPut(k, i); break;
                    }
                }
            }, "rw-" + t);
            threads[t].start();
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        System.out.println("done, size " + r.size());
    }
}
