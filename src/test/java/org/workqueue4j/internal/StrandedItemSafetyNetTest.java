package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * The state an Error leaves when it strikes a wake-up after the item landed: the item on its
 * pool's worklist, PENDING, no worker woken for it and no hint set (the locked insert's kick
 * after its commit point, or a producer's wake cut short inside the kick, whose pushes it
 * landed). The pool has an idle worker and the monitor is parked idle (it parks up to the
 * watchdog threshold when nothing is busy). The state is built exactly as the locked insert
 * builds it up to its commit ({@code PoolWorkqueue.land} under the pool lock), without the kick.
 * Each waiter on the item must get it run without counting on a monitor tick.
 *
 * <p>{@code itemFlushWakesAWorkerForAStrandedItem} failed before Barrier.startFlushWork kicked
 * the pool (the item's flush waited its whole bound, nobody woken). The other two guard the
 * safety nets as they were: with the kick taken out of FlushColors.markAndAdvance the queue
 * flush timed out, and with {@code || p.needMoreWorker()} taken out of the monitor's scan the
 * item never ran.
 */
@Timeout(60)
class StrandedItemSafetyNetTest {
    private static final long BOUND_S = 10;

    private WqRuntime rt;

    private WqRuntime runtime(Duration watchdog) {
        rt = new WqRuntime("stranded", 1, Thread::new, Thread.currentThread().getThreadGroup(),
                Duration.ofSeconds(300).toNanos(), (wq, n, e) -> { }, Duration.ofSeconds(10).toNanos(),
                watchdog.toNanos(), null, LockDependencyValidator.disabled(),
                org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 8);
        return rt;
    }

    @AfterEach
    void close() {
        if (rt != null) {
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> { rt.close(Duration.ofSeconds(20)); }, "close() blocked");
        }
    }

    /** An unbound queue whose pool has run an item and gone idle, with the monitor parked idle. */
    private static WorkqueueStruct idleQueue(WqRuntime rt) throws InterruptedException {
        WorkqueueStruct q = rt.newQueue(null, "q", WorkqueueStruct.WQ_UNBOUND, 16, null);
        CountDownLatch warm = new CountDownLatch(1);
        q.queue(-1, new TestNode("warm", warm::countDown));
        assertThat(warm.await(BOUND_S, TimeUnit.SECONDS)).as("the warm-up item ran").isTrue();
        q.flush();
        WorkerPool pool = q.pwqs[0].pool;
        await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> {
            pool.lock.lock();
            try {
                return !pool.idle.isEmpty() && pool.nrRunning == 0 && pool.worklist.isEmpty();
            } finally {
                pool.lock.unlock();
            }
        });
        return q;
    }

    /** Waits until the monitor parks in its idle wait: parkedIdle set and its thread in a timed park. */
    private static void awaitMonitorParkedIdle(WqRuntime rt) {
        Monitor m = rt.monitor();
        await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> {
            Thread t = m.thread.thread();
            return t != null && parkedIdle(m) && t.getState() == Thread.State.TIMED_WAITING;
        });
    }

    private static boolean parkedIdle(Monitor m) throws ReflectiveOperationException {
        Field f = Monitor.class.getDeclaredField("parkedIdle");
        f.setAccessible(true);
        return f.getBoolean(m);
    }

    /** Lands {@code n} on the worklist as the locked insert does up to its commit, and stops there (no kick). */
    private static void strand(WorkqueueStruct q, WorkNode n) {
        assertThat(n.casState(n.state(), n.state() | WorkNode.PENDING)).isTrue();
        PoolWorkqueue pwq = q.pwqs[0];
        WorkerPool pool = pwq.pool;
        pool.lock.lock();
        try {
            n.setPool(pool);
            pwq.land(n);
        } finally {
            pool.lock.unlock();
        }
    }

    @Test
    @DisplayName("an item's own flush runs an item a cut-short wake-up left on the worklist")
    void itemFlushWakesAWorkerForAStrandedItem() throws Exception {
        WqRuntime rt = runtime(Duration.ofSeconds(300));
        WorkqueueStruct q = idleQueue(rt);
        awaitMonitorParkedIdle(rt);
        CountDownLatch ran = new CountDownLatch(1);
        TestNode n = new TestNode("stranded", ran::countDown);
        strand(q, n);
        boolean flushed = Barrier.flushWorkUntil(n, false, System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_S));
        assertThat(flushed && ran.getCount() == 0)
                .as("the item's flush returned with the item run (it waited %s s in vain: nobody woken)", BOUND_S).isTrue();
    }

    @Test
    @DisplayName("a queue flush runs an item a cut-short wake-up left on the worklist (the flush's kick)")
    void queueFlushWakesAWorkerForAStrandedItem() throws Exception {
        WqRuntime rt = runtime(Duration.ofSeconds(300));
        WorkqueueStruct q = idleQueue(rt);
        awaitMonitorParkedIdle(rt);
        CountDownLatch ran = new CountDownLatch(1);
        strand(q, new TestNode("stranded", ran::countDown));
        assertTimeoutPreemptively(Duration.ofSeconds(BOUND_S), q::flush, "the queue flush waited in vain: nobody woken");
        assertThat(ran.getCount()).isZero();
    }

    @Test
    @DisplayName("the monitor's scan runs an item a cut-short wake-up left on the worklist, with no waiter at all")
    void monitorScanWakesAWorkerForAStrandedItem() throws Exception {
        WqRuntime rt = runtime(Duration.ofMillis(400)); // the idle monitor scans every 400 ms
        WorkqueueStruct q = idleQueue(rt);
        CountDownLatch ran = new CountDownLatch(1);
        strand(q, new TestNode("stranded", ran::countDown));
        assertThat(ran.await(BOUND_S, TimeUnit.SECONDS)).as("the monitor's scan kicked the pool").isTrue();
    }
}
