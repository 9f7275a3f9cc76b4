package org.workqueue4j.demo;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.workqueue4j.DelayedWork;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.LazyQueueHolder;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.PotentialDeadlockException;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.Selftest;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * The runnable demo (the README's main command). With no argument it runs real queues and
 * prints what they did, reproduces the 2020 dio-queue report in its four combinations, and shows
 * two real deadlocks predicted without hanging. With {@code selftest} it prints the lockdep
 * selftest matrix as the kernel prints it at boot.
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("selftest")) {
            Selftest.Result r = Selftest.run();
            System.out.print(r.table());
            if (r.unexpected() != 0) {
                System.exit(1);
            }
            return;
        }
        section("1. Queues at work");
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build())) {
            coalescing(rt);
            flushColours(rt);
            delayedAndOrdered(rt);
        }
        section("2. The dio-queue race of the 2020 LKML thread: {MUTEX, CAS_DISCARD} x {ALWAYS, SKIP_NEVER_USED, DEFER_UNTIL_USED}");
        LockdepReport shown = null;
        for (FlushAnnotation policy : List.of(FlushAnnotation.ALWAYS, FlushAnnotation.SKIP_NEVER_USED,
                FlushAnnotation.DEFER_UNTIL_USED)) {
            for (LazyQueueHolder.Strategy s : LazyQueueHolder.Strategy.values()) {
                SeedScenario.Outcome o = SeedScenario.run(s, policy);
                System.out.println(o.summary());
                if (shown == null && !o.reports().isEmpty()) {
                    shown = o.reports().get(0);
                }
            }
        }
        if (shown != null) {
            System.out.println("\nThe report (CAS_DISCARD + ALWAYS): the loser destroyed a queue that never had an item.\n");
            System.out.println(shown.text());
        }
        section("3. The mutual flush: an item of q1 flushes never-used q2, later an item of q2 flushes q1");
        for (FlushAnnotation policy : List.of(FlushAnnotation.ALWAYS, FlushAnnotation.SKIP_NEVER_USED,
                FlushAnnotation.DEFER_UNTIL_USED)) {
            System.out.println(MutualFlushScenario.run(policy, ReportPolicy.WARN).summary());
        }
        System.out.println("\nALWAYS is noisy on the seed, SKIP_NEVER_USED misses the mutual flush; DEFER_UNTIL_USED"
                + " (the default) is silent on the first and reports the second.");
        section("4. Real deadlocks, predicted without hanging (policy THROW)");
        realDeadlocks();
    }

    private static void section(String title) {
        System.out.println("\n=== " + title + " ===\n");
    }

    /** A thousand "refresh" requests collapse into few runs of one pending-at-most-once item. */
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
            System.out.printf("pending at most once: 1000 queue calls -> %d accepted -> %d runs%n", accepted, runs.sum());
        }
    }

    /** flush() waits for what was queued before it. */
    static void flushColours(WorkQueues rt) {
        AtomicInteger done = new AtomicInteger();
        try (WorkQueue q = rt.queueBuilder("demo-flush").unbound().maxActive(4).build()) {
            for (int i = 0; i < 64; i++) {
                q.queue(new Work("item-" + i, done::incrementAndGet));
            }
            q.flush();
            System.out.printf("flush: %d of 64 items queued before flush() had finished when it returned "
                    + "(max_active 4, stats: %s)%n", done.get(), q.stats().row().trim());
        }
    }

    /** A delayed item re-armed from an hour to now, and an ordered queue keeping FIFO. */
    static void delayedAndOrdered(WorkQueues rt) {
        try (WorkQueue q = rt.queueBuilder("demo-ordered").ordered().build()) {
            StringBuffer order = new StringBuffer();
            DelayedWork late = new DelayedWork("late", () -> order.append("D"));
            q.queueDelayed(late, java.time.Duration.ofHours(1));
            boolean wasPending = q.modDelayed(late, java.time.Duration.ZERO);
            late.flush();
            for (char c = 'a'; c <= 'e'; c++) {
                char ch = c;
                q.queue(new Work("o-" + c, () -> order.append(ch)));
            }
            q.flush();
            System.out.printf("modDelayed(1 h -> 0): was pending=%s; ordered queue ran: %s%n", wasPending, order);
        }
    }

    static void realDeadlocks() {
        List<Throwable> fromWorkers = new CopyOnWriteArrayList<>();
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .uncaughtWorkHandler((q, w, e) -> fromWorkers.add(e)).build())) {
            WorkQueue q = rt.queueBuilder("events_demo").build();
            q.queue(new Work("flushes_own_queue", q::flush));
            q.flush();
            PotentialDeadlockException self = fromWorkers.stream().filter(PotentialDeadlockException.class::isInstance)
                    .map(PotentialDeadlockException.class::cast).findFirst().orElse(null);
            System.out.println("(a) a work item flushes its own queue -> "
                    + (self == null ? "not predicted" : "predicted before blocking:\n\n" + self.report().text()));

            ValidatedLock m = new ValidatedLock("demo_mutex", new LockClassKey("demo_mutex"), lockdep);
            WorkQueue q2 = rt.queueBuilder("writeback_demo").build();
            q2.queue(new Work("takes_demo_mutex", () -> {
                m.lock();
                m.unlock();
            }));
            q2.flush();
            m.lock();
            try {
                q2.flush();
                System.out.println("(b) flush() under a lock the queue's items take -> not predicted");
            } catch (PotentialDeadlockException e) {
                System.out.println("(b) flush() under a lock the queue's items take -> predicted before blocking:\n\n"
                        + e.report().text());
            } finally {
                m.unlock();
            }
        }
    }
}
