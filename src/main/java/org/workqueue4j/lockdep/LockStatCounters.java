package org.workqueue4j.lockdep;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One class's lock_stat counters, updated by every thread that takes a lock of the class:
 * {@link LongAdder}s for the sums (no shared cache line on the hot path) and CAS-max
 * {@link AtomicLong}s for the maxima. Exists only when statistics are on.
 */
final class LockStatCounters {
    final LongAdder acquisitions = new LongAdder();
    final LongAdder contentions = new LongAdder();
    final LongAdder waitTotal = new LongAdder();
    final AtomicLong waitMax = new AtomicLong();
    final LongAdder holdTotal = new LongAdder();
    final AtomicLong holdMax = new AtomicLong();

    void contended(long waitNanos) {
        contentions.increment();
        waitTotal.add(waitNanos);
        waitMax.accumulateAndGet(waitNanos, Math::max);
    }

    void held(long holdNanos) {
        holdTotal.add(holdNanos);
        holdMax.accumulateAndGet(holdNanos, Math::max);
    }

    LockStat snapshot(String name) {
        return new LockStat(name, acquisitions.sum(), contentions.sum(), waitTotal.sum(), waitMax.get(),
                holdTotal.sum(), holdMax.get());
    }
}
