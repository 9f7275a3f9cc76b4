package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ValidatedReadWriteLock.builder(..).recursiveReaders(true)}: its javadoc says readers
 * are recursive ('R', "never wait for writers"), and lockdep validates them so (an
 * L -(ER)-> RW -(SN)-> L cycle is not strong, so not reported). But the lock still wraps a
 * {@code ReentrantReadWriteLock}, whose new readers do wait behind a queued writer: the
 * readers are really 'r', and the classic r/L/W three-thread deadlock happens unpredicted.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break4LdRecursiveReadersTest {

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void aRecursiveReaderMustNotWaitBehindAQueuedWriter() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), ld)
                .recursiveReaders(true).build();
        CountDownLatch readHeld = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread reader1 = daemon(() -> {
            rw.readLock().lock();
            readHeld.countDown();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                rw.readLock().unlock();
            }
        });
        readHeld.await();
        Thread writer = daemon(() -> {
            rw.writeLock().lock();
            rw.writeLock().unlock();
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (writer.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        AtomicBoolean secondReaderGotIt = new AtomicBoolean();
        Thread reader2 = daemon(() -> {
            try {
                if (rw.readLock().tryLock(1, TimeUnit.SECONDS)) {
                    secondReaderGotIt.set(true);
                    rw.readLock().unlock();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        reader2.join(5_000);
        release.countDown();
        reader1.join(5_000);
        writer.join(5_000);
        assertThat(secondReaderGotIt.get())
                .as("expected: a recursive reader ('R', javadoc: never waits for writers) gets the read lock while"
                        + " only readers hold it; actual: it waited behind the queued writer for 1 s and gave up")
                .isTrue();
    }

    @Test
    void theRwLWriterDeadlockIsPredictedOrCannotHappen() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), ld)
                .recursiveReaders(true).build();
        ValidatedLock l = new ValidatedLock("l", new LockClassKey("L"), ld);
        AtomicReference<Throwable> predicted = new AtomicReference<>();

        CountDownLatch t1HasRead = new CountDownLatch(1);
        CountDownLatch t2HasL = new CountDownLatch(1);
        CountDownLatch writerQueued = new CountDownLatch(1);
        AtomicBoolean t1GotL = new AtomicBoolean();
        AtomicBoolean t2GotRead = new AtomicBoolean();
        AtomicBoolean writerGot = new AtomicBoolean();

        // T1: read RW, then L.
        Thread t1 = daemon(() -> {
            Lock r = rw.readLock();
            r.lock();
            try {
                t1HasRead.countDown();
                t2HasL.await(5, TimeUnit.SECONDS);
                writerQueued.await(5, TimeUnit.SECONDS);
                if (l.tryLock(4, TimeUnit.SECONDS)) {
                    t1GotL.set(true);
                    l.unlock();
                }
            } catch (PotentialDeadlockException e) {
                predicted.compareAndSet(null, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                r.unlock();
            }
        });
        t1HasRead.await(5, TimeUnit.SECONDS);
        // T2: L, then read RW.
        Thread t2 = daemon(() -> {
            l.lock();
            try {
                t2HasL.countDown();
                writerQueued.await(5, TimeUnit.SECONDS);
                if (rw.readLock().tryLock(2, TimeUnit.SECONDS)) {
                    t2GotRead.set(true);
                    rw.readLock().unlock();
                }
            } catch (PotentialDeadlockException e) {
                predicted.compareAndSet(null, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                l.unlock();
            }
        });
        t2HasL.await(5, TimeUnit.SECONDS);
        // W: the writer, queued behind T1's read hold.
        Thread w = daemon(() -> {
            try {
                if (rw.writeLock().tryLock(3, TimeUnit.SECONDS)) {
                    writerGot.set(true);
                    rw.writeLock().unlock();
                }
            } catch (PotentialDeadlockException e) {
                predicted.compareAndSet(null, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (w.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        writerQueued.countDown();
        t1.join(10_000);
        t2.join(10_000);
        w.join(10_000);
        // T2 (holds L) waits for the read lock behind W, W waits for T1 (read), T1 waits for L: a cycle,
        // broken only by T2's timeout.
        boolean deadlocked = !t2GotRead.get();
        assertThat(predicted.get() != null || !deadlocked)
                .as("expected: lockdep (THROW) refuses an acquisition of the RW-read / L / RW-write cycle before it"
                        + " blocks, or the recursive readers never block; actual: T1 (read RW, wants L), T2 (holds L,"
                        + " wants read RW behind the queued writer, which waits on T1) stayed blocked until T2's read"
                        + " timed out (t2GotRead=%s; T1 got L only after that: %s; writer got in last: %s), no report (%s)",
                        t2GotRead.get(), t1GotL.get(), writerGot.get(), ld)
                .isTrue();
    }
}
