package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * The monitor's wake-up protocol, driven through the interleaving that lost wake-ups: the
 * monitor's idle re-check blocks on a contended pool lock, and the wake-up (a worker starting an
 * item, or close() stopping the monitor) arrives meanwhile; the park that the lock's wait
 * performs consumes the thread's permit. The wake-up must still be seen.
 */
class MonitorWakeupTest {
    private static final long BOUND_S = 20;

    private final List<Throwable> errors = new CopyOnWriteArrayList<>();

    private WqRuntime runtime() {
        return new WqRuntime("mon", 2, Executors.defaultThreadFactory(), Thread.currentThread().getThreadGroup(), Duration.ofSeconds(300).toNanos(),
                (wq, n, e) -> errors.add(e), Duration.ofMillis(10).toNanos(), Duration.ofSeconds(300).toNanos(), null,
                LockDependencyValidator.disabled(), org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 64);
    }

    private static WorkqueueStruct perCpuQueue(WqRuntime rt, String name) {
        return rt.newQueue(null, name, 0, 16, null);
    }

    private static void queueOn(WorkqueueStruct wq, int cpu, WorkNode w) {
        assertThat(Pending.claim(w)).isTrue();
        wq.insertClaimed(cpu, w);
    }

    private static void await(CountDownLatch l) {
        try {
            assertThat(l.await(BOUND_S, TimeUnit.SECONDS)).as("latch within %ss", BOUND_S).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Parks the monitor's next idle re-check on {@code held} (taken by the caller before the
     * re-check reaches it): returns once the monitor waits for that lock.
     */
    private static void parkRecheckOnLock(Monitor mon, PoolLock held) {
        mon.thread.start(); // started on demand (a wait or the manager's first worker): here by hand
        Thread mt = mon.thread.thread();
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                .until(() -> mt.getState() == Thread.State.TIMED_WAITING || mt.getState() == Thread.State.WAITING);
        CountDownLatch reached = new CountDownLatch(1);
        CountDownLatch gate = new CountDownLatch(1);
        AtomicBoolean armed = new AtomicBoolean(true);
        mon.idleRecheckHook = () -> {
            if (armed.compareAndSet(true, false)) {
                reached.countDown();
                await(gate);
            }
        };
        mon.noteBusy(); // wake it: a scan that finds nothing, then the idle re-check runs the hook
        await(reached);
        held.lock();
        gate.countDown();
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                .until(() -> PoolLocks.waitsOn(held, mt) && mt.getState() == Thread.State.WAITING);
        mon.idleRecheckHook = null;
    }

    /** Issue 12 defect 3: a worker's wake-up consumed by the re-check's lock wait stalled concurrency management. */
    @Test
    void wakeupDuringTheIdleRecheckIsNotLost() {
        WqRuntime rt = runtime();
        try {
            WorkqueueStruct q = perCpuQueue(rt, "q");
            // Warm pool 0 (a worker and its idle spare) so nothing below needs a new thread.
            CountDownLatch warm = new CountDownLatch(1);
            queueOn(q, 0, new TestNode("warm", warm::countDown));
            await(warm);
            q.flush();
            Monitor mon = rt.monitor();
            List<WorkerPool> pools = java.util.Arrays.asList(rt.allPools());
            PoolLock last = pools.get(pools.size() - 1).lock; // visited after pool 0
            parkRecheckOnLock(mon, last);
            // The re-check has passed pool 0 (idle); now an item starts there and blocks where the
            // library cannot see it, with a second item behind it.
            CountDownLatch aStarted = new CountDownLatch(1);
            CountDownLatch releaseA = new CountDownLatch(1);
            CountDownLatch bRan = new CountDownLatch(1);
            queueOn(q, 0, new TestNode("a", () -> {
                aStarted.countDown();
                try {
                    releaseA.await(3 * BOUND_S, TimeUnit.SECONDS); // outlives the assertion on "b" below
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            queueOn(q, 0, new TestNode("b", bRan::countDown));
            await(aStarted); // the worker called noteBusy() before running "a"
            Thread mt = mon.thread.thread();
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                    .until(() -> PoolLocks.waitsOn(last, mt) && mt.getState() == Thread.State.WAITING);
            last.unlock();
            try {
                // Bound: cpuIntensiveThreshold (10 ms) + a tick; failing here means the monitor
                // parked for the watchdog period (300 s) with "a" blocking "b".
                assertThat(bRan.await(BOUND_S, TimeUnit.SECONDS)).as("b ran while a blocks").isTrue();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            } finally {
                releaseA.countDown();
            }
        } finally {
            rt.close(Duration.ofSeconds(BOUND_S));
        }
        assertThat(errors).isEmpty();
    }

    /** Issue 13 defect 3: close() returned while kworker/monitor still slept out its idle park. */
    @Test
    void closeJoinsTheMonitorWhoseStopArrivedDuringTheRecheck() throws Exception {
        WqRuntime rt = runtime();
        Monitor mon = rt.monitor();
        List<WorkerPool> pools = java.util.Arrays.asList(rt.allPools());
        WorkerPool lastPool = pools.get(pools.size() - 1);
        PoolLock last = lastPool.lock;
        parkRecheckOnLock(mon, last);
        Thread closer = new Thread(() -> rt.close(Duration.ofSeconds(3)), "closer");
        closer.start();
        // close() stops the monitor (its unpark is eaten by the lock wait) and then waits for
        // the same pool lock to stop that pool.
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> PoolLocks.waitsOn(last, closer));
        last.unlock();
        closer.join(TimeUnit.SECONDS.toMillis(BOUND_S));
        assertThat(closer.isAlive()).isFalse();
        assertThat(mon.thread.thread().isAlive()).as("kworker/monitor alive after close() returned").isFalse();
    }
}
