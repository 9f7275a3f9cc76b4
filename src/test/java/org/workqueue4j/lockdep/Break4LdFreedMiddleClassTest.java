package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.CycleDetectingLockFactory;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A dependency A -> B that a thread really made (it held A while it took B) but that the graph
 * only knows through a lock C held in between (A -> C -> B: the held-stack walk stops at C, the
 * first non-trylock entry). When C's class is freed - {@code unregisterKey}, or C's key becomes
 * unreachable ("classes of unreachable keys are freed", README "Long-running services") - A -> B
 * must survive, as a dependency skipped as redundant does ({@code DependencyGraph.Implied}:
 * "A -> Q -> B implied A -> B; Q destroyed; B -> A"). Guava's CycleDetectingLockFactory, fed
 * the same history, reports the B -> A inversion.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break4LdFreedMiddleClassTest {

    private static void onFreshThread(Runnable r) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.setDaemon(true);
        t.start();
        t.join(10_000);
        if (failure.get() instanceof RuntimeException re) {
            throw re;
        }
        if (failure.get() instanceof Error err) {
            throw err;
        }
    }

    /** Runs "B then A" on a fresh thread; returns the PotentialDeadlockException thrown, or null. */
    private static PotentialDeadlockException bThenA(Lock a, Lock b) throws InterruptedException {
        AtomicReference<PotentialDeadlockException> thrown = new AtomicReference<>();
        onFreshThread(() -> {
            b.lock();
            try {
                a.lock();
                a.unlock();
            } catch (PotentialDeadlockException e) {
                thrown.set(e);
            } finally {
                b.unlock();
            }
        });
        return thrown.get();
    }

    private static void aCB(Lock a, Lock c, Lock b) throws InterruptedException {
        onFreshThread(() -> {
            a.lock();
            c.lock();
            b.lock();
            b.unlock();
            c.unlock();
            a.unlock();
        });
    }

    @Test
    void controlWithoutAFreeTheInversionIsReported() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        ValidatedLock c = new ValidatedLock("c", new LockClassKey("C"), ld);
        aCB(a, c, b);
        assertThat(bThenA(a, b)).as("control: A -> C -> B then B -> A").isNotNull();
    }

    @Test
    void guavaReportsTheInversionAfterTheMiddleLockIsGone() throws Exception {
        List<Object> guavaReports = new CopyOnWriteArrayList<>();
        CycleDetectingLockFactory f = CycleDetectingLockFactory.newInstance(guavaReports::add);
        Lock a = f.newReentrantLock("a");
        Lock b = f.newReentrantLock("b");
        Lock c = f.newReentrantLock("c");
        aCB(a, c, b);
        c = null; // the connection-scoped lock goes away
        onFreshThread(() -> {
            b.lock();
            a.lock();
            a.unlock();
            b.unlock();
        });
        assertThat(guavaReports).as("Guava, same history").hasSize(1);
    }

    @Test
    void unregisteringTheMiddleLocksKeyMustNotForgetAtoB() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        LockClassKey cKey = new LockClassKey("conn");
        ValidatedLock c = new ValidatedLock("conn-1", cKey, ld);
        aCB(a, c, b); // a thread held A while it took B
        ld.unregisterKey(cKey); // the connection's class is freed
        PotentialDeadlockException e = bThenA(a, b);
        assertThat(e)
                .as("expected: B -> A refused (a thread held A while taking B: A -> B is a real dependency, as in Guava)"
                        + "; actual: no report after the class of the lock held in between was freed (graph: "
                        + String.valueOf(ld) + ")")
                .isNotNull();
    }

    @Test
    void collectingTheMiddleLocksKeyMustNotForgetAtoB() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        WeakReference<LockClassKey> keyRef = connectionScoped(ld, a, b);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (keyRef.get() != null || ld.stats().freedClasses() == 0) {
            System.gc();
            Thread.sleep(20);
            if (System.nanoTime() > deadline) {
                throw new org.opentest4j.TestAbortedException("the connection's key was not collected in 10 s");
            }
        }
        PotentialDeadlockException e = bThenA(a, b);
        assertThat(e)
                .as("expected: B -> A refused (A was held while B was taken); actual: no report once the"
                        + " connection-scoped key in between was collected and its class freed (" + String.valueOf(ld) + ")")
                .isNotNull();
    }

    /** A per-connection lock with its own key, taken between A and B; nothing keeps the key afterwards. */
    private static WeakReference<LockClassKey> connectionScoped(Lockdep ld, ValidatedLock a, ValidatedLock b)
            throws InterruptedException {
        LockClassKey key = new LockClassKey("conn");
        ValidatedLock c = new ValidatedLock("conn-1", key, ld);
        aCB(a, c, b);
        return new WeakReference<>(key);
    }
}
