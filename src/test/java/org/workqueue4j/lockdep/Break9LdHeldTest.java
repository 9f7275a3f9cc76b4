package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * Break9Ld probes that hold: kernel-matching verdicts (trylock AA is silent, as validate_chain()
 * skips trylocks; an rwsem read-read of one class is recursive locking, recursive readers are
 * not; R-then-W of one class is), capacity degradation (MAX_LOCK_DEPTH: one report, no
 * corruption; nest-lock merges do not count), reset() with held locks, held-at-exit reported
 * once, name versions in report text, and the controls of the Break9Ld failing tests.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break9LdHeldTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    Lockdep ld() {
        return Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    }

    static void onThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r);
        t.start();
        t.join();
    }

    @Test
    void resetWithLocksHeldThenReleaseIsSilent() {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        a.lock();
        b.lock();
        ld.reset();
        a.unlock();
        b.unlock();
        b.lock();
        a.lock();
        a.unlock();
        b.unlock();
        assertThat(reports).isEmpty();
        assertThat(ld.isHeld(a.map())).isFalse();
    }

    @Test
    void depthLimitIsOneCapacityReportAndNoCorruption() {
        Lockdep ld = ld();
        List<ValidatedLock> locks = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            locks.add(new ValidatedLock("l" + i, new LockClassKey("L" + i), ld));
        }
        for (ValidatedLock l : locks) {
            l.lock();
        }
        for (ValidatedLock l : locks) {
            l.unlock();
        }
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CAPACITY);
            assertThat(r.text()).contains("MAX_LOCK_DEPTH too low");
        });
        assertThat(ld.isHeld(locks.get(0).map())).isFalse();
    }

    @Test
    void instancesMergedUnderANestLockDoNotCountTowardsTheDepth() {
        Lockdep ld = ld();
        ValidatedLock outer = new ValidatedLock("outer", new LockClassKey("O"), ld);
        LockClassKey k = new LockClassKey("I");
        List<ValidatedLock> locks = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            locks.add(new ValidatedLock("i" + i, k, ld));
        }
        outer.lock();
        for (ValidatedLock l : locks) {
            l.lockNestLock(outer);
        }
        for (ValidatedLock l : locks) {
            l.unlock();
        }
        outer.unlock();
        assertThat(reports).isEmpty();
    }

    /** rwsem read is not recursive: A.r -> B, B -> A.r is circular. */
    @Test
    void rwsemReadAbbaIsCircular() throws Exception {
        Lockdep ld = ld();
        ValidatedReadWriteLock a = new ValidatedReadWriteLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        onThread(() -> {
            a.readLock().lock();
            b.lock();
            b.unlock();
            a.readLock().unlock();
        });
        b.lock();
        a.readLock().lock();
        a.readLock().unlock();
        b.unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.CIRCULAR);
    }

    /** Recursive read: A.R -> B, B -> A.R: B -(ER)-> A -(SN)-> B is not strong, silent. */
    @Test
    void recursiveReadAbbaIsSilent() throws Exception {
        Lockdep ld = ld();
        ValidatedReadWriteLock a = ValidatedReadWriteLock.builder("a", new LockClassKey("A"), ld).recursiveReaders(true).build();
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        onThread(() -> {
            a.readLock().lock();
            b.lock();
            b.unlock();
            a.readLock().unlock();
        });
        b.lock();
        a.readLock().lock();
        a.readLock().unlock();
        b.unlock();
        assertThat(reports).isEmpty();
    }

    /** print_lock_name: two classes named m are m and m#2; both chains carry stack lines. */
    @Test
    void sameNamedClassesAreVersionedInTheReport() throws Exception {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("m", new LockClassKey("m"), ld);
        ValidatedLock b = new ValidatedLock("m", new LockClassKey("m"), ld);
        onThread(() -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
        });
        b.lock();
        a.lock();
        a.unlock();
        b.unlock();
        assertThat(reports).singleElement().satisfies(r -> assertThat(r.text())
                .contains("-> #1 (m#2):").contains("-> #0 (m):").contains("lock(m#2);").contains("Break9LdHeldTest"));
    }

    /** validate_chain(): "if (!hlock->trylock && ...)": a trylock of a held class is not checked. */
    @Test
    void trylockOfAHeldClassIsSilentAsInTheKernel() {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("A");
        ValidatedLock a1 = new ValidatedLock("a1", k, ld);
        ValidatedLock a2 = new ValidatedLock("a2", k, ld);
        a1.lock();
        assertThat(a2.tryLock()).isTrue();
        a2.unlock();
        a1.unlock();
        assertThat(reports).isEmpty();
    }

    /** A timed tryLock waits: validated as a lock (documented), so AA is recursive. */
    @Test
    void timedTryLockOfAHeldClassIsRecursive() throws Exception {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("A");
        ValidatedLock a1 = new ValidatedLock("a1", k, ld);
        ValidatedLock a2 = new ValidatedLock("a2", k, ld);
        a1.lock();
        assertThat(a2.tryLock(1, TimeUnit.SECONDS)).isTrue();
        a2.unlock();
        a1.unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.RECURSIVE);
    }

    @Test
    void heldAtExitIsReportedOnceAcrossSweeps() throws Exception {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        Thread t = new Thread(a::lock, "dier");
        t.start();
        t.join();
        ld.stats();
        ld.stats();
        ld.snapshot();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.HELD_AT_EXIT);
    }

    /** check_deadlock(): next->read == 1 (rwsem read) over a held reader of its class is recursive. */
    @Test
    void rwsemReadReadOfOneClassIsRecursive() {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("R");
        ValidatedReadWriteLock r1 = new ValidatedReadWriteLock("r1", k, ld);
        ValidatedReadWriteLock r2 = new ValidatedReadWriteLock("r2", k, ld);
        r1.readLock().lock();
        r2.readLock().lock();
        r2.readLock().unlock();
        r1.readLock().unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.RECURSIVE);
    }

    /** check_deadlock(): "(next->read == 2) && prev->read": continue. */
    @Test
    void recursiveReadReadOfOneClassIsSilent() {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("R");
        ValidatedReadWriteLock r1 = ValidatedReadWriteLock.builder("r1", k, ld).recursiveReaders(true).build();
        ValidatedReadWriteLock r2 = ValidatedReadWriteLock.builder("r2", k, ld).recursiveReaders(true).build();
        r1.readLock().lock();
        r2.readLock().lock();
        r2.readLock().unlock();
        r1.readLock().unlock();
        assertThat(reports).isEmpty();
    }

    @Test
    void recursiveReadThenWriteOfOneClassIsRecursive() {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("R");
        ValidatedReadWriteLock r1 = ValidatedReadWriteLock.builder("r1", k, ld).recursiveReaders(true).build();
        ValidatedReadWriteLock r2 = ValidatedReadWriteLock.builder("r2", k, ld).recursiveReaders(true).build();
        r1.readLock().lock();
        r2.writeLock().lock();
        r2.writeLock().unlock();
        r1.readLock().unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.RECURSIVE);
    }

    /** Control of Break9LdInitMergedInstanceTest: re-init of the merged entry's first instance is reported. */
    @Test
    void reinitializingTheFirstMergedInstanceIsReported() {
        Lockdep ld = ld();
        ValidatedLock outer = new ValidatedLock("outer", new LockClassKey("O"), ld);
        LockClassKey k = new LockClassKey("I");
        ValidatedLock i1 = new ValidatedLock("i1", k, ld);
        ValidatedLock i2 = new ValidatedLock("i2", k, ld);
        outer.lock();
        i1.lockNestLock(outer);
        i2.lockNestLock(outer);
        ld.initialize(i1.map());
        i2.unlock();
        i1.unlock();
        outer.unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.INIT_HELD);
    }

    /** Control of Break9LdConditionAwaitReacquireTest: A, B, unlock A, lock A is circular (B -> A vs A -> B). */
    @Test
    void unlockThenRelockOfTheOuterLockUnderTheInnerIsCircular() {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        a.lock();
        b.lock();
        a.unlock();
        a.lock();
        b.unlock();
        a.unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.CIRCULAR);
    }

    /** Control of Break9LdLatentWaitOverflowTest: 16 distinct latent waits are all kept; the 16th flush's cycle is reported. */
    @Test
    void theSixteenthDistinctLatentWaitIsStillReported() {
        Lockdep lockdep = ld();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).validator(lockdep)
                .flushAnnotation(FlushAnnotation.DEFER_UNTIL_USED).build());
        try {
            WorkQueue q = rt.queueBuilder("never").build();
            List<ValidatedLock> locks = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                locks.add(new ValidatedLock("L" + i, new LockClassKey("L" + i), lockdep));
            }
            for (ValidatedLock l : locks) {
                l.lock();
                try {
                    q.flush();
                } finally {
                    l.unlock();
                }
            }
            ValidatedLock last = locks.get(15);
            q.queue(new Work("takes-L15", () -> {
                last.lock();
                last.unlock();
            }));
            q.flush();
            assertThat(reports).singleElement().satisfies(r -> {
                assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
                assertThat(r.text()).contains("L15");
            });
            assertThat(lockdep.stats().latentDropped()).isZero();
        } finally {
            rt.close();
        }
    }

    /** Eight threads race the two halves of one ABBA (distinct instances, so nothing blocks): exactly one report per run. */
    @Test
    void concurrentHalvesOfOneCycleAreReportedExactlyOnce() throws Exception {
        for (int round = 0; round < 10; round++) {
            List<LockdepReport> mine = new CopyOnWriteArrayList<>();
            Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(mine::add).build();
            LockClassKey ka = new LockClassKey("A");
            LockClassKey kb = new LockClassKey("B");
            java.util.concurrent.CyclicBarrier bar = new java.util.concurrent.CyclicBarrier(8);
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int k = i;
                Thread t = new Thread(() -> {
                    ValidatedLock p = new ValidatedLock("p" + k, k % 2 == 0 ? ka : kb, ld);
                    ValidatedLock q = new ValidatedLock("q" + k, k % 2 == 0 ? kb : ka, ld);
                    try {
                        bar.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    p.lock();
                    q.lock();
                    q.unlock();
                    p.unlock();
                });
                ts.add(t);
                t.start();
            }
            for (Thread t : ts) {
                t.join();
            }
            assertThat(mine).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.CIRCULAR);
        }
    }
}
