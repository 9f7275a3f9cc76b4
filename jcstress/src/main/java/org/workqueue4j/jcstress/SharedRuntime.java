package org.workqueue4j.jcstress;

import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.ReportPolicy;

/**
 * The one runtime every race test of a forked jcstress VM shares. A runtime owns threads (two
 * per-CPU pools, an unbound pool, the timer), far too expensive to create per {@code @State};
 * queues cost no threads, so tests that need a queue of their own (destroy) build one per state
 * on this runtime, and the others share the queues below.
 *
 * <p>Two CPUs whatever the machine, so that per-CPU tests always have a "CPU 0" and a "CPU 1"
 * and an actor's local CPU ({@code thread id % 2}) may or may not be the other actor's.
 */
final class SharedRuntime {
    static final WorkQueues RUNTIME = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build());

    /** A per-CPU queue (the default kind), shared by every state of every test in the VM. */
    static final WorkQueue PER_CPU = RUNTIME.queueBuilder("jcstress/percpu").build();

    /** An unbound queue, shared likewise. */
    static final WorkQueue UNBOUND = RUNTIME.queueBuilder("jcstress/unbound").unbound().build();

    /** A delay no test waits for: the item stays pending on the timer until flushed or cancelled. */
    static final java.time.Duration LONG = java.time.Duration.ofHours(1);

    /** A delay that expires while the actors still run: the timer thread is the third party. */
    static final java.time.Duration TINY = java.time.Duration.ofNanos(1_000);

    private SharedRuntime() {
    }

    /**
     * A runtime whose uncaught-work handler counts instead of logging, for the tests whose
     * states end in a report (a destroy refusing a delayed item's expiry): the default handler
     * would log one record per state. A holder class: its threads start only in the VMs of the
     * tests that touch it.
     */
    static final class Quiet {
        static final java.util.concurrent.atomic.LongAdder REPORTS = new java.util.concurrent.atomic.LongAdder();

        static final WorkQueues RUNTIME = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                .uncaughtWorkHandler((q, w, e) -> REPORTS.increment())
                .build());

        private Quiet() {
        }
    }

    /**
     * A second runtime, with the lock validator on (WARN, quiet), for the tests of what only
     * validation maintains (the per-queue {@code used} flag). A holder class: its threads start
     * only in the VMs of the tests that touch it.
     */
    static final class Validated {
        static final WorkQueues RUNTIME = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                .validator(Lockdep.builder().quiet().policy(ReportPolicy.WARN).build())
                .build());

        /**
         * One lock class for every per-state queue: a queue of its own class each would add a
         * class per state and exhaust the validator's class table (8191) within a second.
         */
        static final LockClassKey QUEUE_CLASS = new LockClassKey("(wq_completion)jcstress/validated");

        /** Likewise one class for every per-state work item. */
        static final LockClassKey WORK_CLASS = new LockClassKey("(work_completion)jcstress/validated");

        /** A fresh per-CPU queue; the test destroys it in its {@code @Arbiter}. */
        static WorkQueue newQueue(String name) {
            return RUNTIME.queueBuilder(name).lockClass(QUEUE_CLASS).build();
        }

        private Validated() {
        }
    }

    /** Bounded spin: true once {@code cond} holds, false after about {@code millis}. */
    static boolean spinUntil(java.util.function.BooleanSupplier cond, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }
}
