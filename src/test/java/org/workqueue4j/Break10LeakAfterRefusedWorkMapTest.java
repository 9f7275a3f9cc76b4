package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.PotentialDeadlockException;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * Under {@link ReportPolicy#THROW} the worker's own acquisition of an item's lock map can throw
 * (the item's class closes a cycle through its queue's map); the item still runs, and a lock it
 * then returns holding must still be reported and released by the worker, as for any item
 * (LeakedLockTest). Before: the leak check was tied to the item's map being held, so it was
 * skipped: no report, and the lock stayed held by the worker thread for good.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break10LeakAfterRefusedWorkMapTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
            .flushAnnotation(FlushAnnotation.ALWAYS).uncaughtWorkHandler((q, w, e) -> uncaught.add(e)).build());

    @AfterEach
    void close() {
        rt.close();
    }

    @Test
    void aLockLeakedByAnItemWhoseMapTheWorkerCouldNotTakeIsReportedAndReleased() {
        WorkQueue q = rt.queueBuilder("q").build();
        LockClassKey itemClass = new LockClassKey("item_class");
        // itemClass -> (wq_completion)q: a lock of the item's class held around a flush of q
        ValidatedLock sameClass = new ValidatedLock("same_class", itemClass, lockdep);
        sameClass.lock();
        try {
            q.flush();
        } finally {
            sameClass.unlock();
        }
        ValidatedLock m = new ValidatedLock("leaky_mutex", new LockClassKey("leaky_mutex"), lockdep);
        // the worker holds (wq_completion)q, then takes the item's map: q -> itemClass closes the cycle
        q.queue(new Work("forgets_unlock", itemClass, m::lock));
        q.flush();

        assertThat(uncaught).as("the worker's refused acquisition of the item's map").singleElement()
                .isInstanceOf(PotentialDeadlockException.class);
        assertThat(reports).extracting(LockdepReport::kind).contains(LockdepReport.Kind.LEAKED_LOCK);
        assertThat(m.tryLock()).as("the worker released the leaked lock").isTrue();
        m.unlock();
    }
}
