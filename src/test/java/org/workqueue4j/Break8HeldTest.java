package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/** Break8 probes that held (kept as regression tests). */
@Timeout(60)
class Break8HeldTest {
    /** Runs the bounded-flusher hand-off with {@code bad} as the factory once armed; returns the future. */
    private static CompletableFuture<Void> handOff(WorkQueues rt, AtomicBoolean arm) throws Exception {
        return handOff(rt, arm, f -> { });
    }

    private static CompletableFuture<Void> handOff(WorkQueues rt, AtomicBoolean arm,
            java.util.function.Consumer<CompletableFuture<Void>> dep) throws Exception {
        WorkQueue q = rt.queueBuilder("q").build();
        CountDownLatch atFlip = new CountDownLatch(1);
        CountDownLatch goFlip = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("flush.flip") && Thread.currentThread().getName().equals("interruptible-flusher")) {
                atFlip.countDown();
                try {
                    goFlip.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Thread b = new Thread(() -> {
            try {
                q.flushInterruptibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "interruptible-flusher");
        CompletableFuture<Void> f;
        try {
            b.start();
            assertThat(atFlip.await(10, TimeUnit.SECONDS)).isTrue();
            f = q.flushAsync();
            dep.accept(f);
            arm.set(true);
        } finally {
            TestHooks.install(null);
            goFlip.countDown();
        }
        b.join(10_000);
        assertThat(b.isAlive()).isFalse();
        return f;
    }

    private static WorkQueues runtime(AtomicBoolean arm, ThreadFactory bad) {
        return WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                .threadFactory(r -> arm.get() ? bad.newThread(r) : new Thread(r)).build());
    }

    @Test
    void handOffFactoryReturningNullCompletesInline() throws Exception {
        AtomicBoolean arm = new AtomicBoolean();
        try (WorkQueues rt = runtime(arm, r -> null)) {
            CompletableFuture<Void> f = handOff(rt, arm);
            f.get(5, TimeUnit.SECONDS);
            arm.set(false);
        }
    }

    @Test
    void handOffFactoryThrowingCompletesInline() throws Exception {
        AtomicBoolean arm = new AtomicBoolean();
        try (WorkQueues rt = runtime(arm, r -> {
            throw new RuntimeException("no threads");
        })) {
            CompletableFuture<Void> f = handOff(rt, arm);
            f.get(5, TimeUnit.SECONDS);
            arm.set(false);
        }
    }

    @Test
    void handOffFactoryReturningAStartedThreadCompletes() throws Exception {
        AtomicBoolean arm = new AtomicBoolean();
        try (WorkQueues rt = runtime(arm, r -> {
            Thread t = new Thread(r);
            t.start();
            return t;
        })) {
            CompletableFuture<Void> f = handOff(rt, arm);
            f.get(5, TimeUnit.SECONDS);
            arm.set(false);
        }
    }

    @Test
    void handOffThreadIsGoneAfterClose() throws Exception {
        AtomicBoolean arm = new AtomicBoolean();
        java.util.List<Thread> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        WorkQueues rt = runtime(arm, r -> {
            Thread t = new Thread(r);
            made.add(t);
            return t;
        });
        CompletableFuture<Void> f;
        try {
            f = handOff(rt, arm);
            f.get(5, TimeUnit.SECONDS);
        } finally {
            arm.set(false);
            rt.close();
        }
        for (Thread t : made) {
            assertThat(t.isAlive()).as(t.getName()).isFalse();
        }
    }

    @Test
    void ownedViewQueueDestroyedAfterSystemUnboundFlush() throws Exception {
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build())) {
            for (String kind : new String[] {"plain", "ordered", "memReclaim", "freezable"}) {
                WorkQueue.Builder b = rt.queueBuilder("owned-" + kind);
                b = switch (kind) {
                    case "ordered" -> b.ordered();
                    case "memReclaim" -> b.memReclaim();
                    case "freezable" -> b.freezable();
                    default -> b;
                };
                ExecutorService ex = b.buildExecutorService();
                CountDownLatch go = new CountDownLatch(1);
                ex.submit(() -> {
                    go.await();
                    return null;
                });
                ex.shutdown();
                assertThat(ex.isTerminated()).isFalse();
                go.countDown();
                assertThat(ex.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
                assertThat(ex.isTerminated()).isTrue();
                rt.systemUnbound().flush();
                assertThat(rt.queues()).extracting(WorkQueue::name).doesNotContain("owned-" + kind);
            }
        }
    }

    @Test
    void ownedFreezableViewFrozenTerminatesAfterThaw() throws Exception {
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build())) {
            ExecutorService ex = rt.queueBuilder("owned-frz").freezable().buildExecutorService();
            rt.freeze();
            AtomicBoolean ran = new AtomicBoolean();
            ex.execute(() -> ran.set(true));
            ex.shutdown();
            assertThat(ex.awaitTermination(200, TimeUnit.MILLISECONDS)).isFalse();
            rt.thaw();
            assertThat(ex.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran).isTrue();
            rt.systemUnbound().flush();
            assertThat(rt.queues()).extracting(WorkQueue::name).doesNotContain("owned-frz");
        }
    }

    @Test
    void ownedViewTerminationRacingClose() throws Exception {
        for (int i = 0; i < 30; i++) {
            List<Throwable> handled = new CopyOnWriteArrayList<>();
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                    .uncaughtWorkHandler((q, w, e) -> handled.add(e)).build());
            ExecutorService ex = rt.queueBuilder("owned").buildExecutorService();
            CountDownLatch go = new CountDownLatch(1);
            ex.execute(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            ex.shutdown();
            CyclicBarrier b = new CyclicBarrier(2);
            Thread c = new Thread(() -> {
                try {
                    b.await();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                rt.close();
            });
            c.start();
            b.await();
            go.countDown();
            assertThat(ex.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            c.join(20_000);
            assertThat(c.isAlive()).isFalse();
            assertThat(rt.isClosed()).isTrue();
            assertThat(rt.queues()).as("round " + i).isEmpty();
            assertThat(handled).as("round " + i).isEmpty();
        }
    }

    @Test
    void periodicOwnedViewNoRunAfterTermination() throws Exception {
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build())) {
            for (int i = 0; i < 20; i++) {
                ScheduledExecutorService ex = rt.queueBuilder("owned-p" + i).buildScheduledExecutorService();
                AtomicInteger runs = new AtomicInteger();
                CountDownLatch some = new CountDownLatch(3);
                ScheduledFuture<?> f = ex.scheduleAtFixedRate(() -> {
                    runs.incrementAndGet();
                    some.countDown();
                }, 0, 1, TimeUnit.MILLISECONDS);
                some.await(10, TimeUnit.SECONDS);
                if (i % 2 == 0) {
                    ex.shutdown();
                } else {
                    ex.shutdownNow();
                }
                assertThat(ex.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
                int at = runs.get();
                if (i % 2 == 0) { assertThat(f.isDone()).as("round " + i).isTrue(); }
                rt.systemUnbound().flush();
                assertThat(runs.get()).isEqualTo(at);
                assertThat(rt.queues()).extracting(WorkQueue::name).doesNotContain("owned-p" + i);
            }
        }
    }

    @Test
    void concurrentShutdownsTerminateOnce() throws Exception {
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build())) {
            for (int i = 0; i < 20; i++) {
                ExecutorService ex = rt.queueBuilder("owned-c" + i).buildExecutorService();
                for (int k = 0; k < 5; k++) {
                    ex.execute(() -> { });
                }
                Thread[] ts = new Thread[4];
                CyclicBarrier b = new CyclicBarrier(ts.length);
                for (int t = 0; t < ts.length; t++) {
                    int tt = t;
                    ts[t] = new Thread(() -> {
                        try {
                            b.await();
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                        if (tt % 2 == 0) {
                            ex.shutdown();
                        } else {
                            ex.shutdownNow();
                        }
                    });
                    ts[t].start();
                }
                for (Thread t : ts) {
                    t.join(10_000);
                }
                assertThat(ex.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
                rt.systemUnbound().flush();
                assertThat(rt.queues()).extracting(WorkQueue::name).doesNotContain("owned-c" + i);
            }
        }
    }

    @Test
    void factoryErrorWhenSystemUnboundIsMadeAtTheLastTasksEnd() throws Exception {
        AtomicBoolean arm = new AtomicBoolean();
        List<Throwable> handled = new CopyOnWriteArrayList<>();
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                .uncaughtWorkHandler((q, w, e) -> handled.add(e))
                .threadFactory(r -> {
                    if (arm.get()) {
                        throw new OutOfMemoryError("unable to create native thread (injected)");
                    }
                    return new Thread(r);
                }).build())) {
            ExecutorService ex = rt.queueBuilder("owned").buildExecutorService();
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            java.util.concurrent.Future<?> f = ex.submit(() -> {
                started.countDown();
                go.await();
                return null;
            });
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            ex.shutdown();
            arm.set(true);
            go.countDown();
            assertThat(ex.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            f.get(5, TimeUnit.SECONDS);
            arm.set(false);
            // retry paths the javadoc names
            assertThat(ex.awaitTermination(1, TimeUnit.SECONDS)).isTrue();
            rt.systemUnbound().flush();
            assertThat(rt.queues()).extracting(WorkQueue::name).doesNotContain("owned");
            assertThat(handled).as("reported").isEmpty();
        }
    }

    /**
     * A dependent of a handed-off flushAsync future calls close() on the flushAsync thread: refused,
     * as on every thread of the runtime (close() joins it; accepted, it returned without joining
     * itself, or waited for ever against a second close(): Break10HandOffAfterCloseTest); a close()
     * from the test's thread then closes the runtime.
     */
    @Test
    void closeFromADependentOnTheHandOffThreadIsRefused() throws Exception {
        AtomicBoolean arm = new AtomicBoolean();
        WorkQueues rt = runtime(arm, Thread::new);
        CompletableFuture<Throwable> refused = new CompletableFuture<>();
        try {
            handOff(rt, arm, f -> f.thenRun(() -> {
                try {
                    assertThat(Thread.currentThread().getName()).contains("flushAsync/q");
                    rt.close();
                    refused.complete(null);
                } catch (Throwable e) {
                    refused.complete(e);
                }
            }));
            assertThat(refused.get(20, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("refused on its own thread");
            assertThat(rt.isClosed()).isFalse();
        } finally {
            arm.set(false);
            rt.close();
        }
        assertThat(rt.isClosed()).isTrue();
    }
}
