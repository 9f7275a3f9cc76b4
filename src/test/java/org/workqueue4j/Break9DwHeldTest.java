package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
/**
 * Break9 probes of delayed work, the timer and the scheduled view that held (kept as regression
 * tests): STPE policies (periodic self-cancel, shutdown/shutdownNow with delayed and periodic
 * tasks, periodic failure, getDelay/compareTo, invokeAll timeout, owned views), close() and
 * destroy() with armed items (reported once, item reusable), freeze with an armed or expired
 * timer, disable/enable of an armed item, modDelayed across queues and while running,
 * queueDelayedOn CPUs, extreme delays, drain with an armed timer, interrupts kept, self-re-arming
 * items against cancelSync/disableSync/flush/flushAsync.
 */
class Break9DwHeldTest {
    @Test
    void p01_periodicCancelFromOwnRun() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            ScheduledExecutorService ses = t.queue("q").build().asScheduledExecutorService();
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<ScheduledFuture<?>> ref = new AtomicReference<>();
            CountDownLatch set = new CountDownLatch(1);
            ScheduledFuture<?> f = ses.scheduleAtFixedRate(() -> {
                try { set.await(); } catch (InterruptedException e) { }
                if (runs.incrementAndGet() == 2) ref.get().cancel(false);
            }, 0, 1, TimeUnit.MILLISECONDS);
            ref.set(f); set.countDown();
            assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            Thread.sleep(50);
            assertThat(runs.get()).isEqualTo(2);
            ses.shutdown();
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void p02_shutdownNowReturnsDelayedUncancelled() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            ScheduledExecutorService ses = t.queue("q").build().asScheduledExecutorService();
            ScheduledFuture<?> a = ses.schedule(() -> { }, 1, TimeUnit.HOURS);
            ScheduledFuture<?> b = ses.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.HOURS);
            List<Runnable> l = ses.shutdownNow();
            assertThat(l).containsExactlyInAnyOrder((Runnable) a, (Runnable) b);
            assertThat(a.isDone()).isFalse();
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void p03_shutdownKeepsDelayedOneShot() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            ScheduledExecutorService ses = t.queue("q").build().asScheduledExecutorService();
            CountDownLatch ran = new CountDownLatch(1);
            ScheduledFuture<?> a = ses.schedule(ran::countDown, 200, TimeUnit.MILLISECONDS);
            ScheduledFuture<?> p = ses.scheduleWithFixedDelay(() -> { }, 1, 1, TimeUnit.HOURS);
            ses.shutdown();
            assertThat(p.isCancelled()).isTrue();
            assertThat(ses.isTerminated()).isFalse();
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran.getCount()).isZero();
            assertThat(a.isDone()).isTrue();
        }
    }

    @Test
    void p04_periodicThrowStops() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            ScheduledExecutorService ses = t.queue("q").build().asScheduledExecutorService();
            AtomicInteger runs = new AtomicInteger();
            ScheduledFuture<?> f = ses.scheduleWithFixedDelay(() -> {
                if (runs.incrementAndGet() == 3) throw new IllegalStateException("boom");
            }, 0, 1, TimeUnit.MILLISECONDS);
            assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasRootCauseMessage("boom");
            Thread.sleep(30);
            assertThat(runs.get()).isEqualTo(3);
            ses.shutdown();
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void p07_closeWithArmedReportsOnce() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        DelayedWork w = new DelayedWork("armed", runs::incrementAndGet);
        TestRuntime t = new TestRuntime();
        try (t) {
            WorkQueue q = t.queue("q").build();
            assertThat(q.queueDelayed(w, Duration.ofHours(1))).isTrue();
        }
        assertThat(w.isPending()).isFalse();
        assertThat(w.isTimerArmed()).isFalse();
        assertThat(runs.get()).isZero();
        assertThat(t.errorWork).containsExactly("q/armed");
        try (TestRuntime t2 = new TestRuntime()) {
            WorkQueue q2 = t2.queue("q2").build();
            assertThat(q2.queueDelayed(w, Duration.ZERO)).isTrue();
            w.flush();
            assertThat(runs.get()).isEqualTo(1);
        }
    }

    @Test
    void p08_freezeWithArmedTimer() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("fz").freezable().build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork w = new DelayedWork("d", runs::incrementAndGet);
            t.rt.freeze();
            assertThat(q.queueDelayed(w, Duration.ofMillis(20))).isTrue();
            // the expiry lands on the frozen queue: held there, not run (then 50 ms in which no run may start)
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !w.isTimerArmed());
            Thread.sleep(50);
            assertThat(w.isPending()).isTrue();
            assertThat(runs.get()).isZero();
            assertThat(w.flush(Duration.ofMillis(100))).isFalse();
            t.rt.thaw();
            w.flush();
            assertThat(runs.get()).isEqualTo(1);
            assertThat(t.errors).isEmpty();
        }
    }

    @Test
    void p09_timedFlushOfArmedOnFrozen() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("fz").freezable().build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork w = new DelayedWork("d", runs::incrementAndGet);
            t.rt.freeze();
            assertThat(q.queueDelayed(w, Duration.ofHours(1))).isTrue();
            long t0 = System.nanoTime();
            assertThat(w.flush(Duration.ofMillis(200))).isFalse();
            assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
            assertThat(w.isPending()).isTrue();
            t.rt.thaw();
            w.flush();
            assertThat(runs.get()).isEqualTo(1);
        }
    }

    @Test
    void p10_disableArmed() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork w = new DelayedWork("d", runs::incrementAndGet);
            assertThat(q.queueDelayed(w, Duration.ofHours(1))).isTrue();
            assertThat(w.disable()).isTrue();
            assertThat(w.isTimerArmed()).isFalse();
            assertThat(w.isPending()).isFalse();
            assertThat(q.queueDelayed(w, Duration.ofMillis(1))).isFalse();
            assertThat(q.modDelayed(w, Duration.ofMillis(1))).isFalse();
            assertThat(q.modDelayed(w, Duration.ZERO)).isFalse();
            assertThat(w.isPending()).isFalse();
            assertThat(w.disable()).isFalse();
            assertThat(w.enable()).isFalse();
            assertThat(w.enable()).isTrue();
            assertThat(q.queueDelayed(w, Duration.ofMillis(1))).isTrue();
            w.flush();
            assertThat(runs.get()).isEqualTo(1);
        }
    }

    @Test
    void p11_modDelayedMovesQueues() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q1 = t.queue("q1").build();
            WorkQueue q2 = t.queue("q2").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork w = new DelayedWork("d", runs::incrementAndGet);
            assertThat(q1.queueDelayed(w, Duration.ofHours(1))).isTrue();
            assertThat(q2.modDelayed(w, Duration.ofMillis(30))).isTrue();
            q1.destroy();
            assertThat(t.errors).isEmpty();
            w.flush();
            assertThat(runs.get()).isEqualTo(1);
            assertThat(w.isPending()).isFalse();
            q2.destroy();
            assertThat(t.errors).isEmpty();
        }
    }

    @Test
    void p13_queueDelayedOnCpu() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            AtomicReference<String> th = new AtomicReference<>();
            DelayedWork w = new DelayedWork("d", () -> th.set(Thread.currentThread().getName()));
            assertThat(q.queueDelayedOn(1, w, Duration.ofMillis(10))).isTrue();
            w.flush();
            assertThat(th.get()).contains("kworker/1:");
            DelayedWork w2 = new DelayedWork("d2", () -> th.set(Thread.currentThread().getName()));
            assertThat(q.queueDelayedOn(0, w2, Duration.ZERO)).isTrue();
            w2.flush();
            assertThat(th.get()).contains("kworker/0:");
            // armed on cpu 1 then flushed now: still cpu 1
            assertThat(q.queueDelayedOn(1, w, Duration.ofHours(1))).isTrue();
            w.flush();
            assertThat(th.get()).contains("kworker/1:");
        }
    }

    @Test
    void p17_hugeDelayDoesNotBlockOthers() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            DelayedWork big = new DelayedWork("big", () -> { });
            assertThat(q.queueDelayed(big, Duration.ofNanos(Long.MAX_VALUE))).isTrue();
            CountDownLatch ran = new CountDownLatch(1);
            DelayedWork small = new DelayedWork("small", ran::countDown);
            assertThat(q.queueDelayed(small, Duration.ofMillis(20))).isTrue();
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(big.isTimerArmed()).isTrue();
            CountDownLatch ran2 = new CountDownLatch(1);
            DelayedWork one = new DelayedWork("one", ran2::countDown);
            assertThat(q.queueDelayed(one, Duration.ofNanos(1))).isTrue();
            assertThat(ran2.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(big.cancel()).isTrue();
            assertThatThrownBy(() -> q.queueDelayed(big, Duration.ofSeconds(Long.MAX_VALUE)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("big").hasMessageContaining("'q'");
            assertThatThrownBy(() -> q.modDelayed(big, Duration.ofNanos(-1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("big");
            assertThat(big.isPending()).isFalse();
        }
    }

    @Test
    void p25_drainWithArmedTimerThenExpiryAccepted() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            CountDownLatch ran = new CountDownLatch(1);
            DelayedWork w = new DelayedWork("d", ran::countDown);
            assertThat(q.queueDelayed(w, Duration.ofMillis(300))).isTrue();
            q.drain();
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(t.errors).isEmpty();
        }
    }

    @Test
    void p26_modDelayedWhileRunning() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            CountDownLatch in = new CountDownLatch(1), go = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger(), conc = new AtomicInteger(), maxc = new AtomicInteger();
            DelayedWork w = new DelayedWork("d", () -> {
                int c = conc.incrementAndGet(); maxc.accumulateAndGet(c, Math::max);
                if (runs.incrementAndGet() == 1) { in.countDown(); try { go.await(); } catch (InterruptedException e) { } }
                conc.decrementAndGet();
            });
            q.queue(w);
            in.await();
            assertThat(q.modDelayed(w, Duration.ZERO)).isFalse();
            assertThat(q.modDelayed(w, Duration.ofMillis(5))).isTrue();
            // the re-armed timer fires while the first run is still going: the second waits for it
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !w.isTimerArmed());
            assertThat(w.isPending()).isTrue();
            go.countDown();
            w.flush();
            q.flush();
            assertThat(runs.get()).isEqualTo(2);
            assertThat(maxc.get()).isEqualTo(1);
        }
    }

    @Test
    void p29_interruptKeptByDelayedFlush() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork w = new DelayedWork("d", runs::incrementAndGet);
            q.queueDelayed(w, Duration.ofHours(1));
            Thread.currentThread().interrupt();
            try {
                assertThat(w.flush()).isTrue();
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
                q.queueDelayed(w, Duration.ofHours(1));
                assertThat(w.cancelSync()).isTrue();
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
                q.modDelayed(w, Duration.ofHours(1));
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
                assertThat(w.disable()).isTrue();
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
            } finally {
                Thread.interrupted();
            }
            assertThat(runs.get()).isEqualTo(1);
        }
    }

    @Test
    void p43_ownedScheduledViewDelayedAfterShutdown() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            ScheduledExecutorService ses = t.queue("own").buildScheduledExecutorService();
            CountDownLatch ran = new CountDownLatch(1);
            ScheduledFuture<?> a = ses.schedule(ran::countDown, 100, TimeUnit.MILLISECONDS);
            ses.shutdown();
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran.getCount()).isZero();
            t.rt.systemUnbound().flush();
            assertThat(t.errors).isEmpty();
        }
    }

    @Test
    void p44_ownedShutdownNow() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            ScheduledExecutorService ses = t.queue("own").buildScheduledExecutorService();
            ScheduledFuture<?> a = ses.schedule(() -> { }, 1, TimeUnit.HOURS);
            ScheduledFuture<?> p = ses.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.HOURS);
            assertThat(ses.shutdownNow()).hasSize(2);
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            t.rt.systemUnbound().flush();
            assertThat(t.errors).isEmpty();
            assertThat(t.rt.queues().stream().anyMatch(q -> q.name().equals("own"))).isFalse();
        }
    }

    @Test
    void p45_getDelayAndCompare() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            ScheduledExecutorService ses = t.queue("q").build().asScheduledExecutorService();
            ScheduledFuture<?> a = ses.schedule(() -> { }, 1, TimeUnit.HOURS);
            ScheduledFuture<?> b = ses.schedule(() -> { }, 2, TimeUnit.HOURS);
            ScheduledFuture<?> c = ses.schedule(() -> { }, Long.MAX_VALUE, TimeUnit.DAYS);
            assertThat(a.getDelay(TimeUnit.MINUTES)).isBetween(58L, 60L);
            assertThat(a.compareTo(b)).isNegative();
            assertThat(b.compareTo(c)).isNegative();
            assertThat(c.getDelay(TimeUnit.DAYS)).isPositive();
            assertThat(a.cancel(false)).isTrue();
            ses.shutdownNow();
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void p46_invokeAllTimeoutCancels() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").ordered().build();
            ScheduledExecutorService ses = q.asScheduledExecutorService();
            CountDownLatch release = new CountDownLatch(1);
            List<Callable<Integer>> tasks = List.of(() -> { release.await(); return 1; }, () -> 2, () -> 3);
            List<Future<Integer>> fs = ses.invokeAll(tasks, 100, TimeUnit.MILLISECONDS);
            assertThat(fs).allMatch(Future::isDone);
            // "Upon return, tasks that have not completed are cancelled": the first, held on
            // the latch, cannot have completed. Cancelling it interrupts it, and the ordered
            // queue may then run the second and third before invokeAll's cancel reaches them
            // (a ThreadPoolExecutor(1) may too): each is cancelled or has completed normally.
            assertThat(fs.get(0).isCancelled()).isTrue();
            for (int i = 1; i < fs.size(); i++) {
                Future<Integer> f = fs.get(i);
                if (!f.isCancelled()) {
                    assertThat(f.get()).isEqualTo(i + 1);
                }
            }
            release.countDown();
            ses.shutdown();
            assertThat(ses.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            q.flush();
        }
    }

    @Test
    void p47_cancelSyncArmedTimedAndDestroyReport() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            DelayedWork w = new DelayedWork("d", () -> { });
            q.queueDelayed(w, Duration.ofHours(1));
            assertThat(w.cancelSync(Duration.ofSeconds(5))).isTrue();
            assertThat(w.isPending()).isFalse();
            q.queueDelayed(w, Duration.ofHours(1));
            q.destroy();
            assertThat(t.errorWork).containsExactly("q/d");
            assertThat(w.isPending()).isFalse();
            assertThat(w.isTimerArmed()).isFalse();
        }
    }

    @Test
    void r01_closeFailsScheduledFutures() throws Exception {
        ScheduledExecutorService ses;
        ScheduledFuture<?> a, p;
        try (TestRuntime t = new TestRuntime()) {
            ses = t.queue("q").build().asScheduledExecutorService();
            a = ses.schedule(() -> { }, 1, TimeUnit.HOURS);
            p = ses.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.HOURS);
        }
        assertThatThrownBy(() -> a.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        assertThatThrownBy(() -> p.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        ses.shutdown();
        assertThat(ses.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> ses.schedule(() -> { }, 1, TimeUnit.SECONDS)).isInstanceOf(RejectedExecutionException.class);
    }

    @Test
    void r03_selfRearmCancelSync() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork[] w = new DelayedWork[1];
            w[0] = new DelayedWork("self", () -> { runs.incrementAndGet(); q.queueDelayed(w[0], Duration.ofNanos(1000)); });
            q.queueDelayed(w[0], Duration.ofMillis(1));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (runs.get() < 50 && System.nanoTime() < end) Thread.onSpinWait();
            w[0].cancelSync();
            int r = runs.get();
            assertThat(w[0].isPending()).isFalse();
            Thread.sleep(50);
            assertThat(runs.get()).isEqualTo(r);
        }
    }

    @Test
    void r04_selfModDelayedDisableSync() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork[] w = new DelayedWork[1];
            w[0] = new DelayedWork("self", () -> { runs.incrementAndGet(); q.modDelayed(w[0], Duration.ZERO); });
            q.queueDelayed(w[0], Duration.ofMillis(1));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (runs.get() < 50 && System.nanoTime() < end) Thread.onSpinWait();
            w[0].disableSync();
            int r = runs.get();
            assertThat(w[0].isPending()).isFalse();
            Thread.sleep(50);
            assertThat(runs.get()).isEqualTo(r);
            w[0].enable();
            w[0].cancelSync();
        }
    }

}
