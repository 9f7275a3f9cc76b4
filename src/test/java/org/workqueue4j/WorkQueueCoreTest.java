package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The core guarantees of queue, flush and destroy (SPEC §4), one per test. */
class WorkQueueCoreTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    /** Blocks an ordered queue's single slot until released, so later items stay pending. */
    private static Work gate(CountDownLatch started, CountDownLatch release) {
        return new Work("gate", () -> {
            started.countDown();
            await(release);
        });
    }

    static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void queueReturnsFalseWhilePendingAndTrueOnceItRan() {
        WorkQueue q = t.queue("pending").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        LongAdder runs = new LongAdder();
        Work w = new Work("w", runs::increment);

        assertThat(q.queue(gate(started, release))).isTrue();
        await(started);
        assertThat(q.queue(w)).isTrue();
        assertThat(w.isPending()).isTrue();
        assertThat(q.queue(w)).isFalse();
        assertThat(q.queue(w)).isFalse();
        release.countDown();
        q.flush();

        assertThat(runs.sum()).isEqualTo(1);
        assertThat(w.isPending()).isFalse();
        assertThat(q.queue(w)).isTrue();
        q.flush();
        assertThat(runs.sum()).isEqualTo(2);
    }

    @Test
    void itemQueuedWhileRunningRunsAgainAfterwards() {
        WorkQueue q = t.queue("rerun").build();
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

        assertThat(w.isPending()).as("PENDING is cleared before the function runs").isFalse();
        assertThat(q.queue(w)).isTrue();
        release.countDown();
        q.flush();

        assertThat(runs.get()).isEqualTo(2);
    }

    @Test
    void itemNeverRunsOnTwoWorkersAtOnceWhenRequeuedToOtherCpus() throws Exception {
        WorkQueue q = t.queue("nonreentrant").build();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxOverlap = new AtomicInteger();
        LongAdder runs = new LongAdder();
        Work w = new Work("w", () -> {
            int now = running.incrementAndGet();
            maxOverlap.accumulateAndGet(now, Math::max);
            runs.increment();
            Thread.onSpinWait();
            running.decrementAndGet();
        });
        int perThread = 50_000;
        LongAdder accepted = new LongAdder();
        Thread[] producers = new Thread[2];
        for (int i = 0; i < 2; i++) {
            int cpu = i;
            producers[i] = new Thread(() -> {
                for (int k = 0; k < perThread; k++) {
                    if (q.queueOn(cpu, w)) {
                        accepted.increment();
                    }
                }
            });
            producers[i].start();
        }
        for (Thread p : producers) {
            p.join();
        }
        q.flush();

        assertThat(maxOverlap.get()).isEqualTo(1);
        assertThat(runs.sum()).as("every accepted queue led to one run").isEqualTo(accepted.sum());
    }

    @Test
    void queueFlushReturnsWhileAnotherThreadKeepsRequeueing() throws Exception {
        WorkQueue q = t.queue("livelock").build();
        LongAdder runs = new LongAdder();
        Work w = new Work("busy", runs::increment);
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch producing = new CountDownLatch(1);
        Thread producer = new Thread(() -> {
            while (!stop.get()) {
                q.queue(w);
                producing.countDown();
            }
        });
        producer.start();
        await(producing);
        try {
            for (int i = 0; i < 200; i++) {
                q.flush();
            }
        } finally {
            stop.set(true);
            producer.join();
        }
        q.flush();
        assertThat(w.isPending()).isFalse();
        assertThat(runs.sum()).isPositive();
    }

    @Test
    void queueFlushWaitsForEveryItemQueuedBeforeIt() {
        WorkQueue q = t.queue("flushall").unbound().build();
        AtomicInteger done = new AtomicInteger();
        Work[] items = new Work[500];
        for (int i = 0; i < items.length; i++) {
            items[i] = new Work("i" + i, done::incrementAndGet);
            q.queue(items[i]);
        }
        q.flush();
        assertThat(done.get()).isEqualTo(items.length);
    }

    @Test
    void workFlushReturnsFalseForAnIdleItem() {
        WorkQueue q = t.queue("idle").build();
        Work w = new Work("never-queued", () -> { });
        assertThat(w.flush()).isFalse();
        q.queue(w);
        q.flush();
        assertThat(w.flush()).as("idle again after it ran").isFalse();
    }

    @Test
    void workFlushWaitsForThePendingInstance() throws InterruptedException {
        WorkQueue q = t.queue("wflush").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean ran = new AtomicBoolean();
        Work w = new Work("target", () -> ran.set(true));
        q.queue(gate(started, release));
        await(started);
        q.queue(w);
        AtomicBoolean waited = new AtomicBoolean();
        AtomicBoolean ranWhenFlushReturned = new AtomicBoolean();
        Thread flusher = new Thread(() -> {
            waited.set(w.flush());
            ranWhenFlushReturned.set(ran.get());
        });
        flusher.start();
        // Release the gate only once the flusher's barrier is linked behind the pending item.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> t.rt.dump().contains("inactive: target, BAR(target)"));
        release.countDown();
        flusher.join();

        assertThat(waited.get()).isTrue();
        assertThat(ranWhenFlushReturned.get()).isTrue();
    }

    @Test
    void maxActiveOneNeverRunsTwoItemsOfAPoolAtOnce() {
        WorkQueue q = t.queue("max1").unbound().maxActive(1).build();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        for (int i = 0; i < 300; i++) {
            q.queue(new Work("m" + i, () -> {
                maxSeen.accumulateAndGet(running.incrementAndGet(), Math::max);
                for (int k = 0; k < 100; k++) {
                    Thread.onSpinWait();
                }
                running.decrementAndGet();
            }));
        }
        q.flush();
        assertThat(maxSeen.get()).isEqualTo(1);
    }

    @Test
    void destroyedQueueRejectsWithTheQueueAndWorkNamed() {
        WorkQueue q = t.queue("dio/sda").build();
        q.destroy();
        Work w = new Work("end_io", () -> { });

        assertThatThrownBy(() -> q.queue(w))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dio/sda")
                .hasMessageContaining("end_io");
        assertThat(w.isPending()).as("a rejected item is not left pending").isFalse();
        assertThat(q.isDestroyed()).isTrue();
    }

    @Test
    void destroyRunsEverythingQueuedBeforeIt() {
        WorkQueue q = t.queue("drain-on-destroy").build();
        AtomicInteger done = new AtomicInteger();
        for (int i = 0; i < 100; i++) {
            q.queue(new Work("d" + i, done::incrementAndGet));
        }
        q.destroy();
        assertThat(done.get()).isEqualTo(100);
    }

    @Test
    void drainAcceptsChainedWorkAndWaitsForIt() {
        WorkQueue q = t.queue("chain").build();
        AtomicInteger hops = new AtomicInteger();
        Work[] self = new Work[1];
        self[0] = new Work("hop", () -> {
            if (hops.incrementAndGet() < 10) {
                q.queue(self[0]);
            }
        });
        q.queue(self[0]);
        q.drain();
        assertThat(hops.get()).isEqualTo(10);
    }

    @Test
    void anExceptionInOneItemDoesNotStopTheNext() {
        WorkQueue q = t.queue("throws").ordered().build();
        AtomicBoolean secondRan = new AtomicBoolean();
        q.queue(new Work("bad", () -> {
            throw new IllegalArgumentException("boom");
        }));
        q.queue(new Work("good", () -> secondRan.set(true)));
        q.flush();

        assertThat(secondRan.get()).isTrue();
        assertThat(t.errors).singleElement().isInstanceOf(IllegalArgumentException.class);
        assertThat(t.errorWork).containsExactly("throws/bad");
    }

    @Test
    void flushingItsOwnQueueFromAnItemIsRefused() {
        WorkQueue q = t.queue("self").build();
        q.queue(new Work("selfflush", q::flush));
        q.flush();
        assertThat(t.errors).singleElement().isInstanceOf(IllegalStateException.class)
                .extracting(Throwable::getMessage).asString().contains("selfflush").contains("self");
    }

    @Test
    void destroyingItsOwnQueueFromAnItemIsRefusedAndLeavesTheQueueUsable() {
        WorkQueue q = t.queue("selfdestroy").build();
        q.queue(new Work("destroyer", q::destroy));
        q.flush();
        assertThat(t.errors).singleElement().isInstanceOf(IllegalStateException.class)
                .extracting(Throwable::getMessage).asString().contains("destroyer").contains("destroy its own queue");
        AtomicBoolean ran = new AtomicBoolean();
        assertThat(q.queue(new Work("after", () -> ran.set(true)))).isTrue();
        q.destroy();
        assertThat(ran.get()).isTrue();
        assertThat(q.isDestroyed()).isTrue();
    }

    @Test
    void workCurrentNamesTheRunningItem() {
        WorkQueue q = t.queue("current").build();
        Work[] seen = new Work[1];
        Work w = new Work("me", () -> seen[0] = Work.current());
        q.queue(w);
        q.flush();
        assertThat(seen[0]).isSameAs(w);
        assertThat(Work.current()).isNull();
    }

    @Test
    void workerThreadsAreNamedLikeTheKernels() {
        WorkQueue pcpu = t.queue("names").build();
        WorkQueue hi = t.queue("names-hi").highPriority().build();
        WorkQueue unb = t.queue("names-u").unbound().build();
        String[] names = new String[3];
        pcpu.queueOn(1, new Work("a", () -> names[0] = Thread.currentThread().getName()));
        hi.queueOn(0, new Work("b", () -> names[1] = Thread.currentThread().getName()));
        unb.queue(new Work("c", () -> names[2] = Thread.currentThread().getName()));
        pcpu.flush();
        hi.flush();
        unb.flush();
        assertThat(names[0]).matches("wq-[^/]+/kworker/1:\\d+");
        assertThat(names[1]).matches("wq-[^/]+/kworker/0:\\d+H");
        assertThat(names[2]).matches("wq-[^/]+/kworker/u\\d+:\\d+");
    }

    @Test
    void closeLeavesNoLiveWorkerThreads() {
        TestRuntime other = new TestRuntime();
        WorkQueue q = other.queue("close").build();
        WorkQueue u = other.queue("close-u").unbound().build();
        for (int i = 0; i < 50; i++) {
            q.queue(new Work("c" + i, () -> { }));
            u.queue(new Work("u" + i, () -> { }));
        }
        other.close();

        assertThat(other.threads).isNotEmpty();
        assertThat(other.threads).noneMatch(Thread::isAlive);
        assertThat(q.isDestroyed()).isTrue();
    }

    @Test
    void queueOnAnUnknownCpuNamesTheQueueAndWork() {
        WorkQueue q = t.queue("cpus").build();
        Work w = new Work("w", () -> { });
        assertThatThrownBy(() -> q.queueOn(7, w))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpus").hasMessageContaining("'w'");
        assertThat(w.isPending()).isFalse();
    }

    @Test
    void executorInterfaceRunsCommands() {
        WorkQueue q = t.queue("exec").build();
        AtomicInteger n = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            q.execute(n::incrementAndGet);
        }
        q.flush();
        assertThat(n.get()).isEqualTo(10);
    }
}
