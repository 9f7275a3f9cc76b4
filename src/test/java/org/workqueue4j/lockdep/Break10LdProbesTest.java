package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Held locks across a {@link Lockdep#reset()}, and the site a {@link LockMap#assertHeld} report
 * names.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break10LdProbesTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    private Lockdep ld() {
        return Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    }

    /**
     * reset()'s javadoc: "Locks held across a reset stay held". A thread holding X across a
     * reset: the snapshot lists X among its held locks, and the thread ending with X held is
     * reported. Before: both skipped a stack still on the earlier generation (its owner had not
     * acquired or released since the reset): {@code held=[]} and no report.
     */
    @Test
    void aLockHeldAcrossAResetIsInTheSnapshotAndReportedWhenItsOwnerEndsHoldingIt() throws Exception {
        Lockdep ld = ld();
        ValidatedLock x = new ValidatedLock("x", new LockClassKey("X"), ld);
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            x.lock();
            held.countDown();
            try {
                end.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "holder");
        holder.start();
        held.await();
        ld.reset();
        assertThat(ld.snapshot().threads()).filteredOn(t -> t.thread().equals("holder")).singleElement()
                .satisfies(t -> assertThat(t.held()).singleElement().asString().contains("(X)"));
        end.countDown();
        holder.join();
        ld.stats(); // the sweep of ended threads
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.HELD_AT_EXIT);
            assertThat(r.classes()).containsExactly("X");
        });
    }

    /**
     * A failed {@code LockMap.assertHeld} names its caller, as {@code ValidatedLock.assertHeld}
     * does. Before: "at: org.workqueue4j.lockdep.LockMap.assertHeld(LockMap.java:98)"
     * (Frames.INTERNAL lacked LockMap).
     */
    @Test
    void aFailedLockMapAssertionNamesItsCaller() {
        Lockdep ld = ld();
        LockMap m = new LockMap("m", new LockClassKey("M"));
        m.assertHeld(ld, LockAssertion.HELD);
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.ASSERTION);
            assertThat(r.text()).contains("at: org.workqueue4j.lockdep.Break10LdProbesTest.aFailedLockMapAssertionNamesItsCaller")
                    .doesNotContain("LockMap.assertHeld");
        });
    }
}
