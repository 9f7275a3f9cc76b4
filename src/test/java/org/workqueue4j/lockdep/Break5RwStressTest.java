package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many threads on a reader-preferring lock: mutual exclusion, plain fields written under the
 * write lock seen whole by readers, no thread parked for ever, with re-entry, downgrades,
 * timed and interruptible acquisitions and interrupts.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break5RwStressTest {

    private static final int THREADS = 6;
    private static final int ITERATIONS = 3_000;

    /** Plain fields on purpose. */
    private static final class Shared {
        long a;
        long b;
        long writes;
    }

    private interface RW {
        Lock read();

        Lock write();

        String state();
    }

    private void run(RW rw, boolean interrupts) throws Exception {
        Shared s = new Shared();
        AtomicInteger readersIn = new AtomicInteger();
        AtomicInteger writersIn = new AtomicInteger();
        AtomicLong successfulWrites = new AtomicLong();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(THREADS);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Thread th = new Thread(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                try {
                    for (int i = 0; i < ITERATIONS; i++) {
                        int op = rnd.nextInt(10);
                        if (op < 6) {
                            int depth = 1 + rnd.nextInt(3);
                            int got = 0;
                            try {
                                for (int d = 0; d < depth; d++) {
                                    if (interrupts && rnd.nextBoolean()) {
                                        if (!rw.read().tryLock(rnd.nextInt(50), TimeUnit.MICROSECONDS)) {
                                            break;
                                        }
                                    } else {
                                        rw.read().lock();
                                    }
                                    got++;
                                }
                            } catch (InterruptedException e) {
                                // fine: fewer holds
                            }
                            if (got > 0) {
                                readersIn.incrementAndGet();
                                if (writersIn.get() != 0) {
                                    errors.add("reader inside with a writer inside");
                                }
                                long a = s.a;
                                long b = s.b;
                                if (a != b) {
                                    errors.add("reader saw a=" + a + " b=" + b);
                                }
                                readersIn.decrementAndGet();
                            }
                            for (int d = 0; d < got; d++) {
                                rw.read().unlock();
                            }
                        } else {
                            boolean got;
                            try {
                                if (interrupts && rnd.nextBoolean()) {
                                    rw.write().lockInterruptibly();
                                    got = true;
                                } else if (rnd.nextInt(4) == 0) {
                                    got = rw.write().tryLock(rnd.nextInt(100), TimeUnit.MICROSECONDS);
                                } else {
                                    rw.write().lock();
                                    got = true;
                                }
                            } catch (InterruptedException e) {
                                got = false;
                            }
                            if (!got) {
                                continue;
                            }
                            boolean reenter = rnd.nextBoolean();
                            if (reenter) {
                                rw.write().lock();
                            }
                            if (writersIn.incrementAndGet() != 1 || readersIn.get() != 0) {
                                errors.add("writer inside with writers=" + writersIn.get() + " readers=" + readersIn.get());
                            }
                            long v = s.writes + 1;
                            s.a = v;
                            s.b = v;
                            s.writes = v;
                            successfulWrites.incrementAndGet();
                            writersIn.decrementAndGet();
                            boolean downgrade = rnd.nextInt(3) == 0;
                            if (downgrade) {
                                rw.read().lock();
                            }
                            if (reenter) {
                                rw.write().unlock();
                            }
                            rw.write().unlock();
                            if (downgrade) {
                                if (s.a != s.b) {
                                    errors.add("downgraded reader saw a=" + s.a + " b=" + s.b);
                                }
                                rw.read().unlock();
                            }
                        }
                    }
                } catch (Throwable e) {
                    errors.add(Thread.currentThread().getName() + ": " + e);
                } finally {
                    Thread.interrupted();
                    done.countDown();
                }
            }, "worker-" + t);
            th.setDaemon(true);
            workers.add(th);
        }
        workers.forEach(Thread::start);
        if (interrupts) {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            while (done.getCount() > 0) {
                workers.get(rnd.nextInt(THREADS)).interrupt();
                done.await(200, TimeUnit.MICROSECONDS);
            }
        }
        boolean finished = done.await(90, TimeUnit.SECONDS);
        StringBuilder stuck = new StringBuilder();
        if (!finished) {
            for (Thread w : workers) {
                if (w.isAlive()) {
                    stuck.append(w.getName()).append(' ').append(w.getState()).append(' ');
                    for (StackTraceElement e : w.getStackTrace()) {
                        if (e.getClassName().contains("ReadWriteCore")) {
                            stuck.append(e).append(" | ");
                            break;
                        }
                    }
                }
            }
        }
        assertThat(finished).as("all %d workers finished within 90 s; still running: %s; lock state %s", THREADS, stuck, rw.state())
                .isTrue();
        assertThat(errors).as("exclusion / visibility violations").isEmpty();
        assertThat(s.writes).as("plain counter incremented under the write lock").isEqualTo(successfulWrites.get());
    }

    private static RW core(ReadWriteCore core) {
        return new RW() {
            public Lock read() {
                return core.readLock();
            }

            public Lock write() {
                return core.writeLock();
            }

            public String state() {
                return core.toString();
            }
        };
    }

    private static RW validated(ReadWriteLock l) {
        return new RW() {
            public Lock read() {
                return l.readLock();
            }

            public Lock write() {
                return l.writeLock();
            }

            public String state() {
                return l.toString();
            }
        };
    }

    @Test
    void manyThreadsNoInterrupts() throws Exception {
        run(core(new ReadWriteCore.ReaderPreferring(false)), false);
    }

    @Test
    void manyThreadsWithInterruptsFairGuard() throws Exception {
        run(core(new ReadWriteCore.ReaderPreferring(true)), true);
    }

    @Test
    void validatedRecursiveReadersWithLockdep() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock l = ValidatedReadWriteLock.builder("rw", new LockClassKey("B5RW"), ld).recursiveReaders(true).build();
        run(validated(l), true);
        assertThat(ld.reports()).as("reports").isEmpty();
    }

    /** Producer/consumer on a write-lock condition, with readers hammering: no lost wake-up. */
    @Test
    void conditionHandOffWithReadersAround() throws Exception {
        ReadWriteCore.ReaderPreferring core = new ReadWriteCore.ReaderPreferring(false);
        Lock w = core.writeLock();
        Condition notEmpty = w.newCondition();
        Condition notFull = w.newCondition();
        long[] box = new long[2]; // [0] = full?, [1] = value; plain
        int n = 3_000;
        AtomicLong sum = new AtomicLong();
        CountDownLatch done = new CountDownLatch(4);
        Runnable producer = () -> {
            for (int i = 1; i <= n; i++) {
                w.lock();
                try {
                    while (box[0] == 1) {
                        notFull.awaitUninterruptibly();
                    }
                    box[0] = 1;
                    box[1] = i;
                    notEmpty.signal();
                } finally {
                    w.unlock();
                }
            }
            done.countDown();
        };
        Runnable consumer = () -> {
            for (int i = 1; i <= n; i++) {
                w.lock();
                w.lock();
                try {
                    while (box[0] == 0) {
                        notEmpty.awaitUninterruptibly();
                    }
                    sum.addAndGet(box[1]);
                    box[0] = 0;
                    notFull.signal();
                } finally {
                    w.unlock();
                    w.unlock();
                }
            }
            done.countDown();
        };
        AtomicInteger stop = new AtomicInteger();
        Runnable reader = () -> {
            while (stop.get() == 0) {
                core.readLock().lock();
                core.readLock().lock();
                core.readLock().unlock();
                core.readLock().unlock();
            }
            done.countDown();
        };
        List<Thread> ts = List.of(new Thread(producer, "producer"), new Thread(consumer, "consumer"), new Thread(reader, "r1"),
                new Thread(reader, "r2"));
        ts.forEach(t -> {
            t.setDaemon(true);
            t.start();
        });
        CountDownLatch pc = new CountDownLatch(0);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (ts.get(0).isAlive() || ts.get(1).isAlive()) {
            if (System.nanoTime() > end) {
                break;
            }
            ts.get(1).join(100);
        }
        stop.set(1);
        boolean ok = done.await(10, TimeUnit.SECONDS);
        assertThat(ok).as("producer %s, consumer %s finished; lock %s", ts.get(0).getState(), ts.get(1).getState(), core).isTrue();
        assertThat(sum.get()).isEqualTo((long) n * (n + 1) / 2);
        pc.countDown();
    }
}
