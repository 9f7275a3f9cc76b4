package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many instances of one class: the validator keeps per class, not per instance. A lock that
 * nobody refers to any more must be collectable, also one that took part in a report, one
 * released out of order, and one taken under a nest lock.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break4LdInstanceRetentionTest {

    private static boolean collected(WeakReference<?> ref) throws InterruptedException {
        for (int i = 0; i < 100 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        return ref.get() == null;
    }

    @Test
    void manyInstancesOfOneClassAddNoClassesOrChains() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedLock parent = new ValidatedLock("parent", new LockClassKey("parent"), ld);
        LockClassKey k = new LockClassKey("inode");
        parent.lock();
        for (int i = 0; i < 200_000; i++) {
            ValidatedLock l = new ValidatedLock("inode-" + i, k, ld);
            l.lock();
            l.unlock();
        }
        parent.unlock();
        LockdepStats s = ld.stats();
        assertThat(s.classes()).as("classes").isEqualTo(2);
        assertThat(s.chains()).as("chains").isLessThanOrEqualTo(3);
    }

    @Test
    void locksOutOfOrderInAReportAndUnderANestLockAreCollectable() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        LockClassKey ka = new LockClassKey("A");
        LockClassKey kb = new LockClassKey("B");
        ValidatedLock outer = new ValidatedLock("outer", new LockClassKey("outer"), ld);
        WeakReference<ValidatedLock>[] refs = create(ld, ka, kb, outer);
        assertThat(ld.reportCount()).as("the ABBA was reported").isGreaterThan(0);
        String[] what = {"a (in a report)", "b (released out of order)", "x1 (nest)", "x2 (nest)"};
        StringBuilder retained = new StringBuilder();
        for (int i = 0; i < refs.length; i++) {
            if (!collected(refs[i])) {
                retained.append(what[i]).append("; ");
            }
        }
        assertThat(retained.toString()).as("expected: every dropped lock collectable; actual: retained: %s", retained)
                .isEmpty();
    }

    @SuppressWarnings("unchecked")
    private static WeakReference<ValidatedLock>[] create(Lockdep ld, LockClassKey ka, LockClassKey kb, ValidatedLock outer) {
        ValidatedLock a = new ValidatedLock("a", ka, ld);
        ValidatedLock b = new ValidatedLock("b", kb, ld);
        a.lock();
        b.lock();
        a.unlock(); // out of order
        b.unlock();
        b.lock();
        a.lock(); // ABBA: reported under WARN
        a.unlock();
        b.unlock();
        LockClassKey kx = new LockClassKey("X");
        ValidatedLock x1 = new ValidatedLock("x1", kx, ld);
        ValidatedLock x2 = new ValidatedLock("x2", kx, ld);
        outer.lock();
        x1.lockNestLock(outer);
        x2.lockNestLock(outer);
        x1.unlock();
        x2.unlock();
        outer.unlock();
        return new WeakReference[] {new WeakReference<>(a), new WeakReference<>(b), new WeakReference<>(x1),
            new WeakReference<>(x2)};
    }
}
