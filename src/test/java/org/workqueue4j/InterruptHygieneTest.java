package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.workqueue4j.WorkQueueCoreTest.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Interrupt hygiene in every runtime thread (issue 12 defect 2; README "Faults and bad input"):
 * an interrupt status left set by user code (a work item, a report listener) never reaches the
 * next item and never makes a runtime thread spin instead of parking.
 */
@Timeout(60)
class InterruptHygieneTest {

    /** What an item saw when it started: its thread, and whether that thread was interrupted. */
    private record Start(Thread thread, boolean interrupted, boolean sleepThrew) {
    }

    /** An item body that records its start, then tries to sleep (which throws at once if interrupted). */
    private static Runnable recordStart(AtomicReference<Start> into) {
        return () -> {
            Thread me = Thread.currentThread();
            boolean interrupted = me.isInterrupted();
            boolean threw = false;
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                threw = true;
            }
            into.set(new Start(me, interrupted, threw));
        };
    }

    /** Parked (idle) and not interrupted: the state an idle runtime thread must reach and keep. */
    private static boolean parkedAndClear(Thread th) {
        Thread.State s = th.getState();
        return !th.isInterrupted() && (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING);
    }

    @Test
    @DisplayName("an item that re-asserts its interrupt does not pass it to the next item on the same worker")
    void interruptLeftByAnItemDoesNotReachTheNextItem() {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("hygiene").ordered().build(); // one at a time: the same worker takes both
            AtomicReference<Thread> first = new AtomicReference<>();
            AtomicReference<Start> second = new AtomicReference<>();
            CountDownLatch release = new CountDownLatch(1);
            q.queue(new Work("reasserts", () -> {
                first.set(Thread.currentThread());
                await(release);
                Thread.currentThread().interrupt(); // the usual catch (InterruptedException) { interrupt(); }
            }));
            q.queue(new Work("unrelated", recordStart(second)));
            release.countDown();
            q.flush();

            assertThat(second.get().thread()).as("the worker that ran the first item ran the second").isSameAs(first.get());
            assertThat(second.get().interrupted()).as("the next item started interrupted").isFalse();
            assertThat(second.get().sleepThrew()).as("Thread.sleep threw at once in the next item").isFalse();
            await().atMost(Duration.ofSeconds(20)).until(() -> parkedAndClear(first.get()));
        }
    }

    @Test
    @DisplayName("workers left interrupted by their items park idle (no spinning) and are culled after the idle timeout")
    void interruptedIdleWorkersParkAndAreCulled() {
        // 1 s: long enough that a spinning worker (which re-enters idle on every pass and so
        // restarts its idle clock) is never culled by being descheduled for a whole timeout.
        try (TestRuntime t = new TestRuntime(1, b -> b.idleTimeout(Duration.ofSeconds(1)))) {
            WorkQueue q = t.queue("burst").unbound().build();
            int n = 8;
            CountDownLatch allRunning = new CountDownLatch(n);
            CountDownLatch release = new CountDownLatch(1);
            java.util.Set<Thread> ran = java.util.concurrent.ConcurrentHashMap.newKeySet();
            for (int i = 0; i < n; i++) {
                q.queue(new Work("b" + i, () -> {
                    ran.add(Thread.currentThread());
                    allRunning.countDown();
                    await(release);
                    Thread.currentThread().interrupt();
                }));
            }
            await(allRunning);
            release.countDown();
            q.flush();

            assertThat(ran).hasSize(n);
            await().atMost(Duration.ofSeconds(30)).until(() -> t.threads.stream()
                    .filter(th -> th.getName().contains("kworker/u")).filter(Thread::isAlive).count() <= 3);
            await().atMost(Duration.ofSeconds(20)).until(() -> ran.stream()
                    .allMatch(th -> !th.isAlive() || parkedAndClear(th)));
        }
    }

    @Test
    @DisplayName("the rescuer clears an interrupt left by an item before the next item it runs")
    void rescuerClearsTheInterruptBetweenItems() {
        AtomicBoolean failing = new AtomicBoolean();
        try (TestRuntime t = new TestRuntime(2, b -> { }, RescuerFreezeWatchdogTest.failingWhile(failing))) {
            WorkQueue q = t.queue("dio/sdb").memReclaim().build(); // its rescuer exists now
            failing.set(true); // no worker can be made: the rescuer runs everything
            AtomicReference<Thread> first = new AtomicReference<>();
            AtomicReference<Start> second = new AtomicReference<>();
            q.queueOn(0, new Work("reasserts", () -> {
                first.set(Thread.currentThread());
                Thread.currentThread().interrupt();
            }));
            q.queueOn(0, new Work("unrelated", recordStart(second)));
            q.flush();

            assertThat(first.get().getName()).contains("R-dio/sdb");
            assertThat(second.get().thread()).isSameAs(first.get());
            assertThat(second.get().interrupted()).as("the next rescued item started interrupted").isFalse();
            assertThat(second.get().sleepThrew()).isFalse();
            await().atMost(Duration.ofSeconds(20)).until(() -> parkedAndClear(first.get()));
            failing.set(false);
        }
    }

    @Test
    @DisplayName("a report listener that leaves the monitor interrupted does not make it spin")
    void monitorClearsAnInterruptLeftByTheReportListener() {
        AtomicBoolean failing = new AtomicBoolean();
        AtomicReference<Thread> listenerThread = new AtomicReference<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .threadFactory(RescuerFreezeWatchdogTest.failingWhile(failing))
                .reportListener(text -> {
                    listenerThread.set(Thread.currentThread());
                    Thread.currentThread().interrupt();
                })
                .build());
        try {
            WorkQueue q = rt.queueBuilder("starved").build();
            failing.set(true);
            q.queueOn(0, new Work("waits", () -> { }));
            await().atMost(Duration.ofSeconds(20)).until(() -> listenerThread.get() != null);
            failing.set(false);
            q.flush(); // the monitor retries creation after the cooldown

            Thread monitor = listenerThread.get();
            assertThat(monitor.getName()).contains("monitor");
            // Left set, parkNanos returns at once forever: the monitor would spin and never show clear.
            await().atMost(Duration.ofSeconds(20)).until(() -> parkedAndClear(monitor));
        } finally {
            rt.close();
        }
    }
}
