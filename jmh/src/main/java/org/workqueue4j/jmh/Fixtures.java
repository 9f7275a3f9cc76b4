package org.workqueue4j.jmh;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

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

    /** The same, with a {@code Lockdep} validator annotating every run and flush. */
    static WorkQueues runtimeWithLockdep() {
        return WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(2)
                .idleTimeout(Duration.ofHours(1))
                .validator(org.workqueue4j.lockdep.Lockdep.builder().quiet().build())
                .build());
    }

    /** The runtime an {@code impl} param asks for: lockdep on for the {@code -lockdep} variants. */
    static WorkQueues runtime(String impl) {
        return impl.endsWith("-lockdep") ? runtimeWithLockdep() : runtime();
    }

    /**
     * A queue for an {@code impl} param: {@code wq-percpu} (the default kind), {@code wq-unbound},
     * {@code wq-ordered}, or {@code wq-unbound-ma2} (unbound, max_active 2: the unbound pool
     * then never has more than two items to hand out, so it stops waking and creating workers).
     */
    static WorkQueue queue(WorkQueues rt, String impl) {
        WorkQueue.Builder b = rt.queueBuilder("jmh-" + impl);
        switch (impl) {
            case "wq-percpu":
            case "wq-percpu-lockdep":
                break;
            case "wq-unbound":
                b.unbound();
                break;
            case "wq-ordered":
                b.ordered();
                break;
            case "wq-unbound-ma2": // diagnostic: unbound with max_active = CPUs (see RESULTS.md)
                b.unbound().maxActive(2);
                break;
            default:
                throw new IllegalArgumentException("not a workqueue impl: " + impl);
        }
        return b.build();
    }

    /**
     * Trial teardown shared by the executor comparisons: destroys the queue and closes its
     * runtime (if a workqueue impl ran), and shuts the j.u.c executors down (those not null).
     */
    static void closeAll(WorkQueue queue, WorkQueues runtime, ExecutorService... executors)
            throws InterruptedException {
        if (queue != null) {
            queue.destroy();
            runtime.close();
        }
        for (ExecutorService e : executors) {
            if (e != null) {
                e.shutdown();
                e.awaitTermination(10, TimeUnit.SECONDS);
            }
        }
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
