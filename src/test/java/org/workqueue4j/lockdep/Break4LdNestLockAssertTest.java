package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code lockNestLock(outer)} merges the instances of one class into one held entry (the
 * kernel's {@code hlock->references}). The {@code lockdep_assert_held} family must still see
 * each instance as held exactly while it is: the kernel's {@code match_held_lock()} matches an
 * entry with references by class, and {@code Lockdep.isHeld} does so ({@code findHolding}), but
 * {@code assertHeld} looks the instance up by identity only.
 */
class Break4LdNestLockAssertTest {

    private static String assertion(Runnable r) {
        try {
            r.run();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    @Test
    void assertHeldOfASecondInstanceTakenUnderTheNestLock() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        LockClassKey itemKey = new LockClassKey("item");
        ValidatedLock outer = new ValidatedLock("outer", new LockClassKey("outer"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", itemKey, ld);
        ValidatedLock x2 = new ValidatedLock("x2", itemKey, ld);
        outer.lock();
        x1.lockNestLock(outer);
        x2.lockNestLock(outer);
        try {
            assertThat(x2.isHeldByCurrentThread()).isTrue();
            assertThat(ld.isHeld(x2.map())).as("validator's isHeld").isTrue();
            String thrown = assertion(x2::assertHeld);
            assertThat(thrown)
                    .as("expected: x2.assertHeld() silent (x2 is held; kernel match_held_lock matches the merged entry"
                            + " by class, as Lockdep.isHeld does); actual: reported and thrown under THROW")
                    .isNull();
        } finally {
            x2.unlock();
            x1.unlock();
            outer.unlock();
        }
        assertThat(ld.reports()).as("reports").isEmpty();
    }

    @Test
    void assertNotHeldOfAReleasedFirstInstanceWhileASecondIsHeld() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        LockClassKey itemKey = new LockClassKey("item");
        ValidatedLock outer = new ValidatedLock("outer", new LockClassKey("outer"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", itemKey, ld);
        ValidatedLock x2 = new ValidatedLock("x2", itemKey, ld);
        outer.lock();
        x1.lockNestLock(outer);
        x2.lockNestLock(outer);
        x1.unlock();
        try {
            assertThat(x1.isHeldByCurrentThread()).isFalse();
            String thrown = assertion(x1::assertNotHeld);
            assertThat(thrown)
                    .as("expected: x1.assertNotHeld() silent after x1.unlock() (javadoc: reports if the calling thread"
                            + " holds this lock); actual: reported, the merged entry still names x1")
                    .isNull();
        } finally {
            x2.unlock();
            outer.unlock();
        }
    }
}
