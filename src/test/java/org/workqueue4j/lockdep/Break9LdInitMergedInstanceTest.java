package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code Lockdep.initialize(map)} (the selftest family {@code init_held_*}: {@code LOCK(A);
 * INIT(A)} must FAIL, "held lock freed"/re-init of a held lock) scans only each stack's
 * {@code maps[i]}, the entry's first instance. An instance merged into an entry under a nest
 * lock ({@code lockNestLock}) lives in {@code HeldLocks.members} and is never found, so
 * re-initializing it while it is held is silent, although the project's own contract (README,
 * "Kernel tools": "An instance taken under a nest lock counts as held exactly while it is";
 * {@code isHeld}/{@code assertHeld} use {@code findHolding}) says it is held. (The kernel's
 * {@code debug_check_no_locks_freed()} also only sees {@code hlock->instance}, but this
 * implementation keeps the member list precisely to answer "is this instance held".)
 * Suspected cause: {@code Lockdep.initialize} uses {@code t.maps[i] == map} instead of the
 * member-aware lookup.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break9LdInitMergedInstanceTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    @Test
    void reinitializingAHeldInstanceMergedUnderANestLockIsReported() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        ValidatedLock outer = new ValidatedLock("outer", new LockClassKey("O"), ld);
        LockClassKey k = new LockClassKey("I");
        ValidatedLock i1 = new ValidatedLock("i1", k, ld);
        ValidatedLock i2 = new ValidatedLock("i2", k, ld);
        outer.lock();
        i1.lockNestLock(outer);
        i2.lockNestLock(outer);
        assertThat(ld.isHeld(i2.map())).as("the validator itself says i2 is held").isTrue();
        ld.initialize(i2.map());
        i2.unlock();
        i1.unlock();
        outer.unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.INIT_HELD);
    }
}
