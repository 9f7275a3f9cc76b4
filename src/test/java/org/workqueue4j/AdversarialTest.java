package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Adversarial checks of the engine's documented guarantees (SPEC section 4, the README's faults
 * table): interrupts, Errors, lifecycle races, timed waits, flushAsync, executor views, the worker
 * cap. Every wait is bounded; no sleep is used as synchronisation.
 */
class AdversarialTest {
    private static final Duration LIMIT = Duration.ofSeconds(30);

    private static void await(CountDownLatch l) {
        try {
            if (!l.await(20, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not reached in 20 s");
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void awaitUninterruptibly(CountDownLatch l) {
        boolean interrupted = false;
        while (true) {
            try {
                if (!l.await(20, TimeUnit.SECONDS)) {
                    throw new AssertionError("latch not reached in 20 s");
                }
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread t) {
        try {
            t.join(20_000);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        assertThat(t.isAlive()).as("thread %s ended", t.getName()).isFalse();
    }

    /** Every listed thread ends soon (a permanent leak fails; the strict check is in a disabled test). */
    private static void awaitAllEnded(List<Thread> threads) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> threads.stream().noneMatch(Thread::isAlive));
    }

    private static boolean parked(Thread t) {
        Thread.State s = t.getState();
        return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.TERMINATED;
    }

    // ------------------------------------------------------------------------------ interrupts

    /** An item that leaves its interrupt set, on every queue kind: the next item starts clean. */
    @Test
    void interruptLeftSetByAnItemNeverReachesTheNextItem() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                List<WorkQueue> qs = List.of(t.queue("pcpu").build(), t.queue("unb").unbound().build(),
                        t.queue("ord").ordered().build(), t.queue("hi").highPriority().maxActive(1).build());
                AtomicInteger dirty = new AtomicInteger();
                AtomicInteger checked = new AtomicInteger();
                for (WorkQueue q : qs) {
                    for (int i = 0; i < 150; i++) {
                        q.queue(new Work("leaver", () -> Thread.currentThread().interrupt()));
                        if (i % 3 == 0) {
                            q.flush(); // let the worker go idle with the status set
                        }
                        q.queue(new Work("checker", () -> {
                            checked.incrementAndGet();
                            if (Thread.currentThread().isInterrupted()) {
                                dirty.incrementAndGet();
                            }
                        }));
                    }
                    q.flush();
                }
                assertThat(checked.get()).isEqualTo(600);
                assertThat(dirty.get()).as("items that started interrupted").isZero();
            }
        });
    }

    /** An interrupt aimed at an idle worker from outside is consumed before the next item. */
    @Test
    void externalInterruptOfAnIdleWorkerIsNotSeenByTheNextItem() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                AtomicInteger dirty = new AtomicInteger();
                for (int i = 0; i < 50; i++) {
                    AtomicReference<Thread> worker = new AtomicReference<>();
                    q.queueOn(0, new Work("who", () -> worker.set(Thread.currentThread())));
                    q.flush();
                    Thread w = worker.get();
                    w.interrupt();
                    Awaitility.await().atMost(Duration.ofSeconds(20))
                            .until(() -> !w.isInterrupted() && parked(w));
                    q.queueOn(0, new Work("checker", () -> {
                        if (Thread.currentThread().isInterrupted()) {
                            dirty.incrementAndGet();
                        }
                    }));
                    q.flush();
                }
                assertThat(dirty.get()).isZero();
            }
        });
    }

    /** cancelSync() (untimed) is truthful even when its caller is interrupted while it waits. */
    @Test
    void interruptedCancelSyncStillWaitsForTheRunningInstance() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                AtomicBoolean finished = new AtomicBoolean();
                Work w = new Work("blocker", () -> {
                    started.countDown();
                    awaitUninterruptibly(release);
                    finished.set(true);
                });
                q.queue(w);
                await(started);
                AtomicBoolean finishedSeenOnReturn = new AtomicBoolean();
                AtomicBoolean interruptKept = new AtomicBoolean();
                Thread c = new Thread(() -> {
                    Thread.currentThread().interrupt(); // interrupted before and during the wait
                    w.cancelSync();
                    finishedSeenOnReturn.set(finished.get());
                    interruptKept.set(Thread.currentThread().isInterrupted());
                });
                c.start();
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> parked(c));
                c.interrupt();
                release.countDown();
                join(c);
                assertThat(finishedSeenOnReturn.get()).as("cancelSync returned only after the run").isTrue();
                assertThat(interruptKept.get()).isTrue();
                assertThat(w.busy()).isZero();
            }
        });
    }

    /** FutureTask.cancel(true) through the executor view races the task's end: never leaks. */
    @Test
    void cancelTrueRacingTheEndOfATaskNeverInterruptsTheNextTask() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("ord").ordered().build();
                ExecutorService es = q.asExecutorService();
                AtomicInteger dirty = new AtomicInteger();
                for (int i = 0; i < 2000; i++) {
                    Future<?> a = es.submit(() -> {
                        for (int k = 0; k < 200; k++) {
                            Thread.onSpinWait();
                        }
                    });
                    Future<?> b = es.submit(() -> {
                        if (Thread.currentThread().isInterrupted()) {
                            dirty.incrementAndGet();
                        }
                    });
                    a.cancel(true);
                    b.get(20, TimeUnit.SECONDS);
                    // a FutureTask given to the queue's own execute(), cancelled likewise
                    FutureTask<Void> ft = new FutureTask<>(() -> {
                        for (int k = 0; k < 200; k++) {
                            Thread.onSpinWait();
                        }
                        return null;
                    });
                    q.execute(ft);
                    q.queue(new Work("checker", () -> {
                        if (Thread.currentThread().isInterrupted()) {
                            dirty.incrementAndGet();
                        }
                    }));
                    ft.cancel(true);
                }
                q.flush();
                assertThat(dirty.get()).isZero();
                es.shutdown();
                assertThat(es.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
            }
        });
    }

    /** close() interrupted while an item ignores interrupts: afterwards, everything ends. */
    @Test
    void interruptedCloseLeavesNoThreadRunningOnceTheStuckItemEnds() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(30)));
            WorkQueue q = t.queue("q").build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean behindRan = new AtomicBoolean();
            q.queue(new Work("stuck", () -> {
                started.countDown();
                awaitUninterruptibly(release);
            }));
            q.queue(new Work("behind", () -> behindRan.set(true)));
            await(started);
            Thread closer = new Thread(t::close);
            closer.start();
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> parked(closer));
            closer.interrupt();
            join(closer);
            assertThat(t.rt.isClosed()).isTrue();
            t.rt.close(); // returns at once
            release.countDown();
            Awaitility.await().atMost(Duration.ofSeconds(20)).untilTrue(behindRan);
            Awaitility.await().atMost(Duration.ofSeconds(25))
                    .until(() -> t.threads.stream().noneMatch(Thread::isAlive));
        });
    }

    // ---------------------------------------------------------------------------------- Errors

    private static int recurse(int n) {
        return recurse(n + 1) + 1;
    }

    /** Real StackOverflowError and OutOfMemoryError from items, and a handler that overflows. */
    @Test
    void errorsFromItemsAndFromTheHandlerLeaveTheEngineWorking() {
        assertTimeoutPreemptively(LIMIT, () -> {
            AtomicInteger handled = new AtomicInteger();
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                    .uncaughtWorkHandler((q, w, e) -> {
                        handled.incrementAndGet();
                        if (e instanceof StackOverflowError) {
                            recurse(0); // the handler itself overflows
                        }
                        throw new OutOfMemoryError("handler");
                    }).build());
            try {
                WorkQueue q = rt.queueBuilder("q").build();
                WorkQueue ord = rt.queueBuilder("ord").ordered().build();
                AtomicInteger ok = new AtomicInteger();
                Work so = new Work("so", () -> recurse(0));
                Work oom = new Work("oom", () -> {
                    throw new OutOfMemoryError("item");
                });
                for (int i = 0; i < 20; i++) {
                    for (WorkQueue x : List.of(q, ord)) {
                        x.queue(so);
                        x.queue(oom);
                        x.queue(new Work("ok", ok::incrementAndGet));
                        x.flush();
                        assertThat(so.isPending()).isFalse();
                        assertThat(oom.isPending()).isFalse();
                        assertThat(so.flush()).isFalse();
                    }
                }
                assertThat(ok.get()).isEqualTo(40);
                assertThat(handled.get()).isEqualTo(80);
                assertThat(so.cancelSync()).isFalse();
            } finally {
                rt.close();
            }
            assertThat(rt.isClosed()).isTrue();
        });
    }

    /** A ThreadFactory that throws StackOverflowError and a report listener that throws too. */
    @Test
    void failingFactoryAndThrowingListenerStillLetEveryItemRun() {
        assertTimeoutPreemptively(LIMIT, () -> {
            AtomicInteger failuresLeft = new AtomicInteger();
            AtomicInteger reports = new AtomicInteger();
            List<Thread> threads = new CopyOnWriteArrayList<>();
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                    .reportListener(s -> {
                        reports.incrementAndGet();
                        throw new StackOverflowError("listener");
                    })
                    .threadFactory(r -> {
                        if (failuresLeft.getAndDecrement() > 0) {
                            throw new StackOverflowError("factory");
                        }
                        Thread th = new Thread(r);
                        th.setDaemon(true);
                        threads.add(th);
                        return th;
                    }).build());
            try {
                WorkQueue q = rt.queueBuilder("q").unbound().build();
                // occupy the existing workers so that new ones are needed
                CountDownLatch release = new CountDownLatch(1);
                int blockers = 6;
                CountDownLatch started = new CountDownLatch(blockers);
                failuresLeft.set(3);
                for (int i = 0; i < blockers; i++) {
                    q.queue(new Work("block-" + i, () -> {
                        started.countDown();
                        awaitUninterruptibly(release);
                    }));
                }
                await(started);
                release.countDown();
                q.flush();
                AtomicInteger ran = new AtomicInteger();
                for (int i = 0; i < 50; i++) {
                    q.queue(new Work("after-" + i, ran::incrementAndGet));
                }
                q.flush();
                assertThat(ran.get()).isEqualTo(50);
            } finally {
                rt.close();
            }
            awaitAllEnded(threads); // strict "ended when close() returns": see concurrentClosesAllReturnOnlyWhenEveryThreadHasEnded
        });
    }

    /** A ThreadFactory may return null ("request rejected", its contract): items run later. */
    @Test
    void threadFactoryReturningNullIsSurvived() {
        assertTimeoutPreemptively(LIMIT, () -> {
            AtomicInteger nullsLeft = new AtomicInteger();
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                    .threadFactory(r -> {
                        if (nullsLeft.getAndDecrement() > 0) {
                            return null;
                        }
                        Thread th = new Thread(r);
                        th.setDaemon(true);
                        return th;
                    }).build());
            try {
                WorkQueue q = rt.queueBuilder("q").unbound().build();
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch started = new CountDownLatch(4);
                nullsLeft.set(2);
                for (int i = 0; i < 4; i++) {
                    q.queue(new Work("block-" + i, () -> {
                        started.countDown();
                        awaitUninterruptibly(release);
                    }));
                }
                await(started);
                release.countDown();
                q.flush();
            } finally {
                rt.close();
            }
        });
    }

    /** A task whose toString throws an Error, through both execute paths: nothing stays registered. */
    @Test
    void taskWhoseToStringThrowsLeavesTheExecutorTerminable() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                ExecutorService es = q.asExecutorService();
                AtomicInteger ran = new AtomicInteger();
                class Evil implements Runnable {
                    @Override
                    public void run() {
                        ran.incrementAndGet();
                    }

                    @Override
                    public String toString() {
                        throw new StackOverflowError("toString");
                    }
                }
                for (int i = 0; i < 3; i++) {
                    try {
                        es.execute(new Evil());
                    } catch (StackOverflowError expected) {
                        // refused before anything was registered is fine
                    }
                    try {
                        es.submit(new Evil());
                    } catch (StackOverflowError expected) {
                        // same
                    }
                    try {
                        q.execute(new Evil());
                    } catch (StackOverflowError expected) {
                        // same
                    }
                }
                q.flush();
                es.shutdown();
                assertThat(es.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
                // a Work subclass whose toString throws
                Work w = new Work("evil-work", ran::incrementAndGet) {
                    @Override
                    public String toString() {
                        throw new StackOverflowError("work toString");
                    }
                };
                q.queue(w);
                q.flush();
                String dump = t.rt.dump();
                assertThat(dump).isNotNull();
                q.destroy();
                assertThatThrownBy(() -> q.queue(w)).isInstanceOf(IllegalStateException.class);
                assertThat(w.isPending()).isFalse();
            }
        });
    }

    // ------------------------------------------------------------------------------- lifecycle

    /** Several threads close() at once while an item runs: none returns before the runtime is closed. */
    @Test
    void concurrentClosesAllReturnOnlyWhenEveryThreadHasEnded() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int round = 0; round < 20; round++) {
                TestRuntime t = new TestRuntime();
                WorkQueue q = t.queue("q").build();
                WorkQueue u = t.queue("u").unbound().memReclaim().build();
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                AtomicInteger ran = new AtomicInteger();
                q.queue(new Work("run", () -> {
                    started.countDown();
                    awaitUninterruptibly(release);
                }));
                for (int i = 0; i < 40; i++) {
                    u.queue(new Work("u" + i, ran::incrementAndGet));
                    q.queue(new Work("q" + i, ran::incrementAndGet));
                }
                await(started);
                List<Thread> closers = new ArrayList<>();
                ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
                for (int i = 0; i < 4; i++) {
                    Thread c = new Thread(() -> {
                        t.rt.close();
                        if (ran.get() != 80) {
                            violations.add("returned with " + ran.get() + " of 80 items run");
                        }
                        for (Thread th : t.threads) {
                            if (th.isAlive()) {
                                violations.add("returned with " + th.getName() + " alive");
                            }
                        }
                    }, "closer-" + i);
                    closers.add(c);
                    c.start();
                }
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> closers.stream().allMatch(AdversarialTest::parked));
                assertThat(closers).allMatch(Thread::isAlive);
                release.countDown();
                closers.forEach(AdversarialTest::join);
                assertThat(violations).isEmpty();
            }
        });
    }

    /** close() from an item and from a flushAsync continuation on a worker: refused, nothing changed. */
    @Test
    void closeFromAnItemOrAContinuationIsRefusedAndTheRuntimeStillCloses() {
        assertTimeoutPreemptively(LIMIT, () -> {
            TestRuntime t = new TestRuntime();
            WorkQueue q = t.queue("q").build();
            AtomicReference<Throwable> fromItem = new AtomicReference<>();
            q.queue(new Work("closer", () -> {
                try {
                    t.rt.close();
                } catch (Throwable e) {
                    fromItem.set(e);
                }
            }));
            q.flush();
            assertThat(fromItem.get()).isInstanceOf(IllegalStateException.class);
            assertThat(t.rt.isClosed()).isFalse();
            CountDownLatch release = new CountDownLatch(1);
            q.queue(new Work("gate", () -> await(release)));
            CompletableFuture<Void> f = q.flushAsync();
            AtomicReference<Throwable> fromCont = new AtomicReference<>();
            CompletableFuture<Void> g = f.thenRun(() -> {
                try {
                    t.rt.close();
                } catch (Throwable e) {
                    fromCont.set(e);
                }
            });
            release.countDown();
            g.get(20, TimeUnit.SECONDS);
            assertThat(fromCont.get()).isInstanceOf(IllegalStateException.class);
            assertThat(t.rt.isClosed()).isFalse();
            AtomicBoolean later = new AtomicBoolean();
            q.queue(new Work("later", () -> later.set(true)));
            t.rt.close();
            assertThat(later).isTrue();
            awaitAllEnded(t.threads); // strict "ended when close() returns": see concurrentClosesAllReturnOnlyWhenEveryThreadHasEnded
        });
    }

    /**
     * close() racing queue/flush/flushAsync/cancelSync/modDelayed from outside: every accepted,
     * uncancelled item has run, no future is left incomplete, nothing stays pending or armed.
     */
    @Test
    void closeRacingEveryOperationLosesNothing() {
        assertTimeoutPreemptively(Duration.ofSeconds(90), () -> {
            for (int round = 0; round < 6; round++) {
                TestRuntime t = new TestRuntime();
                WorkQueue q = t.queue("q").maxActive(2).build();
                WorkQueue u = t.queue("u").unbound().build();
                WorkQueue o = t.queue("o").ordered().build();
                List<WorkQueue> qs = List.of(q, u, o);
                record Entry(Work w, AtomicBoolean ran, AtomicBoolean cancelled) { }
                ConcurrentLinkedQueue<Entry> accepted = new ConcurrentLinkedQueue<>();
                ConcurrentLinkedQueue<CompletableFuture<?>> futures = new ConcurrentLinkedQueue<>();
                List<DelayedWork> delayed = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    delayed.add(new DelayedWork("d" + i, () -> { }));
                }
                AtomicBoolean stop = new AtomicBoolean();
                ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                CountDownLatch warm = new CountDownLatch(3);
                List<Thread> hammers = new ArrayList<>();
                for (int h = 0; h < 3; h++) {
                    Thread th = new Thread(() -> {
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        int n = 0;
                        while (!stop.get()) {
                            if (++n == 200) {
                                warm.countDown();
                            }
                            WorkQueue x = qs.get(r.nextInt(qs.size()));
                            try {
                                switch (r.nextInt(6)) {
                                    case 0, 1 -> {
                                        AtomicBoolean ran = new AtomicBoolean();
                                        Work w = new Work("w", () -> ran.set(true));
                                        if (x.queue(w)) {
                                            accepted.add(new Entry(w, ran, new AtomicBoolean()));
                                        }
                                    }
                                    case 2 -> futures.add(x.flushAsync());
                                    case 3 -> {
                                        Entry e = accepted.peek();
                                        if (e != null && e.w.cancelSync()) {
                                            e.cancelled.set(true);
                                        }
                                    }
                                    case 4 -> x.modDelayed(delayed.get(r.nextInt(4)), Duration.ofNanos(r.nextInt(100_000)));
                                    default -> x.flush(Duration.ofMillis(5));
                                }
                            } catch (IllegalStateException | RejectedExecutionException expected) {
                                // refused after close: fine
                            } catch (Throwable e) {
                                unexpected.add(e);
                            }
                        }
                    });
                    hammers.add(th);
                    th.start();
                }
                await(warm);
                t.rt.close();
                stop.set(true);
                hammers.forEach(AdversarialTest::join);
                assertThat(unexpected).isEmpty();
                for (Entry e : accepted) {
                    assertThat(e.ran.get() || e.cancelled.get()).as("accepted item ran or was cancelled").isTrue();
                    assertThat(e.w.isPending()).isFalse();
                }
                for (CompletableFuture<?> f : futures) {
                    f.get(20, TimeUnit.SECONDS);
                }
                for (DelayedWork d : delayed) {
                    assertThat(d.isPending()).as(d.name() + " pending after close").isFalse();
                    assertThat(d.isTimerArmed()).as(d.name() + " armed after close").isFalse();
                }
                awaitAllEnded(t.threads); // strict "ended when close() returns": see concurrentClosesAllReturnOnlyWhenEveryThreadHasEnded
            }
        });
    }

    /** destroy() racing flush/flushAsync/cancelSync/queue: everything returns, nothing stays pending. */
    @Test
    void destroyRacingFlushesAndCancelsReturnsEverything() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (TestRuntime t = new TestRuntime()) {
                for (int round = 0; round < 30; round++) {
                    WorkQueue q = t.queue("q" + round).maxActive(1 + round % 3).build();
                    Work shared = new Work("shared", () -> { });
                    DelayedWork dw = new DelayedWork("dw", () -> { });
                    CyclicBarrier go = new CyclicBarrier(5);
                    ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                    ConcurrentLinkedQueue<CompletableFuture<?>> futures = new ConcurrentLinkedQueue<>();
                    List<Runnable> ops = List.of(
                            () -> {
                                for (int i = 0; i < 200; i++) {
                                    q.queue(shared);
                                    q.queue(new Work("x", () -> { }));
                                }
                            },
                            () -> {
                                for (int i = 0; i < 50; i++) {
                                    q.flush();
                                    futures.add(q.flushAsync());
                                    futures.add(shared.flushAsync());
                                }
                            },
                            () -> {
                                for (int i = 0; i < 100; i++) {
                                    shared.cancelSync();
                                    q.modDelayed(dw, Duration.ofNanos(i * 1000L));
                                }
                            },
                            () -> {
                                for (int i = 0; i < 50; i++) {
                                    dw.flush();
                                    shared.flush();
                                }
                            });
                    List<Thread> ths = new ArrayList<>();
                    for (Runnable op : ops) {
                        Thread th = new Thread(() -> {
                            try {
                                go.await();
                                op.run();
                            } catch (IllegalStateException expected) {
                                // destroyed
                            } catch (Throwable e) {
                                unexpected.add(e);
                            }
                        });
                        ths.add(th);
                        th.start();
                    }
                    go.await(20, TimeUnit.SECONDS);
                    q.destroy();
                    ths.forEach(AdversarialTest::join);
                    assertThat(unexpected).isEmpty();
                    for (CompletableFuture<?> f : futures) {
                        f.get(20, TimeUnit.SECONDS);
                    }
                    assertThat(shared.isPending()).isFalse();
                    assertThat(dw.isPending()).isFalse();
                    assertThat(dw.isTimerArmed()).isFalse();
                    assertThat(shared.flush()).isFalse();
                }
            }
        });
    }

    /** freeze/thaw/setMaxActive hammered while producers queue and flush: thawed, everything runs. */
    @Test
    void freezeThawSetMaxActiveRacingProducersLoseNothing() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue fq = t.queue("fq").freezable().maxActive(3).build();
                WorkQueue uq = t.queue("uq").freezable().unbound().build();
                AtomicInteger ran = new AtomicInteger();
                AtomicInteger accepted = new AtomicInteger();
                AtomicBoolean stop = new AtomicBoolean();
                ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                Thread producer = new Thread(() -> {
                    try {
                        for (int i = 0; i < 3000; i++) {
                            WorkQueue x = (i & 1) == 0 ? fq : uq;
                            if (x.queue(new Work("p", ran::incrementAndGet))) {
                                accepted.incrementAndGet();
                            }
                            if (i % 97 == 0) {
                                x.flush(Duration.ofMillis(1));
                            }
                        }
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                });
                Thread freezer = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            t.rt.freeze();
                            t.rt.thaw();
                        }
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                });
                Thread tuner = new Thread(() -> {
                    try {
                        int n = 0;
                        while (!stop.get()) {
                            fq.setMaxActive(n++ % 4); // 0 clamps to 1
                            uq.setMaxActive(1 + n % 5);
                        }
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                });
                // items that tune and freeze from inside (of a non-freezable queue)
                WorkQueue plain = t.queue("plain").build();
                Thread insider = new Thread(() -> {
                    try {
                        for (int i = 0; i < 100 && !stop.get(); i++) {
                            plain.queue(new Work("tune", () -> fq.setMaxActive(2)));
                            plain.flush();
                        }
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                });
                producer.start();
                freezer.start();
                tuner.start();
                insider.start();
                join(producer);
                stop.set(true);
                join(freezer);
                join(tuner);
                join(insider);
                if (t.rt.isFrozen()) {
                    t.rt.thaw();
                }
                assertThat(t.rt.isFrozen()).isFalse();
                fq.setMaxActive(3);
                assertThat(fq.flush(Duration.ofSeconds(20))).isTrue();
                assertThat(uq.flush(Duration.ofSeconds(20))).isTrue();
                assertThat(unexpected).isEmpty();
                assertThat(ran.get()).isEqualTo(accepted.get());
            }
        });
    }

    /**
     * close() on a frozen runtime with an accepted freezable item held: close() sits out the
     * whole closeTimeout, then returns with the item never run and still pending.
     */
    @Test
    void closeOfAFrozenRuntimeRunsOrAccountsForTheHeldItem() {
        assertTimeoutPreemptively(LIMIT, () -> {
            TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(3)));
            WorkQueue fq = t.queue("fq").freezable().build();
            t.rt.freeze();
            AtomicBoolean ran = new AtomicBoolean();
            Work held = new Work("held", () -> ran.set(true));
            assertThat(fq.queue(held)).isTrue();
            long t0 = System.nanoTime();
            t.rt.close();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("frozen close: " + ms + " ms, ran=" + ran.get() + ", pending=" + held.isPending()
                    + ", reports=" + t.reports);
            assertThat(ran).as("an accepted item is not lost by close() (close took " + ms + " ms, pending="
                    + held.isPending() + ")").isTrue();
            assertThat(held.isPending()).isFalse();
        });
    }

    /** One item, two runtimes: refused while it runs on one, usable on the other once idle. */
    @Test
    void oneItemTwoRuntimesSurvivesTheFirstRuntimesClose() {
        assertTimeoutPreemptively(LIMIT, () -> {
            TestRuntime t1 = new TestRuntime();
            try (TestRuntime t2 = new TestRuntime()) {
                WorkQueue q1 = t1.queue("q1").build();
                WorkQueue q2 = t2.queue("q2").build();
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                AtomicInteger runs = new AtomicInteger();
                AtomicBoolean first = new AtomicBoolean(true);
                Work w = new Work("shared", () -> {
                    runs.incrementAndGet();
                    if (first.getAndSet(false)) {
                        started.countDown();
                        await(release);
                    }
                });
                q1.queue(w);
                await(started);
                assertThatThrownBy(() -> q2.queue(w)).isInstanceOf(IllegalStateException.class);
                assertThat(q1.queue(w)).isTrue(); // pending again on q1 while running there
                DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
                q1.queueDelayed(d, Duration.ofHours(1));
                Thread closer = new Thread(t1::close);
                closer.start();
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> parked(closer));
                release.countDown();
                join(closer);
                assertThat(runs.get()).isEqualTo(2);
                assertThat(w.busy()).isZero();
                assertThat(d.isPending()).isFalse();
                assertThat(d.isTimerArmed()).isFalse();
                assertThat(q2.queue(w)).isTrue();
                assertThat(q2.queueDelayed(d, Duration.ZERO)).isTrue();
                q2.flush();
                assertThat(runs.get()).isEqualTo(4);
                awaitAllEnded(t1.threads); // strict "ended when close() returns": see concurrentClosesAllReturnOnlyWhenEveryThreadHasEnded
            }
        });
    }

    // ----------------------------------------------------------------------------- timed waits

    /** Zero, negative, minimal and huge durations on every timed wait. */
    @Test
    void timedWaitsWithZeroNegativeAndHugeDurations() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                Duration huge = Duration.ofSeconds(Long.MAX_VALUE, 999_999_999);
                Duration hugeNeg = Duration.ofSeconds(Long.MIN_VALUE);
                // idle queue: the condition already holds
                for (Duration d : List.of(Duration.ZERO, Duration.ofNanos(-1), hugeNeg, huge)) {
                    assertThat(q.flush(d)).as("idle flush(%s)", d).isTrue();
                    assertThat(q.drain(d)).as("idle drain(%s)", d).isTrue();
                }
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                Work w = new Work("blocker", () -> {
                    started.countDown();
                    await(release);
                });
                q.queue(w);
                await(started);
                for (Duration d : List.of(Duration.ZERO, Duration.ofNanos(-1), hugeNeg, Duration.ofNanos(1))) {
                    assertThat(q.flush(d)).as("busy flush(%s)", d).isFalse();
                    assertThat(w.flush(d)).as("busy work flush(%s)", d).isFalse();
                    assertThat(w.cancelSync(d)).as("busy cancelSync(%s)", d).isFalse();
                    assertThat(q.drain(d)).as("busy drain(%s)", d).isFalse();
                    // a timed-out drain ends the draining state: outside callers queue again
                    Work x = new Work("x", () -> { });
                    assertThat(q.queue(x)).isTrue();
                    assertThat(x.cancel()).isTrue();
                }
                AtomicReference<Object> result = new AtomicReference<>();
                Thread waiter = new Thread(() -> {
                    try {
                        result.set(List.of(q.flush(huge), w.flush(huge), w.cancelSync(huge), q.drain(huge)));
                    } catch (Throwable e) {
                        result.set(e);
                    }
                });
                waiter.start();
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> parked(waiter));
                release.countDown();
                join(waiter);
                // Work.flush(Duration)/cancelSync(Duration) return true for an idle item (documented)
                assertThat(result.get()).isEqualTo(List.of(true, true, true, true));
                // a pending (not running) item: cancelSync(ZERO) cancels it
                CountDownLatch r2 = new CountDownLatch(1);
                WorkQueue o = t.queue("o").ordered().build();
                TestRuntime.blockOrdered(o, r2);
                Work p = new Work("p", () -> { });
                o.queue(p);
                assertThat(p.cancelSync(Duration.ZERO)).isTrue();
                assertThat(p.isPending()).isFalse();
                r2.countDown();
                assertThat(o.flush(huge)).isTrue();
            }
        });
    }

    /** A caller interrupted before a timed wait on a busy queue: InterruptedException, nothing changed. */
    @Test
    void timedWaitsOfAnInterruptedCallerThrowAndChangeNothing() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                Work w = new Work("blocker", () -> {
                    started.countDown();
                    await(release);
                });
                q.queue(w);
                await(started);
                Work p = new Work("p", () -> { });
                Thread.currentThread().interrupt();
                assertThatThrownBy(() -> q.drain(Duration.ofSeconds(5))).isInstanceOf(InterruptedException.class);
                assertThat(Thread.interrupted()).isFalse();
                assertThat(q.queue(p)).as("drain given up: outside queue accepted").isTrue();
                Thread.currentThread().interrupt();
                assertThatThrownBy(() -> w.cancelSync(Duration.ofSeconds(5))).isInstanceOf(InterruptedException.class);
                Thread.interrupted();
                release.countDown();
                q.flush();
                assertThat(p.isPending()).isFalse();
                assertThat(w.busy()).isZero();
            }
        });
    }

    // ------------------------------------------------------------------------------ flushAsync

    /** flushAsync never completes before every item queued before it has finished. */
    @Test
    void flushAsyncNeverCompletesEarly() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (TestRuntime t = new TestRuntime()) {
                List<WorkQueue> qs = List.of(t.queue("pc").maxActive(3).build(), t.queue("un").unbound().build(),
                        t.queue("or").ordered().build());
                ConcurrentLinkedQueue<String> early = new ConcurrentLinkedQueue<>();
                List<CompletableFuture<?>> all = new CopyOnWriteArrayList<>();
                List<Thread> producers = new ArrayList<>();
                for (int p = 0; p < 3; p++) {
                    WorkQueue q = qs.get(p);
                    for (int s = 0; s < 2; s++) {
                        int n = 2000;
                        AtomicBoolean[] done = new AtomicBoolean[n];
                        for (int i = 0; i < n; i++) {
                            done[i] = new AtomicBoolean();
                        }
                        Thread th = new Thread(() -> {
                            ThreadLocalRandom r = ThreadLocalRandom.current();
                            for (int i = 0; i < n; i++) {
                                int k = i;
                                q.queue(new Work("i" + k, () -> {
                                    if (r.nextInt(50) == 0) {
                                        Thread.yield();
                                    }
                                    done[k].set(true);
                                }));
                                if (r.nextInt(20) == 0) {
                                    int upTo = i;
                                    all.add(q.flushAsync().thenRun(() -> {
                                        for (int j = 0; j <= upTo; j++) {
                                            if (!done[j].get()) {
                                                early.add(q.name() + ": item " + j + " of " + upTo);
                                                return;
                                            }
                                        }
                                    }));
                                }
                            }
                        });
                        producers.add(th);
                        th.start();
                    }
                }
                producers.forEach(AdversarialTest::join);
                for (CompletableFuture<?> f : all) {
                    f.get(20, TimeUnit.SECONDS);
                }
                assertThat(early).isEmpty();
            }
        });
    }

    /** flushAsync on a frozen queue waits for the thaw; on a destroyed one it completes. */
    @Test
    void flushAsyncOnAFrozenQueueWaitsForTheThaw() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue fq = t.queue("fq").freezable().build();
                t.rt.freeze();
                AtomicBoolean ran = new AtomicBoolean();
                Work w = new Work("held", () -> ran.set(true));
                fq.queue(w);
                CompletableFuture<Void> f = fq.flushAsync();
                CompletableFuture<Boolean> g = w.flushAsync();
                assertThat(fq.flush(Duration.ofMillis(50))).isFalse();
                assertThat(f).isNotDone();
                assertThat(g).isNotDone();
                t.rt.thaw();
                f.get(20, TimeUnit.SECONDS);
                assertThat(g.get(20, TimeUnit.SECONDS)).isTrue();
                assertThat(ran).isTrue();
                // an armed DelayedWork: its flushAsync fires the timer and completes after the run
                AtomicBoolean dran = new AtomicBoolean();
                DelayedWork d = new DelayedWork("d", () -> dran.set(true));
                fq.queueDelayed(d, Duration.ofHours(1));
                assertThat(d.flushAsync().get(20, TimeUnit.SECONDS)).isTrue();
                assertThat(dran).isTrue();
                // destroy while a flushAsync waits behind a blocked item
                CountDownLatch release = new CountDownLatch(1);
                fq.queue(new Work("gate", () -> await(release)));
                CompletableFuture<Void> h = fq.flushAsync();
                Thread destroyer = new Thread(fq::destroy);
                destroyer.start();
                release.countDown();
                h.get(20, TimeUnit.SECONDS);
                join(destroyer);
                assertThat(fq.flushAsync()).isDone();
            }
        });
    }

    // ---------------------------------------------------------------------------- executor views

    /** shutdownNow at a random moment: returned + started == accepted, and nothing starts afterwards. */
    @Test
    void shutdownNowRacesKeepTheLedgerExact() {
        assertTimeoutPreemptively(Duration.ofSeconds(90), () -> {
            try (TestRuntime t = new TestRuntime()) {
                for (int round = 0; round < 60; round++) {
                    WorkQueue q = round % 3 == 0 ? t.queue("u" + round).unbound().build()
                            : round % 3 == 1 ? t.queue("p" + round).maxActive(2).build()
                            : t.queue("o" + round).ordered().build();
                    ExecutorService es = q.asExecutorService();
                    AtomicInteger started = new AtomicInteger();
                    AtomicInteger accepted = new AtomicInteger();
                    AtomicInteger leakedInterrupt = new AtomicInteger();
                    CountDownLatch some = new CountDownLatch(5);
                    Thread submitter = new Thread(() -> {
                        for (int i = 0; i < 60; i++) {
                            try {
                                Runnable r = () -> {
                                    started.incrementAndGet();
                                    for (int k = 0; k < 500; k++) {
                                        Thread.onSpinWait();
                                    }
                                };
                                if ((i & 1) == 0) {
                                    es.execute(r);
                                } else {
                                    es.submit(r);
                                }
                                accepted.incrementAndGet();
                                some.countDown();
                            } catch (RejectedExecutionException e) {
                                return;
                            }
                        }
                    });
                    submitter.start();
                    await(some);
                    List<Runnable> never = es.shutdownNow();
                    join(submitter);
                    int startedAtReturn = started.get();
                    assertThat(es.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
                    q.flush();
                    q.queue(new Work("after", () -> {
                        if (Thread.currentThread().isInterrupted()) {
                            leakedInterrupt.incrementAndGet();
                        }
                    }));
                    q.flush();
                    assertThat(never.size() + started.get()).as("returned + started == accepted, round " + round)
                            .isEqualTo(accepted.get());
                    assertThat(started.get()).as("none started after shutdownNow returned").isLessThanOrEqualTo(
                            startedAtReturn + 2); // at most the ones running then (max_active 2)
                    assertThat(leakedInterrupt.get()).isZero();
                    for (Runnable r : never) {
                        if (r instanceof Future<?> f) {
                            assertThat(f.isCancelled()).as("returned futures are not cancelled").isFalse();
                        }
                    }
                    q.destroy();
                }
            }
        });
    }

    /** A periodic task cancels its own future from inside itself: it runs no more. */
    @Test
    void periodicTaskCancellingItselfFromInsideStops() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                for (boolean mayInterrupt : new boolean[] {false, true}) {
                    for (boolean fixedRate : new boolean[] {false, true}) {
                        ScheduledExecutorService ses = q.asScheduledExecutorService();
                        AtomicReference<ScheduledFuture<?>> self = new AtomicReference<>();
                        AtomicInteger runs = new AtomicInteger();
                        AtomicInteger runsAtCancel = new AtomicInteger(-1);
                        CountDownLatch cancelled = new CountDownLatch(1);
                        AtomicBoolean cancelResult = new AtomicBoolean();
                        Runnable task = () -> {
                            int n = runs.incrementAndGet();
                            ScheduledFuture<?> f = self.get();
                            if (n >= 3 && f != null && runsAtCancel.get() < 0) {
                                runsAtCancel.set(n);
                                cancelResult.set(f.cancel(mayInterrupt));
                                cancelled.countDown();
                            }
                        };
                        self.set(fixedRate ? ses.scheduleAtFixedRate(task, 0, 1, TimeUnit.MILLISECONDS)
                                : ses.scheduleWithFixedDelay(task, 0, 1, TimeUnit.MILLISECONDS));
                        await(cancelled);
                        assertThat(cancelResult).isTrue();
                        assertThat(self.get().isCancelled()).isTrue();
                        ses.shutdown();
                        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
                        q.flush();
                        assertThat(runs.get()).isEqualTo(runsAtCancel.get());
                        AtomicBoolean dirty = new AtomicBoolean();
                        q.queue(new Work("after", () -> dirty.set(Thread.currentThread().isInterrupted())));
                        q.flush();
                        assertThat(dirty).isFalse();
                    }
                }
            }
        });
    }

    /** A periodic task calls shutdownNow()/shutdown() on its own view from inside itself. */
    @Test
    void periodicTaskShuttingDownItsOwnViewFromInside() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                for (boolean now : new boolean[] {true, false}) {
                    ScheduledExecutorService ses = q.asScheduledExecutorService();
                    AtomicInteger runs = new AtomicInteger();
                    AtomicReference<Object> got = new AtomicReference<>();
                    CountDownLatch done = new CountDownLatch(1);
                    ScheduledFuture<?> other = ses.schedule(() -> { }, 1, TimeUnit.HOURS);
                    ses.scheduleAtFixedRate(() -> {
                        if (runs.incrementAndGet() == 2) {
                            got.set(now ? ses.shutdownNow() : "shutdown");
                            if (!now) {
                                ses.shutdown();
                            }
                            done.countDown();
                        }
                    }, 0, 1, TimeUnit.MILLISECONDS);
                    await(done);
                    if (now) {
                        assertThat(((List<?>) got.get()).contains(other)).isTrue();
                        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
                    } else {
                        other.cancel(false); // a delayed one-shot still waits for its time after shutdown
                        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
                    }
                    q.flush();
                    int r = runs.get();
                    q.flush();
                    assertThat(runs.get()).isEqualTo(r).isEqualTo(2);
                }
            }
        });
    }

    // ------------------------------------------------------------------------------ worker cap

    /** Every worker blocked outside the library at the cap: a memReclaim queue still progresses. */
    @Test
    void memReclaimQueueProgressesWithEveryCappedWorkerBlocked() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(4))) {
                WorkQueue u = t.queue("u").unbound().build();
                WorkQueue p = t.queue("p").build();
                WorkQueue mr = t.queue("mr").memReclaim().build();
                WorkQueue mru = t.queue("mru").unbound().memReclaim().build();
                CountDownLatch release = new CountDownLatch(1);
                for (int i = 0; i < 10; i++) {
                    u.queue(new Work("ub" + i, () -> awaitUninterruptibly(release)));
                    p.queue(new Work("pb" + i, () -> awaitUninterruptibly(release)));
                }
                CountDownLatch progressed = new CountDownLatch(20);
                for (int i = 0; i < 10; i++) {
                    mr.queue(new Work("m" + i, progressed::countDown));
                    mru.queue(new Work("mu" + i, progressed::countDown));
                }
                boolean ok = progressed.await(20, TimeUnit.SECONDS);
                long alive = t.threads.stream().filter(Thread::isAlive).count();
                release.countDown();
                assertThat(ok).as("memReclaim items ran at the cap").isTrue();
                // workers + timer, monitor, manager + 2 rescuers
                assertThat(alive).isLessThanOrEqualTo(4 + 3 + 2);
                u.flush();
                p.flush();
            }
        });
    }

    /** Blocking items at the cap: flush from items of another queue (a rescuer must not be needed). */
    @Test
    void capSaturatedByItemsFlushingAMemReclaimQueueStillCompletes() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(3))) {
                WorkQueue mr = t.queue("mr").memReclaim().unbound().build();
                WorkQueue u = t.queue("u").unbound().build();
                AtomicInteger ran = new AtomicInteger();
                AtomicInteger flushed = new AtomicInteger();
                for (int i = 0; i < 8; i++) {
                    u.queue(new Work("f" + i, () -> {
                        mr.queue(new Work("m", ran::incrementAndGet));
                        mr.flush();
                        flushed.incrementAndGet();
                    }));
                }
                assertThat(u.flush(Duration.ofSeconds(20))).as("flushers finished").isTrue();
                assertThat(flushed.get()).isEqualTo(8);
                assertThat(ran.get()).isEqualTo(8);
            }
        });
    }

    // ------------------------------------------------------------------------------ misc races

    /** setMaxActive from items and outside while queue/flush run, with the limit shrinking to 1. */
    @Test
    void setMaxActiveShrinkingUnderLoadNeverStrandsItems() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").maxActive(8).build();
                WorkQueue ctl = t.queue("ctl").build();
                AtomicInteger ran = new AtomicInteger();
                for (int round = 0; round < 200; round++) {
                    int r = round;
                    for (int i = 0; i < 20; i++) {
                        q.queue(new Work("i", ran::incrementAndGet));
                    }
                    ctl.queue(new Work("tune", () -> q.setMaxActive(1 + r % 9)));
                    q.setMaxActive(r % 3);
                    if (r % 2 == 0) {
                        q.queue(new Work("self", () -> q.setMaxActive(0)));
                    }
                }
                ctl.flush();
                q.setMaxActive(4);
                assertThat(q.flush(Duration.ofSeconds(20))).isTrue();
                assertThat(ran.get()).isEqualTo(4000);
            }
        });
    }

    /** cancelSync racing close(): both return; the item ends neither pending nor running. */
    @Test
    void cancelSyncRacingCloseIsTruthful() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int round = 0; round < 20; round++) {
                TestRuntime t = new TestRuntime();
                WorkQueue o = t.queue("o").ordered().build();
                CountDownLatch release = new CountDownLatch(1);
                TestRuntime.blockOrdered(o, release);
                AtomicInteger running = new AtomicInteger();
                AtomicInteger overlap = new AtomicInteger();
                Work w = new Work("w", () -> {
                    if (running.incrementAndGet() > 1) {
                        overlap.incrementAndGet();
                    }
                    running.decrementAndGet();
                });
                o.queue(w);
                AtomicReference<String> bad = new AtomicReference<>();
                Thread canceller = new Thread(() -> {
                    w.cancelSync();
                    if (w.busy() != 0) {
                        bad.set("busy " + w.busy() + " after cancelSync");
                    }
                });
                Thread closer = new Thread(t::close);
                closer.start();
                canceller.start();
                release.countDown();
                join(closer);
                join(canceller);
                assertThat(bad.get()).isNull();
                assertThat(overlap.get()).isZero();
                assertThat(w.busy()).isZero();
                awaitAllEnded(t.threads); // strict "ended when close() returns": see concurrentClosesAllReturnOnlyWhenEveryThreadHasEnded
            }
        });
    }

    /** destroy() and timed drain of a frozen freezable queue: drain(Duration) gives up, destroy waits for the thaw. */
    @Test
    void destroyAndTimedDrainOfAFrozenQueue() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue fq = t.queue("fq").freezable().build();
                t.rt.freeze();
                AtomicInteger ran = new AtomicInteger();
                fq.queue(new Work("held", ran::incrementAndGet));
                assertThat(fq.drain(Duration.ofMillis(20))).isFalse();
                assertThat(fq.queue(new Work("again", ran::incrementAndGet))).as("drain given up").isTrue();
                Thread destroyer = new Thread(fq::destroy);
                destroyer.start();
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> parked(destroyer));
                assertThat(ran.get()).isZero();
                t.rt.thaw();
                join(destroyer);
                assertThat(ran.get()).isEqualTo(2);
                assertThat(fq.isDestroyed()).isTrue();
            }
        });
    }

    /** flushAsync from an item of its own queue, and Work.flushAsync of an item pending again while it runs. */
    @Test
    void flushAsyncFromOwnItemAndOfARequeuedRunningItem() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                AtomicBoolean itemDone = new AtomicBoolean();
                AtomicBoolean seenDoneAtCompletion = new AtomicBoolean();
                CompletableFuture<CompletableFuture<Void>> holder = new CompletableFuture<>();
                q.queue(new Work("self", () -> {
                    holder.complete(q.flushAsync().thenRun(() -> seenDoneAtCompletion.set(itemDone.get())));
                    itemDone.set(true);
                }));
                holder.get(20, TimeUnit.SECONDS).get(20, TimeUnit.SECONDS);
                assertThat(seenDoneAtCompletion).isTrue();
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                AtomicInteger runs = new AtomicInteger();
                Work w = new Work("w", () -> {
                    if (runs.incrementAndGet() == 1) {
                        started.countDown();
                        await(release);
                    }
                });
                q.queue(w);
                await(started);
                assertThat(q.queue(w)).isTrue();
                AtomicInteger runsAtCompletion = new AtomicInteger();
                CompletableFuture<Void> f = w.flushAsync().thenAccept(b -> runsAtCompletion.set(runs.get()));
                assertThat(f).isNotDone();
                release.countDown();
                f.get(20, TimeUnit.SECONDS);
                assertThat(runsAtCompletion.get()).as("completed after the pending instance ran").isEqualTo(2);
            }
        });
    }

    /**
     * Every runtime thread (workers mid-item, idle workers, timer, monitor, manager, rescuers) is
     * interrupted over and over while items and delayed items are queued and flushed: nothing
     * is lost, delayed items fire, flushes complete, close() ends every thread.
     */
    @Test
    void interruptStormOnEveryRuntimeThreadLosesNothing() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(6));
            WorkQueue q = t.queue("q").maxActive(3).build();
            WorkQueue u = t.queue("u").unbound().memReclaim().build();
            WorkQueue o = t.queue("o").ordered().build();
            List<WorkQueue> qs = List.of(q, u, o);
            AtomicBoolean stop = new AtomicBoolean();
            Thread interrupter = new Thread(() -> {
                while (!stop.get()) {
                    for (Thread th : t.threads) {
                        th.interrupt();
                    }
                    Thread.yield();
                }
            });
            interrupter.start();
            AtomicInteger ran = new AtomicInteger();
            int accepted = 0;
            List<DelayedWork> ds = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                WorkQueue x = qs.get(i % 3);
                if (i % 10 == 0) {
                    DelayedWork d = new DelayedWork("d" + i, ran::incrementAndGet);
                    ds.add(d);
                    if (x.queueDelayed(d, Duration.ofNanos(i * 300L))) {
                        accepted++;
                    }
                } else if (x.queue(new Work("w" + i, ran::incrementAndGet))) {
                    accepted++;
                }
                if (i % 500 == 0) {
                    x.flush();
                }
            }
            for (DelayedWork d : ds) {
                d.flush();
            }
            for (WorkQueue x : qs) {
                x.flush();
            }
            int acc = accepted;
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> ran.get() == acc);
            stop.set(true);
            join(interrupter);
            t.rt.close();
            assertThat(ran.get()).isEqualTo(accepted);
            awaitAllEnded(t.threads); // strict "ended when close() returns": see concurrentClosesAllReturnOnlyWhenEveryThreadHasEnded
        });
    }

    /** shutdownNow() of a scheduled view racing a periodic task's re-arm: it never runs afterwards. */
    @Test
    void scheduledShutdownNowRacingPeriodicRearm() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                for (int round = 0; round < 40; round++) {
                    ScheduledExecutorService ses = q.asScheduledExecutorService();
                    AtomicInteger runs = new AtomicInteger();
                    AtomicInteger running = new AtomicInteger();
                    CountDownLatch some = new CountDownLatch(3);
                    ScheduledFuture<?> f = round % 2 == 0
                            ? ses.scheduleAtFixedRate(() -> {
                                running.incrementAndGet();
                                runs.incrementAndGet();
                                some.countDown();
                                running.decrementAndGet();
                            }, 0, 100, TimeUnit.MICROSECONDS)
                            : ses.scheduleWithFixedDelay(() -> {
                                running.incrementAndGet();
                                runs.incrementAndGet();
                                some.countDown();
                                running.decrementAndGet();
                            }, 0, 100, TimeUnit.MICROSECONDS);
                    await(some);
                    List<Runnable> never = ses.shutdownNow();
                    int atReturn = runs.get();
                    assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
                    q.flush();
                    assertThat(runs.get()).as("round " + round).isLessThanOrEqualTo(atReturn + 1);
                    int settled = runs.get();
                    q.flush();
                    assertThat(runs.get()).isEqualTo(settled);
                    assertThat(never.contains(f) || f.isDone()).as("either returned or done").isTrue();
                }
            }
        });
    }

    /** cancelSync racing the timer's firing of a DelayedWork re-armed with tiny delays. */
    @Test
    void delayedCancelSyncRacingTheTimerLeavesNothingArmed() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                WorkQueue u = t.queue("u").unbound().build();
                AtomicInteger running = new AtomicInteger();
                AtomicInteger overlap = new AtomicInteger();
                AtomicInteger afterCancel = new AtomicInteger();
                AtomicBoolean cancelledFlag = new AtomicBoolean();
                DelayedWork d = new DelayedWork("d", () -> {
                    if (running.incrementAndGet() > 1) {
                        overlap.incrementAndGet();
                    }
                    if (cancelledFlag.get()) {
                        afterCancel.incrementAndGet();
                    }
                    running.decrementAndGet();
                });
                for (int i = 0; i < 3000; i++) {
                    cancelledFlag.set(false);
                    WorkQueue x = (i & 1) == 0 ? q : u;
                    x.modDelayed(d, Duration.ofNanos(ThreadLocalRandom.current().nextInt(50_000)));
                    d.cancelSync();
                    cancelledFlag.set(true);
                    assertThat(d.isPending()).isFalse();
                    assertThat(d.isTimerArmed()).isFalse();
                    assertThat(d.busy()).isZero();
                }
                q.flush();
                u.flush();
                assertThat(overlap.get()).isZero();
                assertThat(afterCancel.get()).as("runs that began after cancelSync returned").isZero();
            }
        });
    }

    /**
     * Self-waits from an item's own function (cancelSync, cancelSync(Duration), disableSync,
     * flush(Duration)) after it queued itself again: refused, and refused before anything
     * changed (SPEC: "refused before they change anything"): the requeued instance still runs
     * and the item is not left disabled.
     */
    @Test
    void selfWaitsFromTheItemsOwnFunctionChangeNothing() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (TestRuntime t = new TestRuntime()) {
                WorkQueue q = t.queue("q").build();
                List<String> ops = List.of("cancelSync", "cancelSyncTimed", "disableSync", "flushTimed", "flush");
                List<String> broken = new ArrayList<>();
                for (String op : ops) {
                    AtomicInteger runs = new AtomicInteger();
                    AtomicReference<Object> outcome = new AtomicReference<>();
                    AtomicReference<Work> self = new AtomicReference<>();
                    Work w = new Work("self-" + op, () -> {
                        if (runs.incrementAndGet() > 1) {
                            return;
                        }
                        Work me = self.get();
                        q.queue(me); // pending again
                        try {
                            switch (op) {
                                case "cancelSync" -> outcome.set(me.cancelSync());
                                case "cancelSyncTimed" -> outcome.set(me.cancelSync(Duration.ofSeconds(1)));
                                case "disableSync" -> outcome.set(me.disableSync());
                                case "flushTimed" -> outcome.set(me.flush(Duration.ofSeconds(1)));
                                default -> outcome.set(me.flush());
                            }
                        } catch (Throwable e) {
                            outcome.set(e);
                        }
                    });
                    self.set(w);
                    q.queue(w);
                    q.flush();
                    q.flush();
                    String line = op + ": outcome=" + outcome.get() + ", runs=" + runs.get() + ", disableDepth="
                            + w.disableDepth() + ", pending=" + w.isPending();
                    System.out.println(line);
                    if (!(outcome.get() instanceof IllegalStateException) || runs.get() != 2 || w.disableDepth() != 0) {
                        broken.add(line);
                    }
                }
                assertThat(broken).as("self-waits that were not refused cleanly").isEmpty();
            }
        });
    }

    /** close() racing queue builds (memReclaim: a rescuer thread each): no queue or thread outlives close(). */
    @Test
    void closeRacingQueueBuildsLeavesNoQueueOrThreadBehind() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int round = 0; round < 15; round++) {
                TestRuntime t = new TestRuntime();
                List<WorkQueue> built = new CopyOnWriteArrayList<>();
                ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                CountDownLatch some = new CountDownLatch(3);
                AtomicBoolean stop = new AtomicBoolean();
                Thread builder = new Thread(() -> {
                    int i = 0;
                    while (!stop.get()) {
                        try {
                            built.add(t.queue("b" + i++).memReclaim().build());
                            some.countDown();
                        } catch (IllegalStateException expected) {
                            return; // refused after close
                        } catch (Throwable e) {
                            unexpected.add(e);
                            return;
                        }
                    }
                });
                builder.start();
                await(some);
                t.rt.close();
                stop.set(true);
                join(builder);
                assertThat(unexpected).isEmpty();
                List<String> leftovers = new ArrayList<>();
                for (Thread th : t.threads) {
                    if (th.isAlive()) {
                        leftovers.add("thread " + th.getName() + " alive");
                    }
                }
                try {
                    t.queue("after-close").build();
                    leftovers.add("build() after close() returned succeeded");
                } catch (IllegalStateException expected) {
                    // refused: fine
                }
                for (WorkQueue b : built) {
                    try {
                        AtomicBoolean lateRan = new AtomicBoolean();
                        Work late = new Work("late", () -> lateRan.set(true));
                        if (b.queue(late)) {
                            boolean flushed = b.flush(Duration.ofSeconds(2));
                            leftovers.add("queue " + b.name() + " (destroyed=" + b.isDestroyed() + ") accepted an item after"
                                    + " close(); ran=" + lateRan.get() + ", flush(2s)=" + flushed + ", pending=" + late.isPending()
                                    + ", close took reports=" + t.reports);
                        }
                    } catch (IllegalStateException expected) {
                        // refused: fine
                    }
                }
                assertThat(leftovers).as("round " + round).isEmpty();
            }
        });
    }
}
