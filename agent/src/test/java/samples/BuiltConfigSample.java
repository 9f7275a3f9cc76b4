package samples;

import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * {@link FlushUnderMonitorSample}'s deadlock on a runtime of the application's own, configured
 * through {@code WorkQueuesConfig.builder()} (a name, no validator): the agent validates it as it
 * does the global runtime. Verdict with the agent and policy=THROW: the second flush() throws
 * PotentialDeadlockException before blocking.
 */
public final class BuiltConfigSample {
    private final Object cacheLock = new Object();
    private int entries;

    public static void main(String[] args) {
        new BuiltConfigSample().run();
    }

    private void run() {
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().name("app").build())) {
            WorkQueue refresher = rt.queueBuilder("app-refresh").build();
            Work refresh = new Work("refresh", () -> {
                synchronized (cacheLock) {
                    entries++;
                }
            });
            refresher.queue(refresh);
            refresher.flush();
            System.out.println("first refresh done");
            synchronized (cacheLock) {
                refresher.queue(refresh);
                refresher.flush();
            }
            System.out.println("second refresh done");
        }
    }
}
