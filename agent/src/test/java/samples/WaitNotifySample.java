package samples;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Two handshakes: a mailbox with wait/notifyAll on its monitor, and a slot with a
 * ReentrantLock and a Condition. Each consumer waits inside the lock; each producer takes the
 * lock and then a log monitor, and the consumer takes the log monitor after its wait (the
 * same order, lock then log). Verdict with the agent: silent (a wait is a release and a
 * re-acquisition, not a second acquisition of a held lock).
 */
public final class WaitNotifySample {
    private static final Object LOG = new Object();
    private static int logged;

    static final class Mailbox {
        private final Queue<Integer> items = new ArrayDeque<>();

        synchronized void put(int v) {
            items.add(v);
            synchronized (LOG) {
                logged++;
            }
            notifyAll();
        }

        synchronized int take() throws InterruptedException {
            while (items.isEmpty()) {
                wait();
            }
            synchronized (LOG) {
                logged++;
            }
            return items.remove();
        }
    }

    static final class Slot {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition filled = lock.newCondition();
        private final Condition emptied = lock.newCondition();
        private Integer value;

        void put(int v) throws InterruptedException {
            lock.lock();
            try {
                while (value != null) {
                    emptied.await();
                }
                value = v;
                synchronized (LOG) {
                    logged++;
                }
                filled.signalAll();
            } finally {
                lock.unlock();
            }
        }

        int take() throws InterruptedException {
            lock.lock();
            try {
                while (value == null) {
                    filled.await();
                }
                synchronized (LOG) {
                    logged++;
                }
                int v = value;
                value = null;
                emptied.signalAll();
                return v;
            } finally {
                lock.unlock();
            }
        }
    }

    public static void main(String[] args) throws InterruptedException {
        Mailbox box = new Mailbox();
        Slot slot = new Slot();
        int rounds = 200;
        long[] sums = new long[2];
        Thread consumer = new Thread(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    sums[0] += box.take();
                    sums[1] += slot.take();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "consumer");
        consumer.start();
        for (int i = 0; i < rounds; i++) {
            box.put(i);
            slot.put(i);
        }
        consumer.join();
        synchronized (LOG) {
            System.out.println("done, sums " + sums[0] + " " + sums[1] + ", logged " + logged);
        }
    }
}
