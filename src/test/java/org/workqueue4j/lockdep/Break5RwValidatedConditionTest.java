package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A write-lock condition of a {@code recursiveReaders(true)} validated lock. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break5RwValidatedConditionTest {

    @Test
    void awaitWithReadersInBetweenKeepsValidatorAndLockInStep() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("B5C"), ld).recursiveReaders(true).build();
        Condition c = rw.writeLock().newCondition();
        AtomicReference<Object> after = new AtomicReference<>();
        CountDownLatch waiting = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread waiter = new Thread(() -> {
            try {
                rw.writeLock().lock();
                rw.writeLock().lock();
                waiting.countDown();
                c.await();
                rw.assertHeldWrite();
                rw.readLock().lock(); // downgrade step while write-held twice
                rw.writeLock().unlock();
                rw.writeLock().unlock();
                rw.assertHeldRead();
                rw.readLock().unlock();
                rw.assertNotHeld();
                after.set("ok");
            } catch (Throwable e) {
                after.set(e);
            }
            done.countDown();
        }, "waiter");
        waiter.setDaemon(true);
        waiter.start();
        assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();
        // once the waiter is inside await, readers get in; then a writer signals
        assertThat(rw.readLock().tryLock(10, TimeUnit.SECONDS)).isTrue();
        rw.readLock().lock();
        rw.readLock().unlock();
        rw.readLock().unlock();
        assertThat(rw.writeLock().tryLock(10, TimeUnit.SECONDS)).isTrue();
        c.signalAll();
        rw.writeLock().unlock();
        assertThat(done.await(10, TimeUnit.SECONDS)).as("waiter returned").isTrue();
        assertThat(after.get()).isEqualTo("ok");
        assertThat(ld.reports()).isEmpty();
    }
}
