package org.workqueue4j;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.workqueue4j.internal.TestHooks;

/**
 * {@link ColdStartClassesTest}'s second child JVM: builds the first queue, waits until the
 * monitor has loaded the first item's remaining classes, prints {@link #QUEUEING}, then queues
 * and flushes one item and prints {@link ColdStartChild#DONE}.
 */
final class ColdStartPreloadChild {
    static final String QUEUEING = "COLD-START-CHILD: queueing the first item";

    private ColdStartPreloadChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        CountDownLatch preloaded = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("monitor.preloaded")) {
                preloaded.countDown();
            }
        });
        try (WorkQueues rt = WorkQueues.create()) {
            WorkQueue q = rt.system();
            if (!preloaded.await(30, TimeUnit.SECONDS)) {
                System.out.println("COLD-START-CHILD: the monitor never finished its preload");
                System.exit(2);
            }
            System.out.println(QUEUEING);
            q.queue(new Work("first", () -> { }));
            q.flush();
            System.out.println(ColdStartChild.DONE);
        }
    }
}
