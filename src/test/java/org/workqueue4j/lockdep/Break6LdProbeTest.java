package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Break6 probes of kernel/locking/lockdep.c rules that held (kernel verdict in each name):
 * out-of-order release then re-acquire (B -&gt; A against A -&gt; B: circular), reentrant re-entry
 * under another lock (SPEC §5: silent), a trylock on top adds its own dependency to the next
 * blocking lock (check_prevs_add walks past trylocks: circular), a trylock itself adds none
 * (validate_chain skips trylocks: silent), subclass ABBA (A/0 -&gt; A/1 against A/1 -&gt; A/0:
 * circular), the ABBCCA report's chain ("Chain exists of: A --&gt; B --&gt; C", CPU0 holds C), a
 * trylock of a second instance of a held class (no check_deadlock for trylocks: silent), a
 * blocking second instance after a trylocked first (recursive), a cached chain with a trylock on
 * top not hiding the blocking A, X, X chain (the key has the trylock bit: recursive), and r after
 * R of one class (next-&gt;read != 2: recursive).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break6LdProbeTest {
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
    void outOfOrderReleaseThenReacquire() {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("B", new LockClassKey("B"), ld);
        a.lock();
        b.lock();
        a.unlock();
        a.lock();
        a.unlock();
        b.unlock();
        assertThat(reports).as("%s", reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);
    }

    @Test
    void reentrantReentryUnderAnotherLockIsSilent() {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("B", new LockClassKey("B"), ld);
        a.lock();
        b.lock();
        a.lock();
        a.unlock();
        b.unlock();
        a.unlock();
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void trylockOnTopAddsItsDependency() throws Exception {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock t = new ValidatedLock("T", new LockClassKey("T"), ld);
        ValidatedLock b = new ValidatedLock("B", new LockClassKey("B"), ld);
        onThread(() -> {
            a.lock();
            assertThat(t.tryLock()).isTrue();
            b.lock();
            b.unlock();
            t.unlock();
            a.unlock();
        });
        onThread(() -> {
            b.lock();
            t.lock();
            t.unlock();
            b.unlock();
        });
        assertThat(reports).as("%s", reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);
    }

    @Test
    void trylockAddsNoDependencyOfItsOwn() throws Exception {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock t = new ValidatedLock("T", new LockClassKey("T"), ld);
        onThread(() -> {
            a.lock();
            assertThat(t.tryLock()).isTrue();
            t.unlock();
            a.unlock();
        });
        onThread(() -> {
            t.lock();
            a.lock();
            a.unlock();
            t.unlock();
        });
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void subclassAbba() throws Exception {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("A");
        ValidatedLock a1 = new ValidatedLock("a1", k, ld);
        ValidatedLock a2 = new ValidatedLock("a2", k, ld);
        onThread(() -> {
            a1.lock();
            a2.lockNested(1);
            a2.unlock();
            a1.unlock();
        });
        assertThat(reports).isEmpty();
        onThread(() -> {
            a2.lockNested(1);
            a1.lock();
            a1.unlock();
            a2.unlock();
        });
        assertThat(reports).as("%s", reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);
        assertThat(reports.get(0).classes()).containsExactlyInAnyOrder("A", "A/1");
    }

    @Test
    void abbccaReportText() throws Exception {
        Lockdep ld = ld();
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("B", new LockClassKey("B"), ld);
        ValidatedLock c = new ValidatedLock("C", new LockClassKey("C"), ld);
        onThread(() -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        onThread(() -> { b.lock(); c.lock(); c.unlock(); b.unlock(); });
        onThread(() -> { c.lock(); a.lock(); a.unlock(); c.unlock(); });
        assertThat(reports).hasSize(1);
        LockdepReport r = reports.get(0);
        assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
        assertThat(r.classes()).containsExactly("A", "B", "C");
        assertThat(r.text()).contains("Chain exists of:\n  A --> B --> C")
                .contains("trying to acquire lock:\n (A)").contains("already holding lock:\n (C)");
    }


    @Test
    void trylockOfASecondInstanceOfAHeldClassIsSilent() {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("X");
        ValidatedLock x1 = new ValidatedLock("x1", k, ld);
        ValidatedLock x2 = new ValidatedLock("x2", k, ld);
        x1.lock();
        assertThat(x2.tryLock()).isTrue();
        x2.unlock();
        x1.unlock();
        assertThat(reports).as("%s", reports).isEmpty();
    }

    @Test
    void blockingSecondInstanceAfterATrylockedFirstIsRecursive() {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("X");
        ValidatedLock x1 = new ValidatedLock("x1", k, ld);
        ValidatedLock x2 = new ValidatedLock("x2", k, ld);
        assertThat(x1.tryLock()).isTrue();
        x2.lock();
        x2.unlock();
        x1.unlock();
        assertThat(reports).as("%s", reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.RECURSIVE);
    }

    @Test
    void chainCachedWithTrylockDoesNotHideBlockingRecursion() {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("X");
        ValidatedLock a = new ValidatedLock("A", new LockClassKey("A"), ld);
        ValidatedLock x1 = new ValidatedLock("x1", k, ld);
        ValidatedLock x2 = new ValidatedLock("x2", k, ld);
        a.lock();
        x1.lock();
        assertThat(x2.tryLock()).isTrue(); // chain A, X, X(try): not validated (trylock)
        x2.unlock();
        x1.unlock();
        a.unlock();
        assertThat(reports).isEmpty();
        a.lock();
        x1.lock();
        x2.lock();                          // chain A, X, X: must be checked
        x2.unlock();
        x1.unlock();
        a.unlock();
        assertThat(reports).as("%s", reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.RECURSIVE);
    }

    @Test
    void readAfterReadOfAnotherInstanceNonRecursiveIsRecursiveEvenWhenChainCachedAsRecursive() {
        Lockdep ld = ld();
        LockClassKey k = new LockClassKey("RW");
        ValidatedReadWriteLock r1 = ValidatedReadWriteLock.builder("r1", k, ld).recursiveReaders(true).build();
        ValidatedReadWriteLock r2 = ValidatedReadWriteLock.builder("r2", k, ld).recursiveReaders(true).build();
        ValidatedReadWriteLock n2 = ValidatedReadWriteLock.builder("n2", k, ld).build();
        r1.readLock().lock();
        r2.readLock().lock(); // R after R: fine
        r2.readLock().unlock();
        n2.readLock().lock(); // r after R: recursive (next->read != 2)
        n2.readLock().unlock();
        r1.readLock().unlock();
        assertThat(reports).as("%s", reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.RECURSIVE);
    }
}
