package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * A delayed item's expiry that lands on a queue never used before: the landing replays the
 * queue's latent waits (DEFER_UNTIL_USED) on the thread that fired the item, whose report goes
 * to the validator's listener, user code, before the firer is done with the node. A destroy()
 * of that queue begun meanwhile must not depend on that listener returning.
 */
class ExpiryLandingCallbackTest {
    private WorkQueues rt;
    private Lockdep lockdep;
    private final CountDownLatch inListener = new CountDownLatch(1);
    private final CountDownLatch listenerGo = new CountDownLatch(1);
    private final CountDownLatch listenerReturned = new CountDownLatch(1);
    private final AtomicReference<Throwable> listenerFailure = new AtomicReference<>();
    private final AtomicReference<LockdepReport> timerReport = new AtomicReference<>();

    @AfterEach
    void tearDown() {
        TestHooks.install(null);
        listenerGo.countDown();
        if (rt != null) {
            rt.close();
        }
    }

    /**
     * A runtime whose validator keeps waits on never-used queues latent; its listener, on the
     * timer thread, opens {@code inListener}, waits for {@code listenerGo}, then runs {@code action}.
     */
    private void start(Runnable action) {
        lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(r -> {
            if (!Thread.currentThread().getName().contains("timer")) {
                return;
            }
            timerReport.set(r);
            inListener.countDown();
            FlushContractTest.awaitUninterruptibly(listenerGo);
            try {
                action.run();
            } catch (Throwable t) {
                listenerFailure.set(t);
            }
            listenerReturned.countDown();
        }).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .validator(lockdep)
                .flushAnnotation(FlushAnnotation.DEFER_UNTIL_USED)
                .closeTimeout(Duration.ofSeconds(5))
                .uncaughtWorkHandler((q, w, e) -> { })
                .build());
    }

    /**
     * Queue "late" shares a lock class with a used queue that learnt D -> M; a flush of "late"
     * under M, while it was never used, is kept latent (M -> D). Its first use replays it and
     * closes the cycle: a report, delivered on the thread that made the first use.
     */
    private WorkQueue lateQueueWithALatentCycle() {
        LockClassKey shared = new LockClassKey("(wq_completion)disk/%s");
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        WorkQueue used = rt.queueBuilder("disk/a").lockClass(shared).build();
        used.queue(new Work("takes-m", () -> {
            m.lock();
            m.unlock();
        }));
        used.flush(); // D -> M
        WorkQueue late = rt.queueBuilder("disk/b").lockClass(shared).build();
        m.lock();
        try {
            late.flush(); // M -> D, latent: never used
        } finally {
            m.unlock();
        }
        return late;
    }

    @Test
    @DisplayName("destroy() begun while the timer thread's landing of a delayed item reports to a validator listener that destroys the same queue: both destroy() calls return")
    void aListenerDestroyingTheQueueDuringTheLandingDoesNotDeadlockWithADestroyUnderWay() throws Exception {
        AtomicReference<WorkQueue> queue = new AtomicReference<>();
        start(() -> queue.get().destroy());
        WorkQueue late = lateQueueWithALatentCycle();
        queue.set(late);
        DelayedWork d = new DelayedWork("d", () -> { });
        assertThat(late.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        assertThat(inListener.await(30, TimeUnit.SECONDS)).as("the landing's report reached the listener on the timer thread").isTrue();
        Thread destroyer = startDestroyer(late, null);
        listenerGo.countDown(); // the listener now destroys the queue too

        boolean listenerDone = listenerReturned.await(30, TimeUnit.SECONDS);
        destroyer.join(30_000);
        boolean destroyerDone = !destroyer.isAlive();
        assertThat(listenerDone && destroyerDone)
                .as("both destroy() calls returned (listener's: %s, first: %s; the first waits in %s)", listenerDone,
                        destroyerDone, java.util.Arrays.toString(destroyer.getStackTrace()))
                .isTrue();
        assertThat(listenerFailure.get()).isNull();
        assertThat(late.isDestroyed()).isTrue();
        assertThat(d.isPending()).isFalse();
    }

    @Test
    @DisplayName("destroy() called under a user lock while the timer thread's landing reports to a validator listener that takes that lock: destroy() returns")
    void aDestroyUnderALockTheLandingsListenerTakesReturns() throws Exception {
        Object registry = new Object();
        start(() -> {
            synchronized (registry) {
                // records the report
            }
        });
        WorkQueue late = lateQueueWithALatentCycle();
        DelayedWork d = new DelayedWork("d", () -> { });
        assertThat(late.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        assertThat(inListener.await(30, TimeUnit.SECONDS)).isTrue();
        Thread destroyer = startDestroyer(late, registry);
        listenerGo.countDown();

        destroyer.join(30_000);
        assertThat(destroyer.isAlive()).as("destroy() returned (it waits in %s)",
                java.util.Arrays.toString(destroyer.getStackTrace())).isFalse();
        assertThat(listenerReturned.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(late.isDestroyed()).isTrue();
    }
    /**
     * Destroys {@code late} on a daemon thread "destroyer" (inside {@code synchronized (lock)}
     * if {@code lock} is not null) and returns once that destroy waits for the expiry in
     * transit ({@code timer.awaitTransit}) or has ended.
     */
    private static Thread startDestroyer(WorkQueue late, Object lock) throws InterruptedException {
        CountDownLatch destroyWaitsOrEnded = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("timer.awaitTransit")) {
                destroyWaitsOrEnded.countDown();
            }
        });
        Runnable destroy = () -> {
            try {
                late.destroy();
            } finally {
                destroyWaitsOrEnded.countDown();
            }
        };
        Thread destroyer = new Thread(() -> {
            if (lock == null) {
                destroy.run();
            } else {
                synchronized (lock) {
                    destroy.run();
                }
            }
        }, "destroyer");
        destroyer.setDaemon(true);
        destroyer.start();
        assertThat(destroyWaitsOrEnded.await(30, TimeUnit.SECONDS)).isTrue();
        return destroyer;
    }
}
