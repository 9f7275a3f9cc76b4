package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Beyond {@code MAX_LOCK_DEPTH} (48) the 49th lock is taken but not recorded
 * ({@code Lockdep.depthExceeded}: "BUG: MAX_LOCK_DEPTH too low!", validation off). A later
 * {@code reset()} turns validation back on while the thread still holds that lock; releasing it
 * then reports a bogus "bad unlock balance" (RELEASE_NOT_HELD L48) for a lock the thread
 * acquired and really holds. Kernel: {@code __lock_acquire} returns after
 * {@code print_lock_depth_bug}/debug_locks_off(), and its {@code lockdep_reset()} also clears
 * the task's held locks ({@code lockdep_init_task(current)}), so no bogus unbalance follows.
 * Locks held across {@code reset()} are otherwise handled here (releasing the 48 recorded ones
 * is silent), only the unrecorded overflow hold is not: suspected cause
 * {@code Lockdep.acquireSlow}/{@code depthExceeded} do not count the unrecorded holds (the
 * kernel's analogue would be to keep validation off for that thread, or to let
 * {@code releaseSlow} recognise them).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break9LdDepthOverflowResetTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    @Test
    void releasingTheUnrecordedOverflowLockAfterResetIsNotABadUnlock() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        List<ValidatedLock> locks = new ArrayList<>();
        for (int i = 0; i < 49; i++) {
            locks.add(new ValidatedLock("l" + i, new LockClassKey("L" + i), ld));
        }
        for (ValidatedLock l : locks) {
            l.lock();
        }
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.CAPACITY);
        ld.reset();
        for (int i = 48; i >= 0; i--) {
            locks.get(i).unlock();
        }
        assertThat(reports).extracting(LockdepReport::summary).containsExactly("CAPACITY ");
    }
}
