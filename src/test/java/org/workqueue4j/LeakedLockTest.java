package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;
import org.workqueue4j.lockdep.ValidatedReadWriteLock;

/**
 * A work item that returns holding a validated lock is reported as the kernel does ("BUG:
 * workqueue leaked lock or atomic"), and the worker releases the lock so the next item and
 * other threads are not affected (issue 14, defect 5). A thread that ends holding validated
 * locks is reported too.
 */
class LeakedLockTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).build());

    @AfterEach
    void close() {
        rt.close();
    }

    @Test
    void anItemReturningWithALockHeldIsReportedAndTheLockIsReleased() {
        ValidatedLock m = new ValidatedLock("leaky_mutex", new LockClassKey("leaky_mutex"), lockdep);
        WorkQueue q = rt.queueBuilder("leaks").build();
        q.queue(new Work("forgets_unlock", m::lock));
        q.flush();

        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.LEAKED_LOCK);
            assertThat(r.text()).contains("BUG: workqueue leaked lock or atomic")
                    .contains("forgets_unlock").contains("'leaks'").contains("(leaky_mutex)")
                    .contains("at: ").contains("released by the worker");
            assertThat(r.classes()).containsExactly("leaky_mutex");
        });
        assertThat(m.tryLock()).as("the worker released the leaked lock").isTrue();
        m.unlock();
    }

    @Test
    void aLeakedReadLockIsReleasedToo() {
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("leaky_rw", new LockClassKey("leaky_rw"), lockdep);
        WorkQueue q = rt.queueBuilder("leaks").build();
        q.queue(new Work("forgets_read_unlock", () -> {
            rw.readLock().lock();
            rw.readLock().lock();
        }));
        q.flush();
        assertThat(reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.LEAKED_LOCK);
        assertThat(rw.writeLock().tryLock()).as("both read holds were released").isTrue();
        rw.writeLock().unlock();
    }

    @Test
    void anItemThatUnlocksLeaksNothing() {
        ValidatedLock m = new ValidatedLock("tidy_mutex", new LockClassKey("tidy_mutex"), lockdep);
        WorkQueue q = rt.queueBuilder("tidy").build();
        q.queue(new Work("unlocks", () -> {
            m.lock();
            m.unlock();
        }));
        q.flush();
        assertThat(reports).isEmpty();
    }

    @Test
    void aThreadEndingWithAValidatedLockHeldIsReported() throws InterruptedException {
        ValidatedLock m = new ValidatedLock("orphan_mutex", new LockClassKey("orphan_mutex"), lockdep);
        Thread t = new Thread(m::lock, "exits-holding");
        t.start();
        t.join();
        lockdep.stats(); // sweeps the threads that ended

        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.HELD_AT_EXIT);
            assertThat(r.text()).contains("exits-holding is exiting with locks still held!").contains("(orphan_mutex)");
        });
    }
}
