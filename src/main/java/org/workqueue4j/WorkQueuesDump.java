package org.workqueue4j;

import java.util.List;

/**
 * A runtime's state as data: what {@link WorkQueues#dump()} prints, as a tree of records a
 * program can inspect, log as JSON or expose over JMX. {@link #toString()} is the kernel's
 * {@code show_all_workqueues} text.
 *
 * <p>Immutable. Each pool is read under its own lock, one at a time, so a dump is consistent per
 * pool, not across pools.
 *
 * @param queues the queues with a busy pool_workqueue (an item in flight or inactive), by name
 * @param pools  every pool that has a worker or a pending item, busy or not, by id
 */
public record WorkQueuesDump(List<Queue> queues, List<Pool> pools) {

    /**
     * Copies the lists: a dump is immutable.
     *
     * @param queues the queues
     * @param pools  the pools
     */
    public WorkQueuesDump {
        queues = List.copyOf(queues);
        pools = List.copyOf(pools);
    }

    /**
     * One queue and its busy pool_workqueues. Immutable.
     *
     * @param name  the queue name
     * @param flags the kernel's {@code WQ_*} bits (unbound 0x2, freezable 0x4, mem-reclaim 0x8,
     *              high-priority 0x10, CPU-intensive 0x20, ordered 0x20000)
     * @param pwqs  its pool_workqueues that have an item in flight or inactive
     */
    public record Queue(String name, int flags, List<PoolQueue> pwqs) {
        /**
         * Copies the list.
         *
         * @param name  the queue name
         * @param flags the flags
         * @param pwqs  the busy pool_workqueues
         */
        public Queue {
            pwqs = List.copyOf(pwqs);
        }
    }

    /**
     * One pool_workqueue: a queue's link to one pool. Immutable.
     *
     * @param pool      the id of the pool it feeds
     * @param poolDescription the pool as the kernel describes it ({@code cpus=0 flags=0x0 nice=0})
     * @param active    items active (on the pool's list or running)
     * @param maxActive its max_active
     * @param refcnt    in-flight items plus one, as the kernel prints it
     * @param mayday    the pool asked the queue's rescuer for help
     * @param inFlight  {@code worker:item} for each item a worker is running
     * @param pending   the names of the items waiting for a worker
     * @param inactive  the names of the items held back by max_active
     */
    public record PoolQueue(int pool, String poolDescription, int active, int maxActive, int refcnt,
                            boolean mayday, List<String> inFlight, List<String> pending, List<String> inactive) {
        /**
         * Copies the lists.
         *
         * @param pool      the pool id
         * @param poolDescription the pool description
         * @param active    active items
         * @param maxActive max_active
         * @param refcnt    the reference count
         * @param mayday    whether a mayday is raised
         * @param inFlight  running items
         * @param pending   pending items
         * @param inactive  inactive items
         */
        public PoolQueue {
            inFlight = List.copyOf(inFlight);
            pending = List.copyOf(pending);
            inactive = List.copyOf(inactive);
        }
    }

    /**
     * One worker pool and its workers. Immutable.
     *
     * @param id          the pool id
     * @param description the pool as the kernel describes it ({@code cpus=0 flags=0x0 nice=0})
     * @param hungSeconds seconds since the pool last made progress while it had pending items
     *                    (0 when its list is empty)
     * @param workers     its worker threads
     * @param running     workers running an item
     * @param pending     items on its list waiting for a worker
     * @param idle        the names of its idle workers
     */
    public record Pool(int id, String description, long hungSeconds, int workers, int running, int pending,
                       List<String> idle) {
        /**
         * Copies the list.
         *
         * @param id          the pool id
         * @param description the description
         * @param hungSeconds the stall time
         * @param workers     the worker count
         * @param running     the running count
         * @param pending     the pending count
         * @param idle        the idle workers' names
         */
        public Pool {
            idle = List.copyOf(idle);
        }

        /** {@return true if the pool has pending items or a worker that is not idle} */
        public boolean busy() {
            return pending > 0 || idle.size() != workers;
        }
    }

    /** {@return the kernel's {@code show_all_workqueues} text of this dump} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Showing busy workqueues and worker pools:\n");
        for (Queue q : queues) {
            sb.append("workqueue ").append(q.name()).append(": flags=0x").append(Integer.toHexString(q.flags()))
                    .append('\n');
            for (PoolQueue p : q.pwqs()) {
                sb.append("  pwq ").append(p.pool()).append(": ").append(p.poolDescription())
                        .append(" active=").append(p.active()).append('/').append(p.maxActive())
                        .append(" refcnt=").append(p.refcnt()).append(p.mayday() ? " MAYDAY" : "").append('\n');
                line(sb, "in-flight", p.inFlight());
                line(sb, "pending", p.pending());
                line(sb, "inactive", p.inactive());
            }
        }
        for (Pool p : pools) {
            if (!p.busy()) {
                continue;
            }
            sb.append("pool ").append(p.id()).append(": ").append(p.description()).append(" hung=")
                    .append(p.hungSeconds()).append("s workers=").append(p.workers());
            if (!p.idle().isEmpty()) {
                sb.append(" idle:");
                for (String w : p.idle()) {
                    sb.append(' ').append(w);
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, String label, List<String> items) {
        if (!items.isEmpty()) {
            sb.append("    ").append(label).append(": ").append(String.join(", ", items)).append('\n');
        }
    }
}
