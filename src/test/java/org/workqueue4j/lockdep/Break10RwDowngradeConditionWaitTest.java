package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

/**
 * A write-lock condition wait in the middle of a downgrade (write held, read taken): as a
 * {@code ReentrantReadWriteLock}'s write condition, the wait releases the read hold too (another
 * thread can take the write lock meanwhile) and re-takes both before returning. Before, with
 * {@code recursiveReaders(true)} ({@code ReadWriteCore.ReaderPreferring}): the waiter's own read
 * hold stayed counted, and the re-take, waiting for no reader, waited for ever (also a timed
 * {@code awaitNanos}). {@code recursiveReaders(false)} is the JDK's lock: the same test is its
 * reference.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break10RwDowngradeConditionWaitTest {

    @ParameterizedTest(name = "recursiveReaders={0}")
    @ValueSource(booleans = {false, true})
    void aConditionWaitMidDowngradeReleasesAndRetakesBothHolds(boolean recursiveReaders) throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), ld)
                .recursiveReaders(recursiveReaders).build();
        Condition c = rw.writeLock().newCondition();
        CountDownLatch holding = new CountDownLatch(1);
        AtomicReference<Object> after = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                rw.writeLock().lock();
                rw.readLock().lock(); // the downgrade's first step
                holding.countDown();
                c.await();
                rw.assertHeldWrite();
                rw.writeLock().unlock(); // the downgrade's second step
                rw.assertHeldRead();
                rw.readLock().unlock();
                rw.assertNotHeld();
                after.set("ok");
            } catch (Throwable e) {
                after.set(e);
            }
        }, "waiter");
        waiter.start();
        holding.await();
        // Succeeds only while the waiter has released both holds, i.e. is inside await().
        assertThat(rw.writeLock().tryLock(30, TimeUnit.SECONDS)).as("write lock free while the waiter waits").isTrue();
        try {
            c.signal();
        } finally {
            rw.writeLock().unlock();
        }
        waiter.join(30_000);
        assertThat(waiter.isAlive()).as("the waiter re-took its holds and returned").isFalse();
        assertThat(after.get()).isEqualTo("ok");
        assertThat(ld.reports()).isEmpty();
    }
}
