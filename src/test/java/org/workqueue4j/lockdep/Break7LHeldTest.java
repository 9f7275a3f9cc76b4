package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * Break7L probes that held against 98470a3 (zero-time tryLock), efffec2 (nest locks as the
 * kernel's) and 4f26cd6 (same-named classes), kept as regression tests.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break7LHeldTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    Lockdep ld() {
        return Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    }

    static void onThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r);
        t.start();
        t.join();
    }

    /**
     * B held, A.tryLock(0) (a trylock: no B -&gt; A), then C: the trylock entry still gives A -&gt; C
     * (the kernel's check_prevs_add adds from trylock entries down to the first non-trylock one),
     * so C then A on another thread is a cycle, reported.
     */
    @Test
    void aZeroTimeTryLockStillLinksToTheLocksTakenAfterIt() throws Exception {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        ValidatedLock c = new ValidatedLock("c", new LockClassKey("C"), ld);
        onThread(() -> {
            b.lock();
            try {
                assertThat(a.tryLock(0, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            c.lock();
            c.unlock();
            a.unlock();
            b.unlock();
        });
        assertThat(reports).isEmpty();
        c.lock();
        a.lock();
        a.unlock();
        c.unlock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.CIRCULAR);
    }

    /** An interrupted tryLock(0) throws and records nothing, on every kind of side. */
    @Test
    void anInterruptedZeroTimeTryLockRecordsNothing() {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock nr = ValidatedLock.builder("nr", new LockClassKey("NR"), ld).reentrant(false).build();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), ld);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> a.tryLock(0, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> rw.readLock().tryLock(0, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> rw.writeLock().tryLock(-1, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        nr.lock();
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> nr.tryLock(0, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        nr.unlock();
        assertThat(Thread.interrupted()).isFalse();
        assertThat(ld.snapshot().threads()).allSatisfy(t -> assertThat(t.held()).isEmpty());
        assertThat(reports).isEmpty();
    }

    /** Zero-time tryLock of the read side while holding the write side (downgrade start) and reentrant holds balance. */
    @Test
    void zeroTimeTryLocksBalanceWithReentryAndDowngrade() throws Exception {
        Lockdep ld = ld();
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), ld);
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        assertThat(a.tryLock(0, TimeUnit.SECONDS)).isTrue();
        assertThat(a.tryLock(0, TimeUnit.SECONDS)).isTrue(); // reentrant
        a.unlock();
        a.assertHeld();
        a.unlock();
        a.assertNotHeld();
        assertThat(rw.writeLock().tryLock(0, TimeUnit.SECONDS)).isTrue();
        assertThat(rw.readLock().tryLock(0, TimeUnit.SECONDS)).isTrue(); // downgrade
        rw.writeLock().unlock();
        rw.assertHeldRead();
        assertThat(rw.writeLock().tryLock(0, TimeUnit.SECONDS)).isFalse(); // no upgrade, no report
        rw.readLock().unlock();
        rw.assertNotHeld();
        assertThat(reports).isEmpty();
    }

    /**
     * A work item returns holding N and x2, x2 merged into the plainly taken x1's entry, x1
     * released: one leak report, and N and x2 (and x1) are free for another thread afterwards.
     */
    @Test
    void aLeakedMergeIntoAPlainEntryIsReleasedFully() throws Exception {
        Lockdep ld = ld();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(ld).build())) {
            WorkQueue q = rt.queueBuilder("q").build();
            LockClassKey xk = new LockClassKey("X");
            ValidatedLock n = new ValidatedLock("n", new LockClassKey("N"), ld);
            ValidatedLock x1 = new ValidatedLock("x1", xk, ld);
            ValidatedLock x2 = new ValidatedLock("x2", xk, ld);
            q.queue(new Work("leaks", () -> {
                n.lock();
                x1.lock();
                x2.lockNestLock(n);
                x1.unlock();
            }));
            q.flush();
            for (ValidatedLock l : List.of(n, x1, x2)) {
                assertThat(l.tryLock(2, TimeUnit.SECONDS)).as("%s free", l).isTrue();
                l.unlock();
            }
        }
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.LEAKED_LOCK);
    }

    /** Name versions never collide among live keys when keys of a name are freed and new ones come. */
    @Test
    void nameVersionsOfLiveKeysStayDistinctAcrossUnregistration() {
        Lockdep ld = ld();
        LockClassKey k1 = new LockClassKey("M");
        LockClassKey k2 = new LockClassKey("M");
        LockClassKey k3 = new LockClassKey("M");
        ValidatedLock m1 = new ValidatedLock("m1", k1, ld);
        ValidatedLock m2 = new ValidatedLock("m2", k2, ld);
        m1.lock();
        m1.unlock();
        m2.lock();
        m2.unlock();
        ld.unregisterKey(k1);
        ValidatedLock m3 = new ValidatedLock("m3", k3, ld);
        m3.lock();
        m3.unlock();
        m1.lock(); // k1 again: a new class
        m1.unlock();
        assertThat(ld.snapshot().classes()).extracting(LockdepSnapshot.ClassInfo::name)
                .doesNotHaveDuplicates().containsExactlyInAnyOrder("M#2", "M#3", "M#4");
    }

    /** The same ABBA, met again by other threads and from its other edge, stays one report. */
    @Test
    void theSameCycleMetAgainIsOneReport() throws Exception {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        ValidatedLock c = new ValidatedLock("c", new LockClassKey("C"), ld);
        onThread(() -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        onThread(() -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });
        onThread(() -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });
        onThread(() -> { c.lock(); b.lock(); a.lock(); a.unlock(); b.unlock(); c.unlock(); });
        assertThat(reports).hasSize(1);
        assertThat(reports.get(0).classes()).containsExactly("A", "B");
    }

    /**
     * N, x1 plain, x2 merged under N, then Y and a plain x3: recursive (no nest lock), and the
     * merged entry's instances release in any order with nothing left held.
     */
    @Test
    void aPlainInstanceOverAMergedEntryIsStillRecursive() {
        Lockdep ld = ld();
        LockClassKey xk = new LockClassKey("X");
        ValidatedLock n = new ValidatedLock("n", new LockClassKey("N"), ld);
        ValidatedLock y = new ValidatedLock("y", new LockClassKey("Y"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", xk, ld);
        ValidatedLock x2 = new ValidatedLock("x2", xk, ld);
        ValidatedLock x3 = new ValidatedLock("x3", xk, ld);
        n.lock();
        x1.lock();
        x2.lockNestLock(n);
        y.lock();
        x3.lock();
        assertThat(reports).extracting(LockdepReport::kind).containsExactly(LockdepReport.Kind.RECURSIVE);
        x3.unlock();
        y.unlock();
        x1.unlock();
        n.unlock();
        x2.assertHeld();
        x2.unlock();
        assertThat(ld.snapshot().threads()).allSatisfy(t -> assertThat(t.held()).isEmpty());
        assertThat(reports).hasSize(1);
    }

    /**
     * Under N: x1, x2 merged; x1 released and taken again under N; then released in the other
     * order: each instance is held exactly while it is, nothing is left held, no report.
     */
    @Test
    void reacquiringAMergedInstanceAfterAPartialReleaseBalances() {
        Lockdep ld = ld();
        LockClassKey xk = new LockClassKey("X");
        ValidatedLock n = new ValidatedLock("n", new LockClassKey("N"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", xk, ld);
        ValidatedLock x2 = new ValidatedLock("x2", xk, ld);
        n.lock();
        x1.lockNestLock(n);
        x2.lockNestLock(n);
        x1.unlock();
        x1.assertNotHeld();
        x2.assertHeld();
        x1.lockNestLock(n);
        x1.assertHeld();
        x2.unlock();
        x2.assertNotHeld();
        x1.assertHeld();
        x1.unlock();
        x1.assertNotHeld();
        n.unlock();
        assertThat(ld.snapshot().threads()).allSatisfy(t -> assertThat(t.held()).isEmpty());
        assertThat(reports).isEmpty();
    }
}
