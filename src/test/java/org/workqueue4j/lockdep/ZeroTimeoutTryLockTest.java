package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A timed {@code tryLock} with no time to wait (zero or less) does not wait at all
 * ({@link Lock#tryLock(long, TimeUnit)}), so it is a trylock: held once taken, adding no
 * dependencies, in any order (the kernel's validate_chain()); a positive time can wait and is
 * validated as {@code lock()}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ZeroTimeoutTryLockTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    Lockdep ld(ReportPolicy policy) {
        return Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
    }

    static void onThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r);
        t.start();
        t.join();
    }

    interface Attempt {
        boolean run() throws InterruptedException;
    }

    /** B then A elsewhere; here A held, then an attempt on {@code b}, released if taken. */
    void reverseOrder(Lock a, Lock b, Attempt attempt) throws InterruptedException {
        onThread(() -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });
        onThread(() -> {
            a.lock();
            try {
                if (attempt.run()) {
                    b.unlock();
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            } finally {
                a.unlock();
            }
        });
    }

    @Test
    void aNegativeTimeoutInReverseOrderIsSilentEvenUnderThrow() throws Exception {
        Lockdep ld = ld(ReportPolicy.THROW);
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("B", new LockClassKey("B"), ld);
        reverseOrder(a, b, () -> b.tryLock(-1, TimeUnit.SECONDS));
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void zeroTimeoutOnEitherSideOfAReadWriteLockInReverseOrderIsSilent() throws Exception {
        Lockdep ld = ld(ReportPolicy.WARN);
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("RW", new LockClassKey("RW"), ld);
        ValidatedReadWriteLock rec = ValidatedReadWriteLock.builder("REC", new LockClassKey("REC"), ld)
                .recursiveReaders(true).build();
        reverseOrder(a, rw.writeLock(), () -> rw.writeLock().tryLock(0, TimeUnit.NANOSECONDS));
        reverseOrder(a, rw.readLock(), () -> rw.readLock().tryLock(0, TimeUnit.NANOSECONDS));
        reverseOrder(a, rec.writeLock(), () -> rec.writeLock().tryLock(0, TimeUnit.MILLISECONDS));
        reverseOrder(a, rec.readLock(), () -> rec.readLock().tryLock(0, TimeUnit.MILLISECONDS));
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void aZeroTimeoutTryLockIsHeldWhileItIs() throws Exception {
        Lockdep ld = ld(ReportPolicy.WARN);
        ValidatedLock b = new ValidatedLock("B", new LockClassKey("B"), ld);
        assertThat(b.tryLock(0, TimeUnit.SECONDS)).isTrue();
        b.assertHeld();
        b.unlock();
        b.assertNotHeld();
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void aPositiveTimeoutIsStillValidatedAsLock() throws Exception {
        Lockdep ld = ld(ReportPolicy.WARN);
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("B", new LockClassKey("B"), ld);
        reverseOrder(a, b, () -> b.tryLock(1, TimeUnit.MILLISECONDS));
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.CIRCULAR);
    }

    @Test
    void aZeroTimeoutTryLockByTheHolderOfANonReentrantLockFails() throws Exception {
        Lockdep ld = ld(ReportPolicy.THROW);
        ValidatedLock m = ValidatedLock.builder("m", new LockClassKey("m"), ld).reentrant(false).build();
        m.lock();
        try {
            assertThat(m.tryLock(0, TimeUnit.SECONDS)).isFalse();
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> m.tryLock(0, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).isFalse();
        } finally {
            m.unlock();
        }
        m.assertNotHeld();
        assertThat(reports).as("%s", reports).isEmpty();
    }
}
