package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WorkQueue#flushAsync()} and {@link Work#flushAsync()}: the future completes when the
 * condition of the blocking flush holds, never earlier, and no thread waits for it.
 */
class FlushAsyncTest {
    private static final long LONG = 30;

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    private static Work blocking(String name, CountDownLatch started, CountDownLatch release, AtomicBoolean finished) {
        return new Work(name, () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
            finished.set(true);
        });
    }

    @Test
    void queueFlushAsyncIsCompleteOnReturnWhenTheQueueIsIdle() {
        WorkQueue q = t.queue("idle").build();
        assertThat(q.flushAsync()).isDone();
        q.queue(new Work("quick", () -> { }));
        q.flush();
        assertThat(q.flushAsync()).isDone();
    }

    @Test
    void queueFlushAsyncCompletesOnlyAfterEveryItemQueuedBeforeTheCallFinished() throws Exception {
        WorkQueue q = t.queue("two").unbound().build();
        CountDownLatch started = new CountDownLatch(2);
        CountDownLatch releaseA = new CountDownLatch(1);
        CountDownLatch releaseB = new CountDownLatch(1);
        AtomicBoolean aDone = new AtomicBoolean();
        AtomicBoolean bDone = new AtomicBoolean();
        q.queue(blocking("a", started, releaseA, aDone));
        q.queue(blocking("b", started, releaseB, bDone));
        WorkQueueCoreTest.await(started);

        CompletableFuture<Void> f = q.flushAsync();
        CompletableFuture<Boolean> sawBoth = f.thenApply(v -> aDone.get() && bDone.get());
        assertThat(f).isNotDone();
        releaseA.countDown();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(LONG)).untilTrue(aDone);
        assertThat(f).as("b, queued before the call, still runs").isNotDone();
        releaseB.countDown();
        assertThat(sawBoth.get(LONG, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void itemsQueuedAfterTheCallDoNotDelayIt() throws Exception {
        WorkQueue q = t.queue("later").unbound().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        q.queue(blocking("before", started, release, done));
        WorkQueueCoreTest.await(started);
        CompletableFuture<Void> f = q.flushAsync();

        CountDownLatch laterStarted = new CountDownLatch(1);
        CountDownLatch laterRelease = new CountDownLatch(1);
        q.queue(blocking("after", laterStarted, laterRelease, new AtomicBoolean()));
        WorkQueueCoreTest.await(laterStarted);
        release.countDown();
        f.get(LONG, TimeUnit.SECONDS);
        assertThat(done).isTrue();
        laterRelease.countDown();
    }

    @Test
    void everyWaiterCompletesAfterTheItemsQueuedBeforeIt() throws Exception {
        WorkQueue q = t.queue("many").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        q.queue(blocking("gate", started, release, done));
        WorkQueueCoreTest.await(started);
        List<CompletableFuture<Boolean>> waiters = new ArrayList<>();
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread th = new Thread(() -> {
                CompletableFuture<Boolean> w = q.flushAsync().thenApply(v -> done.get());
                synchronized (waiters) {
                    waiters.add(w);
                }
            });
            callers.add(th);
            th.start();
        }
        for (Thread th : callers) {
            th.join();
        }
        assertThat(waiters).hasSize(8).noneMatch(CompletableFuture::isDone);
        release.countDown();
        for (CompletableFuture<Boolean> w : waiters) {
            assertThat(w.get(LONG, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aSyncFlushAndAsyncWaitersInterleaveWithoutLosingEither() throws Exception {
        WorkQueue q = t.queue("mixed").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        q.queue(blocking("gate", started, release, done));
        WorkQueueCoreTest.await(started);
        Thread flusher = TestRuntime.startAndAwaitParked("sync-flusher", q::flush); // holds the flush mutex
        CompletableFuture<Boolean> f = q.flushAsync().thenApply(v -> done.get());
        assertThat(f).isNotDone();
        release.countDown();
        flusher.join(TimeUnit.SECONDS.toMillis(LONG));
        assertThat(f.get(LONG, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aWaiterBehindAnAbandonedInterruptibleFlushCompletesWhenThatFlushDrains() throws Exception {
        WorkQueue q = t.queue("abandoned").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        q.queue(blocking("gate", started, release, done));
        WorkQueueCoreTest.await(started);
        AtomicBoolean gaveUp = new AtomicBoolean();
        Thread flusher = TestRuntime.startAndAwaitParked("gives-up", () -> {
            try {
                q.flushInterruptibly();
            } catch (InterruptedException expected) {
                gaveUp.set(true);
            }
        });
        flusher.interrupt();
        flusher.join(TimeUnit.SECONDS.toMillis(LONG));
        assertThat(gaveUp).isTrue(); // its colour still counts the gate

        CompletableFuture<Boolean> f = q.flushAsync().thenApply(v -> done.get());
        assertThat(f).isNotDone();
        release.countDown();
        assertThat(f.get(LONG, TimeUnit.SECONDS)).isTrue();
    }

    /**
     * The per-item flush contract under concurrent re-queueing: when a future completes, every
     * instance queued (queue() returned true) before its call has run.
     */
    @Test
    void neverCompletesEarlyUnderConcurrentRequeueing() throws Exception {
        WorkQueue q = t.queue("requeue").build();
        int items = 16;
        AtomicIntegerArray queued = new AtomicIntegerArray(items);
        AtomicIntegerArray ran = new AtomicIntegerArray(items);
        Work[] works = new Work[items];
        for (int i = 0; i < items; i++) {
            int k = i;
            works[i] = new Work("item" + i, () -> {
                Thread.onSpinWait();
                ran.incrementAndGet(k);
            });
        }
        AtomicBoolean stop = new AtomicBoolean();
        Thread producer = new Thread(() -> {
            for (int n = 0; !stop.get(); n++) {
                int k = n % items;
                if (q.queue(works[k])) {
                    queued.incrementAndGet(k);
                }
            }
        });
        producer.start();
        AtomicInteger violations = new AtomicInteger();
        List<CompletableFuture<Void>> checks = new ArrayList<>();
        try {
            for (int round = 0; round < 2000; round++) {
                int[] before = new int[items];
                for (int k = 0; k < items; k++) {
                    before[k] = queued.get(k);
                }
                checks.add(q.flushAsync().thenRun(() -> {
                    for (int k = 0; k < items; k++) {
                        if (ran.get(k) < before[k]) {
                            violations.incrementAndGet();
                        }
                    }
                }));
            }
        } finally {
            stop.set(true);
            producer.join();
        }
        CompletableFuture.allOf(checks.toArray(new CompletableFuture<?>[0])).get(LONG, TimeUnit.SECONDS);
        assertThat(violations).hasValue(0);
    }

    @Test
    void aDestroyedQueueCompletesAtOnce() {
        WorkQueue q = t.queue("gone").build();
        q.queue(new Work("last", () -> { }));
        q.destroy();
        assertThat(q.flushAsync()).isDone();
    }

    @Test
    void anItemMayAskForAFlushOfItsOwnQueue() throws Exception {
        WorkQueue q = t.queue("self").build();
        AtomicBoolean finished = new AtomicBoolean();
        CompletableFuture<CompletableFuture<Boolean>> inner = new CompletableFuture<>();
        q.queue(new Work("asker", () -> {
            inner.complete(q.flushAsync().thenApply(v -> finished.get()));
            assertThat(inner.join()).isNotDone();
            finished.set(true);
        }));
        assertThat(inner.get(LONG, TimeUnit.SECONDS).get(LONG, TimeUnit.SECONDS)).isTrue();
    }

    // ------------------------------------------------------------------------------ Work

    @Test
    void workFlushAsyncOfAnIdleItemIsFalseAtOnce() throws Exception {
        WorkQueue q = t.queue("w").build();
        Work w = new Work("idle", () -> { });
        assertThat(w.flushAsync().getNow(null)).isFalse();
        q.queue(w);
        q.flush();
        assertThat(w.flushAsync().getNow(null)).isFalse();
    }

    @Test
    void workFlushAsyncCompletesWhenTheRunningInstanceFinished() throws Exception {
        WorkQueue q = t.queue("w").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        Work w = blocking("running", started, release, done);
        q.queue(w);
        WorkQueueCoreTest.await(started);
        CompletableFuture<Boolean> f = w.flushAsync();
        CompletableFuture<Boolean> sawDone = f.thenApply(v -> v && done.get());
        assertThat(f).isNotDone();
        release.countDown();
        assertThat(sawDone.get(LONG, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void workFlushAsyncWaitsForThePendingInstanceNotJustTheRunningOne() throws Exception {
        WorkQueue q = t.queue("w").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("pending", runs::incrementAndGet);
        q.queue(w);
        CompletableFuture<Integer> f = w.flushAsync().thenApply(v -> runs.get());
        assertThat(f).isNotDone();
        release.countDown();
        assertThat(f.get(LONG, TimeUnit.SECONDS)).isEqualTo(1);
    }

    @Test
    void anItemMayAskForAFlushOfItself() throws Exception {
        WorkQueue q = t.queue("w").build();
        AtomicBoolean finished = new AtomicBoolean();
        CompletableFuture<Boolean> inner = new CompletableFuture<>();
        Work[] self = new Work[1];
        self[0] = new Work("self", () -> {
            self[0].flushAsync().thenApply(v -> v && finished.get()).thenAccept(inner::complete);
            finished.set(true);
        });
        q.queue(self[0]);
        assertThat(inner.get(LONG, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void delayedWorkFlushAsyncFiresAnArmedTimerAndCompletesAfterTheRun() throws Exception {
        WorkQueue q = t.queue("d").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("hourly", runs::incrementAndGet);
        q.queueDelayed(d, Duration.ofHours(1));
        CompletableFuture<Integer> f = d.flushAsync().thenApply(v -> v ? runs.get() : -1);
        assertThat(f.get(LONG, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(d.isPending()).isFalse();
        assertThat(d.flushAsync().getNow(null)).isFalse();
    }

    /**
     * The flush-as-lock annotation belongs to the wait: flushAsync, which does not wait, records
     * no dependency even where flush() is reported (holding a lock the queue's item takes).
     */
    @Test
    void flushAsyncRecordsNoFlushDependencyWhereFlushIsReported() throws Exception {
        List<org.workqueue4j.lockdep.LockdepReport> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        org.workqueue4j.lockdep.Lockdep lockdep = org.workqueue4j.lockdep.Lockdep.builder()
                .policy(org.workqueue4j.lockdep.ReportPolicy.WARN).quiet().listener(reports::add).build();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS).build())) {
            WorkQueue q = rt.queueBuilder("q").build();
            org.workqueue4j.lockdep.ValidatedLock m = new org.workqueue4j.lockdep.ValidatedLock("M",
                    new org.workqueue4j.lockdep.LockClassKey("M"), lockdep);
            Work w = new Work("takes-m", () -> {
                m.lock();
                m.unlock();
            });
            q.queue(w);
            q.flush(); // q -> M and w -> M recorded while it ran
            assertThat(reports).isEmpty();

            CompletableFuture<Void> qf;
            CompletableFuture<Boolean> wf;
            m.lock();
            try {
                q.queue(w);
                qf = q.flushAsync();
                wf = w.flushAsync();
            } finally {
                m.unlock();
            }
            qf.get(LONG, TimeUnit.SECONDS);
            wf.get(LONG, TimeUnit.SECONDS);
            assertThat(reports).as("flushAsync waits for nothing: no M -> q").isEmpty();

            m.lock();
            try {
                q.flush(); // the blocking flush under M is the reported pattern
            } finally {
                m.unlock();
            }
            assertThat(reports).hasSize(1);
        }
    }
}
