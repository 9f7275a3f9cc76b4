package org.workqueue4j;

import java.lang.management.ManagementFactory;
import java.util.List;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The {@link WorkQueuesMXBean} of one runtime, and its registration in the platform MBean
 * server. Stateless beyond the runtime it reads: every attribute is computed when read.
 */
final class RuntimeMXBean implements WorkQueuesMXBean {

    private final WorkQueues runtime;
    private final String name;

    private RuntimeMXBean(WorkQueues runtime, String name) {
        this.runtime = runtime;
        this.name = name;
    }

    /** The object name of runtime {@code name}. */
    static ObjectName objectName(String name) {
        try {
            return new ObjectName("org.workqueue4j:type=WorkQueues,name=" + ObjectName.quote(name));
        } catch (JMException e) {
            throw new IllegalArgumentException("runtime name '" + name + "' makes no JMX object name", e);
        }
    }

    /**
     * Registers the bean of {@code runtime}; a failure (no platform server, a clash) is logged and
     * leaves the runtime usable without JMX.
     */
    /** True if a runtime of this name is registered (another runtime took the name). */
    static boolean isRegistered(String name) {
        try {
            return ManagementFactory.getPlatformMBeanServer().isRegistered(objectName(name));
        } catch (RuntimeException e) {
            return false;
        }
    }

    static void register(WorkQueues runtime, String name) {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            server.registerMBean(new RuntimeMXBean(runtime, name), objectName(name));
        } catch (JMException | RuntimeException e) {
            org.workqueue4j.internal.Log.log(System.Logger.Level.WARNING, "workqueue: runtime '" + name + "' not registered with JMX: " + e, e);
        }
    }

    /** Unregisters the bean of runtime {@code name}, if registered. */
    static void unregister(String name) {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName on = objectName(name);
            if (server.isRegistered(on)) {
                server.unregisterMBean(on);
            }
        } catch (JMException | RuntimeException e) {
            org.workqueue4j.internal.Log.log(System.Logger.Level.WARNING, "workqueue: runtime '" + name + "' not unregistered from JMX: " + e, e);
        }
    }

    @Override
    public String getRuntimeName() {
        return name;
    }

    @Override
    public int getQueueCount() {
        return runtime.queues().size();
    }

    @Override
    public long getPending() {
        return stats().stream().mapToLong(WorkQueueStats::pending).sum();
    }

    @Override
    public long getInactive() {
        return stats().stream().mapToLong(WorkQueueStats::inactive).sum();
    }

    @Override
    public long getRunning() {
        return stats().stream().mapToLong(WorkQueueStats::running).sum();
    }

    @Override
    public int getWorkers() {
        return runtime.dumpData().pools().stream().mapToInt(WorkQueuesDump.Pool::workers).sum();
    }

    @Override
    public int getIdleWorkers() {
        return runtime.dumpData().pools().stream().mapToInt(p -> p.idle().size()).sum();
    }

    @Override
    public boolean isLatencyStatsEnabled() {
        return runtime.latencyStats();
    }

    @Override
    public void setLatencyStatsEnabled(boolean enabled) {
        runtime.setLatencyStats(enabled);
    }

    @Override
    public List<QueueInfo> getQueues() {
        return stats().stream().<QueueInfo>map(QueueRow::new).toList();
    }

    @Override
    public List<PoolInfo> getPools() {
        return runtime.dumpData().pools().stream().<PoolInfo>map(PoolRow::new).toList();
    }

    @Override
    public String dump() {
        return runtime.dump();
    }

    private List<WorkQueueStats> stats() {
        return runtime.queues().stream().map(WorkQueue::stats).toList();
    }

    private record QueueRow(WorkQueueStats s) implements QueueInfo {
        @Override
        public String getName() {
            return s.name();
        }

        @Override
        public long getStarted() {
            return s.started();
        }

        @Override
        public long getCompleted() {
            return s.completed();
        }

        @Override
        public long getPending() {
            return s.pending();
        }

        @Override
        public long getInactive() {
            return s.inactive();
        }

        @Override
        public long getRunning() {
            return s.running();
        }

        @Override
        public long getLatencySamples() {
            return s.latencySamples();
        }

        @Override
        public long getLatencyMeanNanos() {
            return s.latencyMeanNanos();
        }

        @Override
        public long getLatencyMaxNanos() {
            return s.latencyMaxNanos();
        }
    }

    private record PoolRow(WorkQueuesDump.Pool p) implements PoolInfo {
        @Override
        public int getId() {
            return p.id();
        }

        @Override
        public String getDescription() {
            return p.description();
        }

        @Override
        public int getWorkers() {
            return p.workers();
        }

        @Override
        public int getIdle() {
            return p.idle().size();
        }

        @Override
        public int getRunning() {
            return p.running();
        }

        @Override
        public int getPending() {
            return p.pending();
        }

        @Override
        public long getHungSeconds() {
            return p.hungSeconds();
        }
    }
}
