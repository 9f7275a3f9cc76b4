package org.workqueue4j.demo;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * The runnable demo (the README's main command). Runs real queues and prints what they did.
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) {
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.defaults())) {
            coalescing(rt);
            flushColours(rt);
        }
    }

    /** A thousand "refresh" requests collapse into a few runs of one pending-at-most-once item. */
    static void coalescing(WorkQueues rt) {
        LongAdder runs = new LongAdder();
        try (WorkQueue q = rt.queueBuilder("demo-refresh").build()) {
            Work refresh = new Work("refresh", runs::increment);
            int accepted = 0;
            for (int i = 0; i < 1000; i++) {
                if (q.queue(refresh)) {
                    accepted++;
                }
            }
            q.flush();
            System.out.printf("pending-at-most-once: 1000 queue calls, %d accepted, %d runs%n", accepted, runs.sum());
        }
    }

    /** flush() waits for what was queued before it, not for what comes after. */
    static void flushColours(WorkQueues rt) {
        AtomicInteger done = new AtomicInteger();
        try (WorkQueue q = rt.queueBuilder("demo-flush").unbound().maxActive(4).build()) {
            Work[] items = new Work[64];
            for (int i = 0; i < items.length; i++) {
                items[i] = new Work("item-" + i, done::incrementAndGet);
                q.queue(items[i]);
            }
            q.flush();
            System.out.printf("flush: %d of %d items queued before flush() had finished when it returned%n",
                    done.get(), items.length);
        }
    }
}
