package org.workqueue4j.internal;

import java.util.concurrent.atomic.LongAdder;

/**
 * Per-queue counters, as the kernel's {@code pwq->stats} read by {@code wq_monitor.py}, for the
 * events counted off the pool lock (LongAdder: increments from many pools' workers and the
 * monitor must not contend on one cache line). Started and completed are counted per pwq under
 * its pool lock; see {@link WorkqueueStruct#counts()}.
 */
public final class WqStats {
    public final LongAdder cpuTimeNanos = new LongAdder();
    public final LongAdder cpuIntensive = new LongAdder();
    public final LongAdder cmWakeup = new LongAdder();
    public final LongAdder mayday = new LongAdder();
    public final LongAdder rescued = new LongAdder();

    /**
     * The counters kept per pool_workqueue under its pool lock, summed over the queue's pwqs
     * (each read under its own pool lock: consistent per pool, not across pools).
     */
    public record Counts(long started, long completed, long pending, long inactive, long running,
                         long latencySamples, long latencyTotalNanos, long latencyMaxNanos) {
    }
}
