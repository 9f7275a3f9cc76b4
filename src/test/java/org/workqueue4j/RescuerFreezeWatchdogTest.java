package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.workqueue4j.WorkQueueCoreTest.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Rescuer, freezing, watchdog, dump and JFR events (SPEC §4). */
@Timeout(60)
class RescuerFreezeWatchdogTest {

    /** A factory that fails while {@code failing} is set, as the JVM does when out of threads. */
    static ThreadFactory failingWhile(AtomicBoolean failing) {
        ThreadFactory base = Executors.defaultThreadFactory();
        return r -> {
            if (failing.get()) {
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory");
            }
            return base.newThread(r);
        };
    }

    @Test
    void memReclaimQueueCompletesTenThousandItemsWhenNoWorkerCanBeCreated() {
        AtomicBoolean failing = new AtomicBoolean();
        try (TestRuntime t = new TestRuntime(2, b -> { }, failingWhile(failing))) {
            WorkQueue q = t.queue("dio/sda").memReclaim().build(); // its rescuer exists now
            failing.set(true);
            LongAdder ran = new LongAdder();
            Work[] items = new Work[10_000];
            for (int i = 0; i < items.length; i++) {
                items[i] = new Work("io-" + i, ran::increment);
                q.queue(items[i]);
            }
            q.flush();

            assertThat(ran.sum()).isEqualTo(10_000);
            assertThat(q.stats().rescued()).isEqualTo(10_000);
            assertThat(q.stats().mayday()).isPositive();
            // Reported by the monitor on its tick, not necessarily before the flush returns.
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> t.reports.stream().anyMatch(r -> r.contains("failed to create a worker")));
            failing.set(false);
        }
    }

    /*
     * An Error in the rescuer's own work (an allocation failure in the engine while it rescues,
     * not an item's failure, which goes to the handler): it ended the rescuer's thread, so the
     * memReclaim queue lost its forward-progress guarantee for good, and the monitor reported
     * the dead thread as a ThreadFactory that does not run its Runnable. Fails on that code: the
     * flush, with no worker to be had, does not complete within 30 s.
     */
    @Test
    void anErrorInTheRescuersOwnWorkLeavesTheRescuerAlive() throws InterruptedException {
        AtomicBoolean failing = new AtomicBoolean();
        LibraryLog log = LibraryLog.recording();
        AtomicInteger struck = new AtomicInteger();
        try (TestRuntime t = new TestRuntime(2, b -> { }, failingWhile(failing))) {
            WorkQueue q = t.queue("dio/sdb").memReclaim().build(); // its rescuer exists now
            failing.set(true);
            TestHooks.install((point, subject) -> {
                if (point.equals("rescuer.rescue") && struck.getAndIncrement() == 0) {
                    throw new OutOfMemoryError("simulated: in the rescuer's own work");
                }
            });
            LongAdder ran = new LongAdder();
            for (int i = 0; i < 100; i++) {
                q.queue(new Work("io-" + i, ran::increment));
            }
            try {
                assertThat(q.flush(Duration.ofSeconds(30))).as("rescued after the Error").isTrue();
            } finally {
                TestHooks.install(null);
                failing.set(false);
            }
            assertThat(struck.get()).as("the Error was thrown").isPositive();
            assertThat(ran.sum()).isEqualTo(100);
            assertThat(log.mentions("rescuer thread of memReclaim queue 'dio/sdb' survived an error")).as("logged").isTrue();
            assertThat(t.reports).noneMatch(r -> r.contains("has ended without being stopped"));
        } finally {
            log.close();
        }
    }

    @Test
    void plainQueueReportsTheFailureAndRecoversWhenThreadsCanBeCreatedAgain() {
        AtomicBoolean failing = new AtomicBoolean();
        try (TestRuntime t = new TestRuntime(2, b -> { }, failingWhile(failing))) {
            WorkQueue q = t.queue("plain").build();
            failing.set(true);
            AtomicBoolean ran = new AtomicBoolean();
            q.queueOn(0, new Work("starved", () -> ran.set(true)));

            await().atMost(Duration.ofSeconds(10)).until(() -> t.reports.stream()
                    .anyMatch(r -> r.contains("failed to create a worker") && r.contains("plain")
                            && r.contains("unable to create native thread")));
            assertThat(ran.get()).isFalse();

            failing.set(false);
            q.flush(); // the monitor retries creation after the cooldown
            assertThat(ran.get()).isTrue();
        }
    }

    @Test
    void rescuerThreadIsNamedAfterItsQueue() {
        try (TestRuntime t = new TestRuntime()) {
            t.queue("reclaim").memReclaim().build();
            assertThat(t.threads).anyMatch(th -> th.getName().endsWith("/kworker/R-reclaim"));
        }
    }

    @Test
    void freezeHoldsNewItemsAndThawReleasesThem() {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("freezer").freezable().build();
            AtomicBoolean ran = new AtomicBoolean();
            t.rt.freeze();
            assertThat(q.queue(new Work("held", () -> ran.set(true)))).isTrue();

            assertThat(t.rt.dump()).contains("inactive: held");
            assertThat(q.stats().started()).isZero();

            t.rt.thaw();
            q.flush();
            assertThat(ran.get()).isTrue();
        }
    }

    @Test
    void freezeReturnsOnlyAfterRunningItemsFinished() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("freezer2").freezable().build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean finished = new AtomicBoolean();
            q.queue(new Work("running", () -> {
                started.countDown();
                await(release);
                finished.set(true);
            }));
            await(started);
            AtomicBoolean finishedAtFreeze = new AtomicBoolean();
            Thread freezer = new Thread(() -> {
                t.rt.freeze();
                finishedAtFreeze.set(finished.get());
            });
            freezer.start();
            release.countDown();
            freezer.join();
            assertThat(finishedAtFreeze.get()).isTrue();
            t.rt.thaw();
        }
    }

    @Test
    void watchdogReportsAStuckPoolWithTheStuckWorkersStack() {
        try (TestRuntime t = new TestRuntime(2, b -> b.watchdogThreshold(Duration.ofMillis(200))
                .cpuIntensiveThreshold(Duration.ofHours(1)))) {
            WorkQueue q = t.queue("stalled").build();
            CountDownLatch gate = new CountDownLatch(1);
            q.queueOn(0, new Work("stuck-item", () -> await(gate)));
            q.queueOn(0, new Work("waiting-item", () -> { }));

            String report;
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> t.reports.stream().anyMatch(r -> r.contains("workqueue lockup")));
                report = t.reports.stream().filter(r -> r.contains("workqueue lockup")).findFirst().orElseThrow();
            } finally {
                gate.countDown();
            }
            q.flush();
            assertThat(report).contains("BUG: workqueue lockup - pool cpus=0")
                    .contains("workqueue stalled:")
                    .contains("in-flight: kworker/0:").contains(":stuck-item")
                    .contains("pending: waiting-item")
                    .contains("CountDownLatch.await");
        }
    }

    @Test
    void dumpNamesTheStuckItemInTheKernelLayout() {
        try (TestRuntime t = new TestRuntime(2, b -> b.cpuIntensiveThreshold(Duration.ofHours(1)))) {
            WorkQueue q = t.queue("dumped").build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            q.queueOn(1, new Work("stuck-item", () -> {
                started.countDown();
                await(gate);
            }));
            await(started);
            String dump = t.rt.dump();
            gate.countDown();
            q.flush();
            assertThat(dump).startsWith("Showing busy workqueues and worker pools:")
                    .contains("workqueue dumped: flags=0x0")
                    .containsPattern("pwq \\d+: cpus=1 flags=0x0 nice=0 active=1/1024")
                    .containsPattern("in-flight: kworker/1:\\d+:stuck-item")
                    .containsPattern("pool \\d+: cpus=1 flags=0x0 nice=0 hung=0s workers=\\d+");
        }
    }

    @Test
    void flightRecorderSeesWorkExecutionsAndFlushWaits(@TempDir Path dir) throws Exception {
        try (TestRuntime t = new TestRuntime(); Recording rec = new Recording()) {
            rec.enable("org.workqueue4j.WorkExecution").withThreshold(Duration.ZERO);
            rec.enable("org.workqueue4j.FlushWait").withThreshold(Duration.ZERO);
            rec.start();
            WorkQueue q = t.queue("jfr").build();
            AtomicInteger n = new AtomicInteger();
            for (int i = 0; i < 5; i++) {
                q.queue(new Work("rec-" + i, n::incrementAndGet));
            }
            q.flush();
            rec.stop();
            Path file = dir.resolve("wq.jfr");
            rec.dump(file);
            List<RecordedEvent> events = RecordingFile.readAllEvents(file);
            assertThat(events).filteredOn(e -> e.getEventType().getName().equals("org.workqueue4j.WorkExecution"))
                    .hasSize(5)
                    .allMatch(e -> e.getString("queue").equals("jfr") && e.getString("work").startsWith("rec-"));
            assertThat(events).anyMatch(e -> e.getEventType().getName().equals("org.workqueue4j.FlushWait")
                    && "jfr".equals(e.getString("target")));
            assertThat(Files.size(file)).isPositive();
        }
    }
}
