package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.workqueue4j.WorkQueueCoreTest.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Concurrency management of per-CPU pools (SPEC §4): blocking never starves a pool. */
@Timeout(60)
class ConcurrencyManagementTest {
    /** The monitor's time-based rescue is pushed out of reach, so only library waits count. */
    private static TestRuntime libraryWaitsOnly() {
        return new TestRuntime(2, b -> b.cpuIntensiveThreshold(Duration.ofHours(1)));
    }

    @Test
    void itemFlushingAnotherQueueDoesNotStallItemsBehindItOnItsPool() {
        try (TestRuntime t = libraryWaitsOnly()) {
            WorkQueue a = t.queue("a").build();
            WorkQueue b = t.queue("b").unbound().build();
            CountDownLatch bGate = new CountDownLatch(1);
            b.queue(new Work("b-waits-for-y", () -> await(bGate)));
            AtomicBoolean yRan = new AtomicBoolean();
            a.queueOn(0, new Work("x-flushes-b", b::flush));
            a.queueOn(0, new Work("y-opens-gate", () -> {
                yRan.set(true);
                bGate.countDown();
            }));

            a.flush(); // would hang if x's flush kept the pool's only running slot

            assertThat(yRan.get()).isTrue();
        }
    }

    @Test
    void managedBlockLetsTheNextItemOfThePoolRun() {
        try (TestRuntime t = libraryWaitsOnly()) {
            WorkQueue q = t.queue("managed").build();
            CountDownLatch gate = new CountDownLatch(1);
            q.queueOn(1, new Work("blocks", () -> {
                try {
                    WorkQueues.managedBlock(new LatchBlocker(gate));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            q.queueOn(1, new Work("opens", gate::countDown));
            q.flush();
            assertThat(gate.getCount()).isZero();
        }
    }

    @Test
    void itemStuckOnAnUnmanagedLatchDoesNotStarveTheNextItemOfItsPool() {
        // A 100 ms threshold (the default is 10 ms): the monitor samples the stuck worker's state
        // once the threshold has passed, and a worker still runnable on its way into await() on a
        // loaded machine would be taken for CPU-bound (counted cpuIntensive, not cmWakeups).
        try (TestRuntime t = new TestRuntime(2, b -> b.cpuIntensiveThreshold(Duration.ofMillis(100)))) {
            WorkQueue q = t.queue("unmanaged").build();
            CountDownLatch gate = new CountDownLatch(1);
            AtomicBoolean secondRan = new AtomicBoolean();
            CountDownLatch stuckStarted = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicReference<Thread> stuckOn = new java.util.concurrent.atomic.AtomicReference<>();
            q.queueOn(0, new Work("stuck", () -> {
                stuckOn.set(Thread.currentThread());
                stuckStarted.countDown();
                await(gate);
            }));
            await(stuckStarted); // the pool's running slot is taken: only the monitor can help now
            // Parked in the latch (the monitor's sample comes 100 ms after the start, see above).
            await().atMost(Duration.ofSeconds(10)).until(() -> stuckOn.get().getState() == Thread.State.WAITING);
            q.queueOn(0, new Work("second", () -> {
                secondRan.set(true);
                gate.countDown();
            }));
            await().atMost(Duration.ofSeconds(10)).untilTrue(secondRan);
            q.flush();
            assertThat(q.stats().cmWakeups()).isPositive();
        }
    }

    @Test
    void cpuBoundItemIsMarkedCpuIntensiveAndStopsCounting() {
        try (TestRuntime t = new TestRuntime(2, b -> b.cpuIntensiveThreshold(Duration.ofMillis(2)))) {
            WorkQueue q = t.queue("hog").build();
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean shortRan = new AtomicBoolean();
            q.queueOn(0, new Work("spins", () -> {
                while (!release.get()) {
                    Thread.onSpinWait();
                }
            }));
            q.queueOn(0, new Work("short", () -> {
                shortRan.set(true);
                release.set(true);
            }));
            q.flush();
            assertThat(shortRan.get()).isTrue();
            assertThat(q.stats().cpuIntensive()).isPositive();
        }
    }

    @Test
    void cpuIntensiveQueuesNeverBlockTheirPool() {
        try (TestRuntime t = libraryWaitsOnly()) {
            WorkQueue q = t.queue("intensive").cpuIntensive().build();
            CountDownLatch gate = new CountDownLatch(1);
            q.queueOn(0, new Work("waits", () -> await(gate)));
            q.queueOn(0, new Work("opens", gate::countDown));
            q.flush();
            assertThat(gate.getCount()).isZero();
        }
    }

    @Test
    void surplusIdleWorkersAreCulledAfterTheIdleTimeout() {
        try (TestRuntime t = new TestRuntime(1, b -> b.idleTimeout(Duration.ofMillis(20)))) {
            WorkQueue q = t.queue("burst").unbound().build();
            int n = 8;
            CountDownLatch allRunning = new CountDownLatch(n);
            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < n; i++) {
                q.queue(new Work("b" + i, () -> {
                    allRunning.countDown();
                    await(release);
                }));
            }
            await(allRunning);
            long peak = t.threads.stream().filter(th -> th.getName().contains("/kworker/u")).filter(Thread::isAlive).count();
            release.countDown();
            q.flush();

            assertThat(peak).isGreaterThanOrEqualTo(n);
            await().atMost(Duration.ofSeconds(20)).until(() -> t.threads.stream()
                    .filter(th -> th.getName().contains("/kworker/u")).filter(Thread::isAlive).count() <= 3);
        }
    }

    /** A ManagedBlocker over a latch. */
    static final class LatchBlocker implements ForkJoinPool.ManagedBlocker {
        private final CountDownLatch latch;

        LatchBlocker(CountDownLatch latch) {
            this.latch = latch;
        }

        @Override
        public boolean block() throws InterruptedException {
            latch.await();
            return true;
        }

        @Override
        public boolean isReleasable() {
            return latch.getCount() == 0;
        }
    }

    @Test
    void statisticsCountStartedAndCompletedItems() {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("stats").build();
            AtomicInteger n = new AtomicInteger();
            for (int i = 0; i < 25; i++) {
                q.queue(new Work("s" + i, n::incrementAndGet));
            }
            q.flush();
            WorkQueueStats s = q.stats();
            assertThat(s.started()).isEqualTo(25);
            assertThat(s.completed()).isEqualTo(25);
            assertThat(s.inFlight()).isZero();
            assertThat(t.rt.monitor()).contains("total").contains("CMW/RPR").contains("stats");
        }
    }
}
