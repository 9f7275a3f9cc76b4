package samples;

import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;

/**
 * A cache whose refresh work item takes the cache's monitor, and a caller that flushes the
 * queue while holding that monitor. The first round flushes outside the monitor (and teaches
 * the validator that the queue's items take it); the second flushes inside: without the agent
 * the program hangs (the item waits for the monitor, the flusher for the item). Verdict with
 * the agent and policy=THROW: flush() throws PotentialDeadlockException before blocking.
 */
public final class FlushUnderMonitorSample {
    private final Object cacheLock = new Object();
    private int entries;
    private final WorkQueue refresher = WorkQueue.builder("cache-refresh").build();
    private final Work refresh = new Work("refresh", () -> {
        synchronized (cacheLock) {
            entries++;
        }
    });

    void refreshNow() {
        refresher.queue(refresh);
        refresher.flush();
    }

    void refreshWhileLocked() {
        synchronized (cacheLock) {
            refresher.queue(refresh);
            refresher.flush();
        }
    }

    public static void main(String[] args) {
        FlushUnderMonitorSample cache = new FlushUnderMonitorSample();
        cache.refreshNow();
        System.out.println("first refresh done");
        cache.refreshWhileLocked();
        System.out.println("second refresh done");
    }
}
