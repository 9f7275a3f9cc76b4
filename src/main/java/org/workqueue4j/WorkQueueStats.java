package org.workqueue4j;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One queue's counters, the columns of the kernel's {@code tools/workqueue/wq_monitor.py}.
 * CPU time is sampled at the runtime's monitor tick, as the kernel samples at its tick.
 *
 * <p>Immutable: a snapshot taken when {@link WorkQueue#stats()} was called; counters taken under
 * different pool locks are not one atomic cut.
 *
 * @param name         the queue
 * @param unbound      unbound queue (CPU-intensive is then not applicable)
 * @param memReclaim   has a rescuer (mayday and rescued apply)
 * @param started      items started (total)
 * @param completed    items completed
 * @param inFlight     started minus completed
 * @param cpuTimeNanos sampled CPU time of this queue's items
 * @param cpuIntensive items that ran past the CPU-intensive threshold
 * @param cmWakeups    concurrency-management wake-ups: another worker woken because an item of
 *                     this queue blocked
 * @param mayday       times a pool asked this queue's rescuer for help
 * @param rescued      items the rescuer ran
 * @param pending      items activated and waiting for a worker (the kernel's nr_active minus
 *                     those running)
 * @param inactive     items held back by max_active (or a freeze) on the pwqs' inactive lists
 * @param running      items a pool worker is running now
 * @param latencySamples    items whose queue-to-start latency was measured: those queued while
 *                          {@link WorkQueues#setLatencyStats(boolean) latency statistics} were on
 * @param latencyTotalNanos sum of the measured queue-to-start latencies (queue, or timer fire,
 *                          to the moment a worker took the item)
 * @param latencyMaxNanos   the largest measured queue-to-start latency
 */
public record WorkQueueStats(String name, boolean unbound, boolean memReclaim, long started, long completed,
                             long inFlight, long cpuTimeNanos, long cpuIntensive, long cmWakeups, long mayday,
                             long rescued, long pending, long inactive, long running, long latencySamples,
                             long latencyTotalNanos, long latencyMaxNanos) {

    /** {@return the mean measured queue-to-start latency in nanoseconds, or 0 if none was measured} */
    public long latencyMeanNanos() {
        return latencySamples == 0 ? 0 : latencyTotalNanos / latencySamples;
    }

    /** The wq_monitor.py header line. */
    public static final String HEADER = String.format("%-30s %8s %5s %8s %8s %8s %8s %8s",
            "", "total", "infl", "CPUtime", "CPUitsv", "CMW/RPR", "mayday", "rescued");

    /** {@return this queue's row, as wq_monitor.py prints it} */
    public String row() {
        return String.format("%-30s %8d %5d %8.1f %8s %8d %8s %8s", name, started, inFlight,
                cpuTimeNanos / (double) TimeUnit.SECONDS.toNanos(1), unbound ? "-" : Long.toString(cpuIntensive),
                cmWakeups, memReclaim ? Long.toString(mayday) : "-", memReclaim ? Long.toString(rescued) : "-");
    }

    /** The header and one row per queue. */
    static String table(List<WorkQueueStats> rows) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (WorkQueueStats r : rows) {
            sb.append(r.row()).append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return HEADER + "\n" + row();
    }
}
