package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockMap;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * Lock classes are freed (issue 14, defect 4): a destroyed queue's class with its dependencies
 * and chains (the kernel's lockdep_unregister_key), and the class of a key nothing refers to any
 * more. A service that creates a queue per connection keeps validating forever.
 */
class LockClassLifetimeTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).build());

    @AfterEach
    void close() {
        rt.close();
    }

    /** One connection's life: create a queue, queue an item that takes M, flush, destroy. */
    private void cycle(ValidatedLock m, int i) {
        WorkQueue q = rt.queueBuilder("conn/" + i).build();
        q.queue(new Work("serve", () -> {
            m.lock();
            m.unlock();
        }));
        q.flush();
        q.destroy();
    }

    private void assertStillValidating(ValidatedLock m) {
        assertThat(reports).as("no capacity report, no report at all").isEmpty();
        assertThat(lockdep.isValidating()).isTrue();
        // An inversion made after all those cycles is still found.
        WorkQueue q = rt.queueBuilder("last").build();
        q.queue(new Work("takes-m", () -> {
            m.lock();
            m.unlock();
        }));
        q.flush();
        m.lock();
        try {
            q.flush(); // M -> (wq_completion)last closes last -> M
        } finally {
            m.unlock();
        }
        assertThat(reports).singleElement().extracting(LockdepReport::kind).isEqualTo(LockdepReport.Kind.CIRCULAR);
    }

    @Test
    void twentyThousandQueueLifetimesNeitherFillTheClassTableNorStopValidation() {
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        int base = lockdep.stats().classes();
        for (int i = 0; i < 20_000; i++) {   // well past the 8191-class table
            cycle(m, i);
        }
        assertThat(lockdep.stats().classes()).as("class table stays bounded").isLessThan(base + 16);
        assertThat(lockdep.stats().freedClasses()).isGreaterThanOrEqualTo(20_000);
        assertStillValidating(m);
    }

    @Test
    void theClassesOfUnreachableKeysAreFreedWithTheirDependencies() {
        LockMap outer = new LockMap("outer", new LockClassKey("outer"));
        lockdep.acquire(outer);
        lockdep.release(outer);
        int base = lockdep.stats().classes();
        int edgesBase = lockdep.stats().edges();
        for (int i = 0; i < 1000; i++) {
            LockMap inner = new LockMap("inner" + i, new LockClassKey("inner" + i)); // dropped at once
            lockdep.acquire(outer);
            lockdep.acquire(inner);
            lockdep.release(inner);
            lockdep.release(outer);
        }
        assertThat(lockdep.stats().classes()).isGreaterThan(base);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            System.gc();
            return lockdep.stats().classes() == base;
        });
        assertThat(lockdep.stats().edges()).isEqualTo(edgesBase);
        assertThat(lockdep.stats().chains()).isLessThanOrEqualTo(1);
    }

    /**
     * The long run of the issue: 10^6 queue lifetimes with validation on, then an inversion is
     * still reported and the heap after a full GC has not grown. By hand:
     * {@code mvn -Dgroups=long -Dtest=LockClassLifetimeTest test}.
     */
    @Test
    @Tag("long")
    @Timeout(value = 30, unit = TimeUnit.MINUTES)
    void aMillionQueueLifetimesKeepValidatingWithAFlatHeap() {
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        int base = lockdep.stats().classes();
        for (int i = 0; i < 100_000; i++) {
            cycle(m, i);
        }
        long heapAfterWarmUp = usedHeapAfterGc();
        for (int i = 100_000; i < 1_000_000; i++) {
            cycle(m, i);
        }
        long heapAtEnd = usedHeapAfterGc();
        assertThat(heapAtEnd - heapAfterWarmUp).as("heap growth over 900,000 lifetimes, bytes").isLessThan(8L << 20);
        assertThat(lockdep.stats().classes()).isLessThan(base + 16);
        assertStillValidating(m);
    }

    private static long usedHeapAfterGc() {
        Runtime r = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) { // a few collections: the smallest reading is the live set
            System.gc();
            used = Math.min(used, r.totalMemory() - r.freeMemory());
        }
        return used;
    }
}
