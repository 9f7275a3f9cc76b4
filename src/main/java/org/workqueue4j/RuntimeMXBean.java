package org.workqueue4j;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.jspecify.annotations.Nullable;

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
     * Registers the bean of {@code runtime} under {@code name}, or, while another bean has that
     * name, under {@code name-<n>} with the next {@code n} of {@code suffixes}. The check and the
     * registration are one step (the server refuses a taken name, and the next suffix is tried),
     * so runtimes of one name created at once all register, a suffixed name that a runtime was
     * configured with is skipped, and each runtime later unregisters only the name it holds.
     * Another failure (no platform server) is logged and leaves the runtime usable without JMX.
     *
     * @return the name registered under, or null if none
     */
    static @Nullable String register(WorkQueues runtime, String name, AtomicInteger suffixes) {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            String n = name;
            for (int tries = 1; ; tries++) {
                try {
                    server.registerMBean(new RuntimeMXBean(runtime, n), objectName(n));
                    return n;
                } catch (InstanceAlreadyExistsException taken) {
                    if (tries == MAX_NAME_TRIES) {
                        throw taken; // bounded: logged below
                    }
                    n = name + "-" + suffixes.incrementAndGet();
                }
            }
        } catch (JMException | RuntimeException e) {
            org.workqueue4j.internal.Log.log(System.Logger.Level.WARNING, "workqueue: runtime '" + name + "' not registered with JMX: " + e, e);
            return null;
        }
    }

    /** Names tried by {@link #register} before it gives up (each try is a new suffix). */
    private static final int MAX_NAME_TRIES = 1000;

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
