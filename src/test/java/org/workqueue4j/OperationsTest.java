package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Operations hooks: queue counts and latency in WorkQueueStats, the runtime's MXBean, dumps as data. */
class OperationsTest {
    /** One CPU; an item that blocks never stops counting as running (no CM wake-up in a test's lifetime). */
    private final TestRuntime t = new TestRuntime(1, b -> b.cpuIntensiveThreshold(Duration.ofHours(1)).jmx(true));
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() {
        release.countDown();
        t.close();
    }

    /** Starts an item that blocks until {@link #release}, and returns once it runs. */
    private void startGate(WorkQueue q) {
        CountDownLatch started = new CountDownLatch(1);
        q.queue(new Work("gate", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
    }

    @Test
    void statsCountRunningPendingAndInactiveItems() {
        WorkQueue q = t.queue("ops").maxActive(2).build();
        startGate(q);
        q.queue(new Work("second", () -> { }));   // active: waits on the pool's list
        q.queue(new Work("third", () -> { }));    // over max_active 2: inactive

        WorkQueueStats s = q.stats();
        assertThat(s.running()).isEqualTo(1);
        assertThat(s.pending()).isEqualTo(1);
        assertThat(s.inactive()).isEqualTo(1);
        assertThat(s.inFlight()).isEqualTo(1);

        release.countDown();
        q.flush();
        WorkQueueStats after = q.stats();
        assertThat(after.running()).isZero();
        assertThat(after.pending()).isZero();
        assertThat(after.inactive()).isZero();
        assertThat(after.completed()).isEqualTo(3);
    }

    @Test
    void queueToStartLatencyIsMeasuredOnlyWhileEnabled() {
        WorkQueue q = t.queue("latency").build();
        q.queue(new Work("unmeasured", () -> { }));
        q.flush();
        assertThat(q.stats().latencySamples()).isZero();
        assertThat(t.rt.latencyStats()).isFalse();

        t.rt.setLatencyStats(true);
        for (int i = 0; i < 3; i++) {
            q.queue(new Work("measured-" + i, () -> { }));
        }
        q.flush();
        t.rt.setLatencyStats(false);
        q.queue(new Work("unmeasured-again", () -> { }));
        q.flush();

        WorkQueueStats s = q.stats();
        assertThat(s.latencySamples()).isEqualTo(3);
        assertThat(s.latencyTotalNanos()).isGreaterThanOrEqualTo(s.latencyMaxNanos());
        assertThat(s.latencyMaxNanos()).isGreaterThanOrEqualTo(s.latencyMeanNanos());
        assertThat(s.latencyMeanNanos()).isEqualTo(s.latencyTotalNanos() / 3);
    }

    @Test
    void eachRuntimeHasItsMxBeanUntilClosed() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("org.workqueue4j:type=WorkQueues,name=" + ObjectName.quote(t.rt.name()));
        assertThat(server.isRegistered(name)).isTrue();

        try (WorkQueues other = WorkQueues.create(WorkQueuesConfig.builder().jmx(true).build())) {
            assertThat(other.name()).isNotEqualTo(t.rt.name());
            assertThat(server.isRegistered(
                    new ObjectName("org.workqueue4j:type=WorkQueues,name=" + ObjectName.quote(other.name())))).isTrue();
        }

        WorkQueue q = t.queue("jmx").ordered().build();
        startGate(q);
        q.queue(new Work("held", () -> { }));      // ordered: inactive behind the gate

        // Through the MBean server, as a JMX client sees it (open types) ...
        assertThat(server.getAttribute(name, "RuntimeName")).isEqualTo(t.rt.name());
        assertThat(server.getAttribute(name, "Running")).isEqualTo(1L);
        assertThat(server.getAttribute(name, "Inactive")).isEqualTo(1L);
        CompositeData[] rows = (CompositeData[]) server.getAttribute(name, "Queues");
        CompositeData row = Arrays.stream(rows).filter(r -> r.get("name").equals("jmx")).findFirst().orElseThrow();
        assertThat(row.get("running")).isEqualTo(1L);
        assertThat(row.get("inactive")).isEqualTo(1L);
        assertThat((Integer) server.getAttribute(name, "Workers")).isGreaterThanOrEqualTo(1);

        // ... and through a typed proxy.
        WorkQueuesMXBean proxy = JMX.newMXBeanProxy(server, name, WorkQueuesMXBean.class);
        assertThat(proxy.getPools()).anySatisfy(p -> assertThat(p.getRunning()).isEqualTo(1));
        proxy.setLatencyStatsEnabled(true);
        assertThat(t.rt.latencyStats()).isTrue();
        assertThat(proxy.dump()).contains("workqueue jmx:").contains("in-flight:").contains(":gate");

        release.countDown();
        t.close();
        assertThat(server.isRegistered(name)).isFalse();
    }

    /** The JMX names registered for runtimes whose name is {@code base} or starts with {@code base-}. */
    private static java.util.Set<String> beansNamed(MBeanServer server, String base) throws Exception {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (ObjectName on : server.queryNames(new ObjectName("org.workqueue4j:type=WorkQueues,*"), null)) {
            String n = ObjectName.unquote(on.getKeyProperty("name"));
            if (n.equals(base) || n.startsWith(base + "-")) {
                names.add(n);
            }
        }
        return names;
    }

    /**
     * A runtime whose name is taken gets a bean under another, free name, and its close()
     * unregisters exactly that bean: never another runtime's, even when the suffixed name it
     * first tries belongs to a runtime configured with that very name.
     */
    @Test
    void aRuntimeClosesOnlyItsOwnMxBeanWhenItsSuffixedNameIsTaken() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        String base = "jmx-collision";
        WorkQueuesConfig.Builder cfg = WorkQueuesConfig.builder().jmx(true).cpus(1);
        try (WorkQueues a = WorkQueues.create(cfg.name(base).build());
                WorkQueues b = WorkQueues.create(cfg.name(base).build())) {
            java.util.Set<String> two = beansNamed(server, base);
            assertThat(two).as("a and b each registered").hasSize(2).contains(base);
            String bName = two.stream().filter(n -> !n.equals(base)).findFirst().orElseThrow();
            int k = Integer.parseInt(bName.substring(base.length() + 1));
            // A runtime configured with the name the next suffixed registration would pick.
            String squatter = base + "-" + (k + 1);
            try (WorkQueues c = WorkQueues.create(cfg.name(squatter).build())) {
                assertThat(beansNamed(server, base)).as("c registered under its own name").contains(squatter).hasSize(3);
                WorkQueues d = WorkQueues.create(cfg.name(base).build());
                assertThat(beansNamed(server, base)).as("d registered too, under a free name").hasSize(4);
                d.close();
                assertThat(beansNamed(server, base)).as("d's close() left a's, b's and c's beans")
                        .containsExactlyInAnyOrder(base, bName, squatter);
            }
        }
        assertThat(beansNamed(server, base)).as("every bean gone once its runtime closed").isEmpty();
    }

    @Test
    void dumpIsAvailableAsDataAndPrintsAsTheTextDump() {
        WorkQueue q = t.queue("dumped").ordered().build();
        startGate(q);
        q.queue(new Work("waiting", () -> { }));

        WorkQueuesDump d = t.rt.dumpData();
        WorkQueuesDump.Queue row = d.queues().stream().filter(x -> x.name().equals("dumped")).findFirst().orElseThrow();
        assertThat(row.pwqs()).singleElement().satisfies(p -> {
            assertThat(p.inFlight()).singleElement().asString().endsWith(":gate");
            assertThat(p.inactive()).containsExactly("waiting");
            assertThat(p.pending()).isEmpty();
            assertThat(p.active()).isEqualTo(1);
            assertThat(p.maxActive()).isEqualTo(1);
        });
        assertThat(row.flags() & 0x20000).as("ordered flag").isNotZero();
        assertThat(d.pools()).anySatisfy(p -> {
            assertThat(p.running()).isEqualTo(1);
            assertThat(p.busy()).isTrue();
        });
        // Two snapshots: a spare worker may join the idle list between them (it is made by the
        // worker that runs "gate"); once the pool is settled they print the same.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(t.rt.dumpData().toString()).isEqualTo(t.rt.dump()));
    }
}
