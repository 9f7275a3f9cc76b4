package org.workqueue4j.demo;

import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;

import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.LazyQueueHolder;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.ReportPolicy;

/**
 * The seed thread's race, reproduced (SPEC §2): superblock {@code sda} completes one direct
 * I/O, teaching the validator "dio queue class &rarr; inode lock"; then two threads, each
 * holding the lock of its own inode of superblock {@code sdb}, race to create {@code sdb}'s dio
 * queue. Under CAS_DISCARD both allocate (the creation hook makes them meet) and the loser
 * destroys its never-used queue while holding its inode lock, recording "inode lock &rarr; dio
 * queue class": a cycle in the class graph, although the destroyed queue never had an item.
 */
public final class SeedScenario {
    /** What one run observed. */
    public record Outcome(LazyQueueHolder.Strategy strategy, FlushAnnotation policy, long created, long discarded,
                          List<LockdepReport> reports) {
        /** One line for the demo's table. */
        public String summary() {
            return String.format("%-11s + %-16s queues created %d, discarded %d -> %s", strategy, policy, created,
                    discarded, reports.isEmpty() ? "no lockdep report"
                            : reports.size() + " lockdep report(s): " + reports.get(0).title());
        }
    }

    private SeedScenario() {
    }

    /** Runs the race once on a fresh runtime and validator. */
    public static Outcome run(LazyQueueHolder.Strategy strategy, FlushAnnotation policy) {
        List<LockdepReport> reports = new CopyOnWriteArrayList<>();
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(policy).build())) {
            SuperBlock sda = new SuperBlock("sda", rt, strategy, () -> { });
            sda.directIo(sda.newInode("a")).flush();

            CyclicBarrier bothAllocating = new CyclicBarrier(2);
            Runnable hook = strategy == LazyQueueHolder.Strategy.CAS_DISCARD ? () -> meet(bothAllocating) : () -> { };
            SuperBlock sdb = new SuperBlock("sdb", rt, strategy, hook);
            SuperBlock.Inode x = sdb.newInode("x");
            SuperBlock.Inode y = sdb.newInode("y");
            Thread t1 = new Thread(() -> sdb.initDioQueueUnder(x), "dio-init-1");
            Thread t2 = new Thread(() -> sdb.initDioQueueUnder(y), "dio-init-2");
            t1.start();
            t2.start();
            join(t1);
            join(t2);
            return new Outcome(strategy, policy, sdb.dioHolder().created(), sdb.dioHolder().discarded(), List.copyOf(reports));
        }
    }

    private static void meet(CyclicBarrier b) {
        try {
            b.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
