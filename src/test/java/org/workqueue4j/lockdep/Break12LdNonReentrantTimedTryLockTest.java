package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ValidatedLock.builder(..).reentrant(false)}: README "a re-lock by the holder is
 * reported, and its {@code tryLock()} fails (as {@code mutex_trylock} of a held mutex)", and
 * {@code ZeroTimeoutTryLockTest} pins that {@code tryLock(0, unit)} by the holder fails too.
 * Before (README faults table): a timed {@code tryLock} with a positive timeout by the holder went to the inner
 * {@code ReentrantLock}, which re-enters: it returns {@code true} and the lock is now held twice,
 * so the holder's one {@code unlock()} no longer frees it.
 *
 * <p>Correct behaviour: the lock cannot become free while its only holder waits, so
 * {@code tryLock(1, MILLISECONDS)} by the holder returns false (reported as
 * recursive locking, as now), exactly as {@code tryLock()} and {@code tryLock(0, unit)} do; one
 * {@code unlock()} then releases the lock.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break12LdNonReentrantTimedTryLockTest {

    @Test
    void aTimedTryLockByTheHolderOfANonReentrantLockFails() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedLock m = ValidatedLock.builder("m", new LockClassKey("M"), ld).reentrant(false).build();
        m.lock();
        try {
            assertThat(m.tryLock()).as("control: untimed tryLock by the holder").isFalse();
            assertThat(m.tryLock(0, TimeUnit.SECONDS)).as("control: zero-timeout tryLock by the holder").isFalse();
            boolean timed = m.tryLock(1, TimeUnit.MILLISECONDS);
            if (timed) {
                m.unlock(); // undo the extra hold the bug took, so the lock is left as the test found it
            }
            assertThat(timed).as("tryLock(1 ms) by the holder of a non-reentrant lock: it can never be free meanwhile").isFalse();
        } finally {
            m.unlock();
        }
        assertThat(m.isHeldByCurrentThread()).isFalse();
    }
}
