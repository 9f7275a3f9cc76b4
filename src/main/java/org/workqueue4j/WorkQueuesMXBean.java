package org.workqueue4j;

import java.util.List;

/**
 * The JMX view of one {@link WorkQueues} runtime, registered in the platform MBean server when
 * the runtime is created and unregistered when it is closed, under
 * {@code org.workqueue4j:type=WorkQueues,name=<runtime name>}. Attributes are computed on each
 * read, from the same counters as {@link WorkQueue#stats()} and {@link WorkQueues#dumpData()}.
 *
 * <p>Thread-safe: JMX may call it from any thread, concurrently with the runtime.
 */
public interface WorkQueuesMXBean {

    /** {@return the runtime's name, as in the object name} */
    String getRuntimeName();

    /** {@return the number of live queues, system queues included} */
    int getQueueCount();

    /** {@return items activated and waiting for a worker, over every queue} */
    long getPending();

    /** {@return items held back by max_active or a freeze, over every queue} */
    long getInactive();

    /** {@return items running now, over every queue} */
    long getRunning();

    /** {@return worker threads of every pool} */
    int getWorkers();

    /** {@return idle worker threads of every pool} */
    int getIdleWorkers();

    /** {@return whether queue-to-start latency is being measured (see {@link WorkQueues#setLatencyStats(boolean)})} */
    boolean isLatencyStatsEnabled();

    /**
     * Turns queue-to-start latency measurement on or off.
     *
     * @param enabled true to measure items queued from now on
     */
    void setLatencyStatsEnabled(boolean enabled);

    /** {@return per-queue counters, one row per live queue} */
    List<QueueInfo> getQueues();

    /** {@return per-pool worker counts, one row per pool that has a worker or a pending item} */
    List<PoolInfo> getPools();

    /** {@return the kernel-style state dump, as {@link WorkQueues#dump()}} */
    String dump();

    /** One queue's counters, a snapshot of {@link WorkQueueStats}. Immutable. */
    interface QueueInfo {
        /** {@return the queue name} */
        String getName();

        /** {@return items started} */
        long getStarted();

        /** {@return items completed} */
        long getCompleted();

        /** {@return items activated and waiting for a worker} */
        long getPending();

        /** {@return items held back by max_active} */
        long getInactive();

        /** {@return items running now} */
        long getRunning();

        /** {@return items whose queue-to-start latency was measured} */
        long getLatencySamples();

        /** {@return the mean measured queue-to-start latency, nanoseconds} */
        long getLatencyMeanNanos();

        /** {@return the largest measured queue-to-start latency, nanoseconds} */
        long getLatencyMaxNanos();
    }

    /** One pool's workers, a snapshot of {@link WorkQueuesDump.Pool}. Immutable. */
    interface PoolInfo {
        /** {@return the pool id} */
        int getId();

        /** {@return the pool as the kernel describes it} */
        String getDescription();

        /** {@return its worker threads} */
        int getWorkers();

        /** {@return its idle workers} */
        int getIdle();

        /** {@return its workers running an item} */
        int getRunning();

        /** {@return items on its list waiting for a worker} */
        int getPending();

        /** {@return seconds without progress while items were pending} */
        long getHungSeconds();
    }
}
