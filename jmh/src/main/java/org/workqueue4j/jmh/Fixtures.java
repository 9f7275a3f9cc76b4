package org.workqueue4j.jmh;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * What every benchmark builds the same way: a private runtime (never {@link WorkQueues#global()},
 * so no state survives a trial) and queues of the three kinds named by the {@code impl} params.
 */
final class Fixtures {
    /**
     * CPU work done by each item: small enough that the executor's own cost dominates the
     * score, and not removable by the JIT ({@code Blackhole.consumeCPU} is opaque).
     */
    static final long ITEM_TOKENS = 8;

    private Fixtures() {
    }

    /** A runtime with two CPUs (the target machine) whose workers never retire mid-trial. */
    static WorkQueues runtime() {
        return WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(2)
                .idleTimeout(Duration.ofHours(1))
                .build());
    }

    /**
     * A queue for an {@code impl} param: {@code wq-percpu} (the default kind), {@code wq-unbound}
     * or {@code wq-ordered}.
     */
    static WorkQueue queue(WorkQueues rt, String impl) {
        WorkQueue.Builder b = rt.queueBuilder("jmh-" + impl);
        switch (impl) {
            case "wq-percpu":
                break;
            case "wq-unbound":
                b.unbound();
                break;
            case "wq-ordered":
                b.ordered();
                break;
            default:
                throw new IllegalArgumentException("not a workqueue impl: " + impl);
        }
        return b.build();
    }

    /** Waits for {@code latch}, keeping (and re-asserting) an interrupt. */
    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
