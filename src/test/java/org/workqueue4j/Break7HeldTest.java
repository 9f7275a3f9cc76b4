package org.workqueue4j;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/** Break7 probes of the changes that held (kept as quick regression tests). */
@Timeout(60)
class Break7HeldTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private WorkQueues rt;
    private Lockdep lockdep;

    private void validating() {
        lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(FlushAnnotation.ALWAYS).build());
    }

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    /** A positive timeout still records the wait: a timed flush under a lock its item takes is reported. */
    @Test
    void aPositiveTimeoutWorkFlushUnderALockTheItemTakesIsStillReported() throws Exception {
        validating();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        WorkQueue q = rt.queueBuilder("q").build();
        Work w = new Work("takes-m", () -> { m.lock(); m.unlock(); });
        q.queue(w);
        w.flush();
        m.lock();
        try {
            q.queue(w);
            assertThat(w.flush(Duration.ofMillis(200))).as("deadlocked until the timeout").isFalse();
        } finally {
            m.unlock();
        }
        w.flush();
        assertThat(reports).as("a real deadlock, bounded only by its timeout").isNotEmpty();
    }

    @Test
    void aPositiveTimeoutDelayedFlushUnderALockTheItemTakesIsStillReported() throws Exception {
        validating();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        WorkQueue q = rt.queueBuilder("q").build();
        DelayedWork w = new DelayedWork("takes-m", () -> { m.lock(); m.unlock(); });
        q.queueDelayed(w, Duration.ZERO);
        w.flush();
        m.lock();
        try {
            q.queueDelayed(w, Duration.ofHours(1));
            assertThat(w.flush(Duration.ofMillis(200))).as("deadlocked until the timeout").isFalse();
        } finally {
            m.unlock();
        }
        w.flush();
        assertThat(reports).isNotEmpty();
    }

    @Test
    void aPositiveTimeoutViewGetUnderALockTheTaskTakesIsStillReported() throws Exception {
        validating();
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        ExecutorService view = rt.queueBuilder("v").build().asExecutorService();
        Runnable task = () -> { m.lock(); m.unlock(); };
        view.submit(task).get(10, SECONDS);
        m.lock();
        Future<?> f;
        try {
            f = view.submit(task);
            assertThatThrownBy(() -> f.get(200, MILLISECONDS)).isInstanceOf(java.util.concurrent.TimeoutException.class);
        } finally {
            m.unlock();
        }
        f.get(10, SECONDS);
        assertThat(reports).isNotEmpty();
    }

    /** The self-wait refusal stays for zero-time waits from the item's own function. */
    @Test
    void zeroTimeWaitsFromTheItemsOwnFunctionAreStillRefused() throws Exception {
        validating();
        WorkQueue q = rt.queueBuilder("q").build();
        List<Object> outcomes = new CopyOnWriteArrayList<>();
        AtomicReference<Work> self = new AtomicReference<>();
        DelayedWork dw = new DelayedWork("dself", () -> {
            try {
                Work.current().flush(Duration.ZERO);
                outcomes.add("dw.flush(0) returned");
            } catch (Throwable e) {
                outcomes.add(e.getClass().getSimpleName());
            }
        });
        Work w = new Work("self", () -> {
            for (int i = 0; i < 3; i++) {
                try {
                    switch (i) {
                        case 0 -> self.get().flush(Duration.ZERO);
                        case 1 -> self.get().cancelSync(Duration.ZERO);
                        default -> q.flush(Duration.ZERO);
                    }
                    outcomes.add("returned " + i);
                } catch (Throwable e) {
                    outcomes.add(e.getClass().getSimpleName());
                }
            }
        });
        self.set(w);
        q.queue(w);
        q.queueDelayed(dw, Duration.ZERO);
        q.flush();
        dw.flush();
        assertThat(outcomes).containsExactlyInAnyOrder("IllegalStateException", "IllegalStateException",
                "IllegalStateException", "IllegalStateException");
    }

    /** Results of zero-time waits: false while the item runs, true once idle. */
    @Test
    void zeroTimeWaitResultsStayCorrect() throws Exception {
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build());
        WorkQueue q = rt.queueBuilder("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        Work w = new Work("w", () -> { started.countDown(); WorkQueueCoreTest.await(go); });
        q.queue(w);
        started.await();
        assertThat(w.flush(Duration.ZERO)).isFalse();
        assertThat(q.flush(Duration.ZERO)).isFalse();
        assertThat(w.cancelSync(Duration.ZERO)).isFalse();
        go.countDown();
        w.flush();
        q.flush(); // the open window of Break7ZeroFlushIdleTest: the item flush's barrier count drops just after it returns
        assertThat(w.flush(Duration.ZERO)).isTrue();
        assertThat(q.flush(Duration.ZERO)).isTrue();
        assertThat(q.drain(Duration.ZERO)).isTrue();
        assertThat(w.cancelSync(Duration.ZERO)).isTrue();
    }

    /**
     * Ledger: many flushAsync callers and timed/interruptible flushers at once; every future
     * completes, and only after every item queued before its call finished.
     */
    @Test
    void flushAsyncLedgerWithTimedAndInterruptibleFlushers() throws Exception {
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build());
        WorkQueue q = rt.queueBuilder("q").unbound().build();
        int n = 400;
        AtomicReferenceArray<Boolean> finished = new AtomicReferenceArray<>(n);
        AtomicInteger next = new AtomicInteger();
        List<String> violations = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Void>> checks = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int t = 0; t < 4; t++) {
            int kind = t;
            threads.add(new Thread(() -> {
                WorkQueueCoreTest.await(start);
                for (int i = 0; i < n / 4; i++) {
                    int id = next.getAndIncrement();
                    finished.set(id, false);
                    q.queue(new Work("i" + id, () -> finished.set(id, true)));
                    if (kind < 2) {
                        checks.add(q.flushAsync().thenRun(() -> {
                            if (!finished.get(id)) {
                                violations.add("future completed before item " + id + " finished");
                            }
                        }));
                    } else {
                        try {
                            if (kind == 2) {
                                q.flush(Duration.ofNanos(i % 3 == 0 ? 1 : 200_000));
                            } else {
                                q.flushInterruptibly();
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        start.countDown();
        for (Thread t : threads) {
            t.join(30_000);
        }
        CompletableFuture.allOf(checks.toArray(new CompletableFuture[0])).get(20, SECONDS);
        assertThat(violations).isEmpty();
    }

    /** Many threads await an owned view's termination while its destroy waits on system_unbound: all see it terminated. */
    @Test
    void manyWaitersOneDestroy() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).maxWorkers(2)
                .uncaughtWorkHandler((q, w, e) -> errors.add(e)).build());
        CountDownLatch release = new CountDownLatch(1);
        try {
            WorkQueue busy = rt.queueBuilder("busy").unbound().build();
            CountDownLatch started = new CountDownLatch(2);
            for (int i = 0; i < 2; i++) {
                busy.queue(new Work("long-" + i, () -> { started.countDown(); WorkQueueCoreTest.await(release); }));
            }
            started.await();
            ExecutorService owned = rt.queueBuilder("owned").unbound().buildExecutorService();
            WorkQueue oq = rt.queues().stream().filter(x -> x.name().equals("owned")).findFirst().orElseThrow();
            owned.shutdown();
            List<Thread> ws = new ArrayList<>();
            List<Object> results = new CopyOnWriteArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < 8; i++) {
                Thread th = new Thread(() -> {
                    WorkQueueCoreTest.await(go);
                    try {
                        results.add(owned.awaitTermination(10, SECONDS));
                    } catch (Throwable e) {
                        results.add(e);
                    }
                });
                th.start();
                ws.add(th);
            }
            go.countDown();
            for (Thread th : ws) {
                th.join(20_000);
            }
            assertThat(results).hasSize(8).containsOnly(true);
        } finally {
            release.countDown();
        }
        rt.systemUnbound().flush(); // the destroy follows the termination, from a system_unbound item
        assertThat(oqDestroyed(rt, "owned")).isTrue();
        assertThat(errors).isEmpty();
    }

    /**
     * awaitTermination from an item of system_unbound itself, and from a task of another owned
     * view, with the destroy stuck behind the worker cap and lock validation on: true, the queue
     * destroyed, no report.
     */
    @Test
    void awaitTerminationFromASystemUnboundItemAndFromAnotherViewsTaskWithValidation() throws Exception {
        lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).maxWorkers(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS).uncaughtWorkHandler((q, w, e) -> errors.add(e)).build());
        ValidatedLock m = new ValidatedLock("M", new LockClassKey("M"), lockdep);
        CountDownLatch release = new CountDownLatch(1);
        try {
            ExecutorService a = rt.queueBuilder("a").unbound().buildExecutorService();
            ExecutorService other = rt.queueBuilder("b").unbound().buildExecutorService();
            WorkQueue aq = rt.queues().stream().filter(x -> x.name().equals("a")).findFirst().orElseThrow();
            List<Object> results = new CopyOnWriteArrayList<>();
            CountDownLatch bothRunning = new CountDownLatch(2);
            CountDownLatch go = new CountDownLatch(1);
            rt.systemUnbound().queue(new Work("s", () -> {
                bothRunning.countDown();
                WorkQueueCoreTest.await(go);
                m.lock();
                try {
                    results.add(a.awaitTermination(10, SECONDS));
                } catch (InterruptedException e) {
                    results.add(e);
                } finally {
                    m.unlock();
                }
            }));
            Future<?> bt = other.submit(() -> {
                bothRunning.countDown();
                WorkQueueCoreTest.await(go);
                try {
                    results.add(a.awaitTermination(10, SECONDS));
                } catch (InterruptedException e) {
                    results.add(e);
                }
            });
            assertThat(bothRunning.await(10, SECONDS)).isTrue();
            a.shutdown(); // both workers of the cap busy: the destroy waits on system_unbound
            go.countDown();
            bt.get(20, SECONDS);
            release.countDown();
            rt.systemUnbound().flush(Duration.ofSeconds(20));
            assertThat(results).hasSize(2).containsOnly(true);
            assertThat(aq.isDestroyed()).as("destroyed after its termination, by a system_unbound item").isTrue();
            assertThat(reports).isEmpty();
            assertThat(errors).isEmpty();
        } finally {
            release.countDown();
        }
    }

    private static boolean oqDestroyed(WorkQueues rt, String name) {
        return rt.queues().stream().noneMatch(x -> x.name().equals(name));
    }
}
