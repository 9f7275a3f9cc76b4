package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Unlocking the side of a {@code ValidatedReadWriteLock} that the thread does not hold (read
 * unlock while holding only the write lock, or the reverse) throws
 * {@code IllegalMonitorStateException} and changes nothing in the real lock. Both sides share one
 * {@code LockMap}, so the validator must not drop the hold of the other side: the thread still
 * holds it, and the locks it takes next still depend on it.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break4LdWrongSideUnlockTest {

    private static void onFreshThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        t.join(10_000);
    }

    @Test
    void aFailedReadUnlockWhileHoldingTheWriteLockKeepsTheWriteHold() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        AtomicReference<String> heldAfter = new AtomicReference<>();
        onFreshThread(() -> {
            rw.writeLock().lock();
            try {
                try {
                    rw.readLock().unlock(); // misuse: not read-held
                } catch (IllegalMonitorStateException expected) {
                    // the real lock is unchanged: still write-held
                }
                heldAfter.set("validator isHeld=" + ld.isHeld(rw.map()));
                b.lock(); // RW(write) -> B
                b.unlock();
            } finally {
                rw.writeLock().unlock();
            }
        });
        AtomicReference<PotentialDeadlockException> refused = new AtomicReference<>();
        onFreshThread(() -> {
            b.lock();
            try {
                rw.writeLock().lock(); // B -> RW: ABBA with the thread above
                rw.writeLock().unlock();
            } catch (PotentialDeadlockException e) {
                refused.set(e);
            } finally {
                b.unlock();
            }
        });
        assertThat(refused.get())
                .as("expected: B -> RW refused (the first thread held RW's write lock while taking B); actual: not"
                        + " refused; after the failed read unlock the validator had %s; reports: %s", heldAfter.get(),
                        ld.reports().stream().map(LockdepReport::title).toList())
                .isNotNull();
    }

    @Test
    void aFailedWriteUnlockWhileHoldingTheReadLockKeepsTheReadHold() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), ld);
        rw.readLock().lock();
        try {
            rw.writeLock().unlock(); // misuse: not write-held
        } catch (IllegalMonitorStateException expected) {
            // the real lock is unchanged: still read-held
        }
        boolean held = ld.isHeld(rw.map());
        rw.readLock().unlock();
        assertThat(held)
                .as("expected: the validator still sees the read hold after a failed write unlock; actual: isHeld=%s,"
                        + " reports: %s", held, ld.reports().stream().map(LockdepReport::title).toList())
                .isTrue();
    }
}
