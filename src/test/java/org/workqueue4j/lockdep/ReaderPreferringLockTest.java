package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lock behind {@code ValidatedReadWriteLock.builder(..).recursiveReaders(true)}
 * ({@link ReadWriteCore.ReaderPreferring}): the semantics of a {@code ReentrantReadWriteLock}
 * except that readers never wait behind a waiting writer.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReaderPreferringLockTest {

    private static ValidatedReadWriteLock recursive(Lockdep ld) {
        return ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), ld).recursiveReaders(true).build();
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void aWriterWaitsForReadersAndReadersForAHoldingWriter() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = recursive(ld);
        rw.readLock().lock();
        AtomicBoolean writerGot = new AtomicBoolean();
        Thread w = daemon(() -> {
            try {
                writerGot.set(rw.writeLock().tryLock(200, TimeUnit.MILLISECONDS));
                if (writerGot.get()) {
                    rw.writeLock().unlock();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        w.join();
        assertThat(writerGot).as("writer while read-held").isFalse();
        rw.readLock().unlock();

        rw.writeLock().lock();
        AtomicBoolean readerGot = new AtomicBoolean();
        Thread r = daemon(() -> {
            try {
                readerGot.set(rw.readLock().tryLock(200, TimeUnit.MILLISECONDS));
                if (readerGot.get()) {
                    rw.readLock().unlock();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        r.join();
        assertThat(readerGot).as("reader while write-held").isFalse();
        rw.writeLock().unlock();
        assertThat(ld.reports()).isEmpty();
    }

    @Test
    void reentryAndDowngradeAsInAReentrantReadWriteLock() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = recursive(ld);
        rw.writeLock().lock();
        rw.writeLock().lock();
        rw.readLock().lock(); // downgrade, step 1
        rw.writeLock().unlock();
        rw.writeLock().unlock(); // downgrade done
        rw.assertHeldRead();
        AtomicBoolean writerGot = new AtomicBoolean(true);
        Thread w = daemon(() -> writerGot.set(rw.writeLock().tryLock()));
        w.join();
        assertThat(writerGot).as("another thread's write while read-held after the downgrade").isFalse();
        rw.readLock().lock();
        rw.readLock().unlock();
        rw.readLock().unlock();
        rw.assertNotHeld();
        assertThat(rw.writeLock().tryLock()).isTrue();
        rw.writeLock().unlock();
        assertThat(ld.reports()).isEmpty();
    }

    @Test
    void aWriteConditionReleasesEveryHoldAndTakesThemBack() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = recursive(ld);
        Lock w = rw.writeLock();
        Condition c = w.newCondition();
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = daemon(() -> {
            w.lock();
            w.lock();
            try {
                waiting.countDown();
                c.await();
                rw.assertHeldWrite();
            } catch (Throwable e) {
                failure.set(e);
            } finally {
                w.unlock();
                w.unlock();
            }
        });
        waiting.await();
        // The waiter released both holds inside await: a reader gets in, then the signaller.
        assertThat(rw.readLock().tryLock(5, TimeUnit.SECONDS)).isTrue();
        rw.readLock().unlock();
        w.lock();
        try {
            c.signal();
        } finally {
            w.unlock();
        }
        waiter.join(5_000);
        assertThat(waiter.isAlive()).isFalse();
        assertThat(failure.get()).isNull();
        assertThat(w.tryLock()).as("both holds given back").isTrue();
        w.unlock();
        assertThat(ld.reports()).isEmpty();
    }

    @Test
    void anInterruptedConditionWaitRetakesTheWriteLock() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = recursive(ld);
        Lock w = rw.writeLock();
        Condition c = w.newCondition();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean heldAfter = new AtomicBoolean();
        CountDownLatch waiting = new CountDownLatch(1);
        Thread waiter = daemon(() -> {
            w.lock();
            try {
                waiting.countDown();
                c.await();
            } catch (Throwable e) {
                thrown.set(e);
            }
            try {
                w.unlock(); // throws IllegalMonitorStateException unless the wait took the lock back
                heldAfter.set(true);
            } catch (IllegalMonitorStateException e) {
                heldAfter.set(false);
            }
        });
        waiting.await();
        while (waiter.getState() != Thread.State.WAITING) {
            Thread.sleep(1);
        }
        waiter.interrupt();
        waiter.join(5_000);
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(heldAfter).isTrue();
        assertThat(w.tryLock()).as("released by the waiter's unlock").isTrue();
        w.unlock();
        assertThatThrownBy(c::await).isInstanceOf(IllegalMonitorStateException.class);
        assertThatThrownBy(c::signal).isInstanceOf(IllegalMonitorStateException.class);
    }

    @Test
    void unlockingASideNotHeldThrows() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedReadWriteLock rw = recursive(ld);
        assertThatThrownBy(() -> rw.readLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        assertThatThrownBy(() -> rw.writeLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        rw.readLock().lock();
        assertThatThrownBy(() -> rw.writeLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        assertThat(ld.isHeld(rw.map())).as("the read hold is kept").isTrue();
        rw.readLock().unlock();
        assertThat(ld.isHeld(rw.map())).isFalse();
    }

    @Test
    void aLeakReleaseDropsEveryHold() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedReadWriteLock rw = recursive(ld);
        rw.writeLock().lock();
        rw.writeLock().lock();
        rw.readLock().lock();
        java.util.Objects.requireNonNull(rw.map().leakRelease).run();
        ld.release(rw.map()); // what checkLeaks does to the validator's record
        AtomicBoolean writerGot = new AtomicBoolean();
        Thread w = daemon(() -> {
            writerGot.set(rw.writeLock().tryLock());
            if (writerGot.get()) {
                rw.writeLock().unlock();
            }
        });
        try {
            w.join(5_000);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        assertThat(writerGot).isTrue();
    }
}
