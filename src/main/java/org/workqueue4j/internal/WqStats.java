package org.workqueue4j.internal;

import java.util.concurrent.atomic.LongAdder;

/**
 * Per-queue counters, as the kernel's {@code pwq->stats} read by {@code wq_monitor.py}.
 * LongAdder: increments from many pools' workers must not contend on one cache line.
 */
public final class WqStats {
    public final LongAdder started = new LongAdder();
    public final LongAdder completed = new LongAdder();
    public final LongAdder cpuTimeNanos = new LongAdder();
    public final LongAdder cpuIntensive = new LongAdder();
    public final LongAdder cmWakeup = new LongAdder();
    public final LongAdder mayday = new LongAdder();
    public final LongAdder rescued = new LongAdder();
}
