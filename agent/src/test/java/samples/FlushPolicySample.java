package samples;

import org.workqueue4j.WorkQueue;

/**
 * Flushes a queue that never had an item while holding a monitor. Whether that wait is
 * annotated is the flush-annotation policy: with the default (SKIP_NEVER_USED) the validator
 * learns nothing; with flush=ALWAYS (the kernel's behaviour) it learns monitor -> queue.
 */
public final class FlushPolicySample {
    private final Object registry = new Object();

    public static void main(String[] args) {
        FlushPolicySample s = new FlushPolicySample();
        WorkQueue idle = WorkQueue.builder("never-used").build();
        synchronized (s.registry) {
            idle.flush();
        }
        System.out.println("flushed");
    }
}
