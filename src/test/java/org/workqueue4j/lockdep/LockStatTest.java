package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** lock_stat: per-class contention and hold-time statistics, off by default. */
class LockStatTest {

    @Test
    void aContendedAcquisitionAndTheHoldsAreCounted() throws InterruptedException {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().lockStat(true).build();
        ValidatedLock m = new ValidatedLock("m", new LockClassKey("M"), lockdep);
        m.lock();
        Thread waiter = new Thread(() -> {
            m.lock();
            m.unlock();
        }, "waiter");
        waiter.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> waiter.getState() == Thread.State.WAITING);
        m.unlock();
        waiter.join();

        assertThat(lockdep.lockStats()).singleElement().satisfies(s -> {
            assertThat(s.className()).isEqualTo("M");
            assertThat(s.acquisitions()).isEqualTo(2);
            assertThat(s.contentions()).isEqualTo(1);
            assertThat(s.waitTotalNanos()).isPositive();
            assertThat(s.waitMaxNanos()).isEqualTo(s.waitTotalNanos());
            assertThat(s.holdTotalNanos()).isGreaterThanOrEqualTo(s.holdMaxNanos()).isPositive();
        });
        assertThat(lockdep.lockStatText()).contains("contentions").contains("M");
    }

    /**
     * A contended {@code lockNested(1)} counts against the class it is recorded as (X/1), as the
     * kernel's {@code __lock_contended} takes the held entry's class. Before: against the map's
     * own class X, and dropped when X had never been taken plainly.
     */
    @Test
    void aContendedNestedAcquisitionCountsAgainstItsSubclass() throws InterruptedException {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().lockStat(true).build();
        LockClassKey x = new LockClassKey("X");
        ValidatedLock parent = new ValidatedLock("parent", x, lockdep);
        ValidatedLock child = new ValidatedLock("child", x, lockdep);
        child.lock();
        Thread waiter = new Thread(() -> {
            parent.lock();
            child.lockNested(1);
            child.unlock();
            parent.unlock();
        }, "waiter");
        waiter.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> waiter.getState() == Thread.State.WAITING);
        child.unlock();
        waiter.join();

        assertThat(lockdep.lockStats()).filteredOn(s -> s.className().equals("X/1")).singleElement()
                .satisfies(s -> assertThat(s.contentions()).isEqualTo(1));
        assertThat(lockdep.lockStats()).filteredOn(s -> s.className().equals("X")).singleElement()
                .satisfies(s -> assertThat(s.contentions()).isZero());
    }

    @Test
    void offByDefaultNothingIsCollected() throws InterruptedException {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedLock m = new ValidatedLock("m", new LockClassKey("M"), lockdep);
        assertThat(lockdep.lockStatEnabled()).isFalse();
        m.lock();
        m.unlock();
        assertThat(lockdep.lockStats()).isEmpty();
    }
}
