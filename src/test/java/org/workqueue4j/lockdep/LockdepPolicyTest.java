package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Report policies, listeners and capacity limits. */
class LockdepPolicyTest {

    private final LockClassKey kA = new LockClassKey("A");
    private final LockClassKey kB = new LockClassKey("B");
    private final LockClassKey kC = new LockClassKey("C");
    private final LockClassKey kD = new LockClassKey("D");

    private static void nest(Lockdep lockdep, LockMap outer, LockMap inner) {
        lockdep.acquire(outer);
        lockdep.acquire(inner);
        lockdep.release(inner);
        lockdep.release(outer);
    }

    @Test
    @Timeout(30)
    @DisplayName("THROW: acquire throws before blocking, and the lock is neither taken nor recorded as held")
    void throwPolicyThrowsBeforeBlocking() throws Exception {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedLock a = new ValidatedLock("a", kA, lockdep);
        ValidatedLock b = new ValidatedLock("b", kB, lockdep);
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();

        CountDownLatch aHeld = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            a.lock();
            aHeld.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                a.unlock();
            }
        }, "holder");
        holder.start();
        aHeld.await();

        b.lock();
        assertThatThrownBy(a::lockInterruptibly) // would block forever on the holder if not thrown first
                .isInstanceOf(PotentialDeadlockException.class)
                .satisfies(e -> assertThat(((PotentialDeadlockException) e).report().kind())
                        .isEqualTo(LockdepReport.Kind.CIRCULAR));
        assertThat(a.isHeldByCurrentThread()).isFalse();
        assertThat(lockdep.isHeld(a.map())).isFalse();
        assertThat(lockdep.isHeld(b.map())).isTrue();
        b.unlock();
        done.countDown();
        holder.join();
        assertThat(lockdep.isValidating()).isTrue();
    }

    @Test
    @DisplayName("WARN_ONCE: the first report turns validation off, so a second violation is not reported")
    void warnOnceReportsOnlyTheFirst() {
        Lockdep lockdep = Lockdep.builder().quiet().build();
        assertThat(lockdep.policy()).isEqualTo(ReportPolicy.WARN_ONCE);
        LockMap a = new LockMap("a", kA);
        LockMap b = new LockMap("b", kB);
        LockMap c = new LockMap("c", kC);
        LockMap d = new LockMap("d", kD);
        nest(lockdep, a, b);
        nest(lockdep, b, a);
        nest(lockdep, c, d);
        nest(lockdep, d, c);
        assertThat(lockdep.reportCount()).isEqualTo(1);
        assertThat(lockdep.isValidating()).isFalse();
        assertThat(lockdep.isHeld(a)).isFalse();

        lockdep.reset();
        assertThat(lockdep.isValidating()).isTrue();
        assertThat(lockdep.reportCount()).isZero();
        nest(lockdep, c, d);
        nest(lockdep, d, c);
        assertThat(lockdep.reportCount()).isEqualTo(1);
    }

    @Test
    @DisplayName("WARN: every distinct violation is reported once, repeats are not")
    void warnReportsEachDistinctViolationOnce() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        LockMap a = new LockMap("a", kA);
        LockMap b = new LockMap("b", kB);
        LockMap c = new LockMap("c", kC);
        LockMap d = new LockMap("d", kD);
        nest(lockdep, a, b);
        nest(lockdep, b, a);
        nest(lockdep, b, a);
        nest(lockdep, c, d);
        nest(lockdep, d, c);
        assertThat(lockdep.reports()).extracting(LockdepReport::classes)
                .containsExactly(List.of("A", "B"), List.of("C", "D"));
        assertThat(lockdep.isValidating()).isTrue();
    }

    @Test
    @DisplayName("every listener receives every emitted report, in the reporting thread")
    void listenersReceiveReports() {
        List<LockdepReport> first = new CopyOnWriteArrayList<>();
        List<String> second = new CopyOnWriteArrayList<>();
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet()
                .listener(first::add)
                .listener(r -> second.add(Thread.currentThread().getName()))
                .build();
        LockMap a = new LockMap("a", kA);
        LockMap b = new LockMap("b", kB);
        nest(lockdep, a, b);
        nest(lockdep, b, a);
        lockdep.release(a);
        assertThat(first).extracting(LockdepReport::kind)
                .containsExactly(LockdepReport.Kind.CIRCULAR, LockdepReport.Kind.RELEASE_NOT_HELD);
        assertThat(second).containsExactly(Thread.currentThread().getName(), Thread.currentThread().getName());
        assertThat(lockdep.reports()).isEqualTo(first);
    }

    @Test
    @DisplayName("running out of classes turns validation off with one clear CAPACITY report")
    void classLimit() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().maxClasses(2).build();
        for (LockClassKey k : List.of(kA, kB, kC, kD)) {
            LockMap m = new LockMap(k.name(), k);
            lockdep.acquire(m);
            lockdep.release(m);
        }
        assertThat(lockdep.reports()).hasSize(1);
        LockdepReport r = lockdep.reports().get(0);
        assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CAPACITY);
        assertThat(r.text()).startsWith("BUG: MAX_LOCKDEP_KEYS too low!\nturning off the locking correctness validator.\n");
        assertThat(lockdep.isValidating()).isFalse();
        assertThat(lockdep.stats().classes()).isEqualTo(2);
    }

    @Test
    @DisplayName("running out of edges or chains turns validation off with one CAPACITY report")
    void edgeAndChainLimits() {
        Lockdep edges = Lockdep.builder().policy(ReportPolicy.WARN).quiet().maxEdges(1).build();
        nest(edges, new LockMap("a", kA), new LockMap("b", kB));
        nest(edges, new LockMap("c", kC), new LockMap("d", kD));
        nest(edges, new LockMap("d", kD), new LockMap("a", kA));
        assertThat(edges.reports()).singleElement().satisfies(r ->
                assertThat(r.title()).isEqualTo("BUG: MAX_LOCKDEP_ENTRIES too low!"));
        assertThat(edges.stats().edges()).isEqualTo(1);

        Lockdep chains = Lockdep.builder().policy(ReportPolicy.WARN).quiet().maxChains(2).build();
        nest(chains, new LockMap("a", kA), new LockMap("b", kB));
        nest(chains, new LockMap("c", kC), new LockMap("d", kD));
        assertThat(chains.reports()).singleElement().satisfies(r ->
                assertThat(r.title()).isEqualTo("BUG: MAX_LOCKDEP_CHAINS too low!"));
        assertThat(chains.isValidating()).isFalse();
    }

    @Test
    @DisplayName("more than 48 nested locks is reported once as MAX_LOCK_DEPTH")
    void depthLimit() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        for (int i = 0; i < 50; i++) {
            lockdep.acquire(new LockMap("l" + i, new LockClassKey("L" + i)));
        }
        assertThat(lockdep.reports()).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CAPACITY);
            assertThat(r.title()).isEqualTo("BUG: MAX_LOCK_DEPTH too low!");
        });
    }

    @Test
    @DisplayName("the disabled validator is a no-op")
    void disabledValidator() {
        LockDependencyValidator v = LockDependencyValidator.disabled();
        LockMap a = new LockMap("a", kA);
        v.acquire(a);
        v.acquire(a);
        v.release(a);
        v.release(a);
        v.release(a);
        assertThat(v.isEnabled()).isFalse();
        assertThat(v.isHeld(a)).isFalse();
    }
}
