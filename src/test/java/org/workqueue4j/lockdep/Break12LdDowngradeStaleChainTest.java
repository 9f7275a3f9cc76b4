package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Before (README faults table): a write-to-read downgrade re-keyed the held entry
 * ({@code Lockdep.downgrade}: mode changed, {@code HeldLocks.rehash}) but left the slot above the top, left over from an earlier push
 * on the *write* chain, in place. {@code HeldLocks.validatedSlot} then trusts that slot's
 * key (the key of the chain with the lock held for write) for the next push, so the next
 * acquisition's slow path validates the *read* stack and caches it under the *write* chain's
 * key. A later, genuinely write-held chain with the same classes hits the cache and is never
 * checked.
 *
 * <p>Correct behaviour (kernel: lock_downgrade() re-acquires the held locks above under new
 * chain keys; check_deadlock() reports a recursive read R taken while another instance of its
 * class is held for write): thread 2's {@code W(A1); trylock(B); R(A2)} is "possible recursive
 * locking", as it is on a validator that never saw the downgrade (the control).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break12LdDowngradeStaleChainTest {

    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    private Lockdep ld() {
        return Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    }

    private static void onThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r);
        t.start();
        t.join();
    }

    /** Thread 2: write A1, trylock B, recursive-read A2 (another instance of A's class). */
    private static void writeThenRecursiveRead(ValidatedReadWriteLock a1, ValidatedLock b, ValidatedReadWriteLock a2) {
        a1.writeLock().lock();
        assertThat(b.tryLock()).isTrue(); // a trylock adds no X -> B dependency (so no cycle through B below)
        a2.readLock().lock();
        a2.readLock().unlock();
        b.unlock();
        a1.writeLock().unlock();
    }

    @Test
    void controlWithoutADowngradeTheWriteThenRecursiveReadIsReported() throws Exception {
        Lockdep ld = ld();
        LockClassKey x = new LockClassKey("X");
        ValidatedReadWriteLock a1 = ValidatedReadWriteLock.builder("a1", x, ld).recursiveReaders(true).build();
        ValidatedReadWriteLock a2 = ValidatedReadWriteLock.builder("a2", x, ld).recursiveReaders(true).build();
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        onThread(() -> writeThenRecursiveRead(a1, b, a2));
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.RECURSIVE);
    }

    @Test
    void aDowngradeDoesNotHideALaterWriteThenRecursiveRead() throws Exception {
        Lockdep ld = ld();
        LockClassKey x = new LockClassKey("X");
        ValidatedReadWriteLock a1 = ValidatedReadWriteLock.builder("a1", x, ld).recursiveReaders(true).build();
        ValidatedReadWriteLock a2 = ValidatedReadWriteLock.builder("a2", x, ld).recursiveReaders(true).build();
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        onThread(() -> {
            a1.writeLock().lock();
            assertThat(b.tryLock()).isTrue(); // chain [W(X), try B], validated and cached
            b.unlock();          // popTop leaves the slot (B, key of [W(X), try B])
            a1.readLock().lock();
            a1.writeLock().unlock(); // downgrade: [R(X)]
            assertThat(b.tryLock()).isTrue(); // reuses the left-over slot: key of [W(X), try B] for the stack [R(X), try B]
            a2.readLock().lock(); // [R(X), B, R(X)]: legal, and cached under the key of [W(X), B, R(X)]
            a2.readLock().unlock();
            b.unlock();
            a1.readLock().unlock();
        });
        assertThat(reports).as("the downgraded sequence itself is legal").isEmpty();
        onThread(() -> writeThenRecursiveRead(a1, b, a2));
        assertThat(reports).as("W(X1); trylock(B); R(X2) is recursive locking (kernel check_deadlock), as in the control")
                .extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.RECURSIVE);
    }
}
