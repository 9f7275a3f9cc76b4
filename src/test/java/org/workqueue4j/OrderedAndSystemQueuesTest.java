package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Ordered queues, setMaxActive, system queues and scheduleOnEachCpu (SPEC §4), one guarantee per test. */
class OrderedAndSystemQueuesTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    private static void startTogether(List<Thread> threads) throws InterruptedException {
        for (Thread th : threads) {
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
    }

    @Test
    void orderedQueueRunsOneItemAtATime() {
        WorkQueue q = t.queue("ord").ordered().build();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        for (int i = 0; i < 2000; i++) {
            q.queueOn(i % 2, new Work("w" + i, () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                Thread.onSpinWait();
                running.decrementAndGet();
            }));
        }
        q.flush();
        assertThat(maxRunning).hasValue(1);
    }

    @Test
    void orderedQueueRunsItemsInGlobalQueueOrderUnderFourProducers() throws Exception {
        WorkQueue q = t.queue("ord").ordered().build();
        Object order = new Object();
        long[] nextTicket = {0};
        List<Long> ran = new CopyOnWriteArrayList<>();
        CyclicBarrier go = new CyclicBarrier(4);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            producers.add(new Thread(() -> {
                try {
                    go.await();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < 2500; i++) {
                    synchronized (order) { // the ticket order is the queueing order
                        long ticket = nextTicket[0]++;
                        q.queue(new Work("t" + ticket, () -> ran.add(ticket)));
                    }
                }
            }, "producer-" + p));
        }
        startTogether(producers);
        q.flush();

        assertThat(ran).hasSize(10_000).isSorted();
    }

    @Test
    void orderedQueueKeepsEachProducersOrderAcrossCpus() throws Exception {
        WorkQueue q = t.queue("ord").ordered().build();
        int[][] lastSeen = {{-1}, {-1}, {-1}, {-1}};
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger runs = new AtomicInteger();
        CyclicBarrier go = new CyclicBarrier(4);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            int producer = p;
            producers.add(new Thread(() -> {
                try {
                    go.await();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < 5000; i++) {
                    int seq = i;
                    // queueOn a rotating CPU: an ordered queue ignores the CPU for ordering
                    q.queueOn((producer + i) % 2, new Work("p" + producer, () -> {
                        runs.incrementAndGet();
                        if (lastSeen[producer][0] != seq - 1) { // single runner at a time: plain access ok
                            violations.incrementAndGet();
                        }
                        lastSeen[producer][0] = seq;
                    }));
                }
            }));
        }
        startTogether(producers);
        q.flush();

        assertThat(violations).hasValue(0);
        assertThat(runs).hasValue(20_000);
    }

    @Test
    void orderedQueueMaxActiveIsFixedAtOne() {
        WorkQueue q = t.queue("ord").ordered().maxActive(8).build();
        assertThat(q.isOrdered()).isTrue();
        assertThat(q.isUnbound()).isTrue();
        assertThat(q.maxActive()).isEqualTo(1);
        assertThatThrownBy(() -> q.setMaxActive(4)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ord");
        assertThat(q.maxActive()).isEqualTo(1);
    }

    @Test
    void raisingMaxActiveActivatesWaitingItemsInQueueOrder() throws Exception {
        WorkQueue q = t.queue("ma").unbound().maxActive(1).build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch gateStarted = new CountDownLatch(1);
        CountDownLatch aAndBStarted = new CountDownLatch(2);
        q.queue(new Work("gate", () -> {
            gateStarted.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(gateStarted);
        Work a = new Work("a", () -> {
            aAndBStarted.countDown();
            WorkQueueCoreTest.await(release);
        });
        Work b = new Work("b", () -> {
            aAndBStarted.countDown();
            WorkQueueCoreTest.await(release);
        });
        AtomicInteger cRuns = new AtomicInteger();
        Work c = new Work("c", cRuns::incrementAndGet);
        q.queue(a);
        q.queue(b);
        q.queue(c);
        assertThat(a.busy()).isEqualTo(Work.BUSY_PENDING);

        q.setMaxActive(3);
        assertThat(q.maxActive()).isEqualTo(3);
        WorkQueueCoreTest.await(aAndBStarted); // the two oldest waiting items got the two new slots
        assertThat(c.isPending()).as("the third waits for a slot").isTrue();
        assertThat(cRuns).hasValue(0);
        release.countDown();
        q.flush();
        assertThat(cRuns).hasValue(1);
    }

    @Test
    void setMaxActiveClampsToTheKernelRange() {
        WorkQueue q = t.queue("ma").build();
        q.setMaxActive(0);
        assertThat(q.maxActive()).isEqualTo(1); // workqueue_set_max_active: 0 is clamped to 1, not the default
        q.setMaxActive(5000);
        assertThat(q.maxActive()).isEqualTo(WorkQueue.MAX_ACTIVE);
    }

    @Test
    void loweredMaxActiveLimitsItemsQueuedAfterwards() {
        WorkQueue q = t.queue("ma").unbound().maxActive(8).build();
        q.setMaxActive(1);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        for (int i = 0; i < 500; i++) {
            q.queue(new Work("w", () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                Thread.onSpinWait();
                running.decrementAndGet();
            }));
        }
        q.flush();
        assertThat(maxRunning).hasValue(1);
    }

    @Test
    void systemQueuesCarryTheKernelNamesAndKinds() {
        WorkQueues rt = t.rt;
        assertThat(rt.system().name()).isEqualTo("events");
        assertThat(rt.systemHighPri().name()).isEqualTo("events_highpri");
        assertThat(rt.systemLong().name()).isEqualTo("events_long");
        assertThat(rt.systemUnbound().name()).isEqualTo("events_unbound");
        assertThat(rt.systemFreezable().name()).isEqualTo("events_freezable");
        assertThat(rt.systemUnbound().isUnbound()).isTrue();
        assertThat(rt.systemUnbound().maxActive()).isEqualTo(WorkQueue.MAX_ACTIVE);
        assertThat(rt.system().isUnbound()).isFalse();
        assertThat(rt.queues()).contains(rt.system(), rt.systemHighPri(), rt.systemLong(), rt.systemUnbound(),
                rt.systemFreezable());
    }

    @Test
    void everySystemQueueRunsWorkOnItsKindOfWorker() throws Exception {
        WorkQueues rt = t.rt;
        List<WorkQueue> qs = List.of(rt.system(), rt.systemHighPri(), rt.systemLong(), rt.systemUnbound(),
                rt.systemFreezable());
        List<String> threads = new CopyOnWriteArrayList<>();
        for (WorkQueue q : qs) {
            Work w = new Work("on-" + q.name(), () -> threads.add(q.name() + "=" + Thread.currentThread().getName()));
            assertThat(q.queue(w)).isTrue();
            w.flush();
        }
        assertThat(threads).hasSize(5);
        assertThat(threads.get(0)).matches("events=wq-[^/]+/kworker/\\d+:\\d+");
        assertThat(threads.get(1)).matches("events_highpri=wq-[^/]+/kworker/\\d+:\\d+H");
        assertThat(threads.get(3)).matches("events_unbound=wq-[^/]+/kworker/u\\d+:\\d+");
    }

    @Test
    void systemQueuesCannotBeDestroyedByUsers() {
        assertThatThrownBy(() -> t.rt.system().destroy()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("events");
        assertThat(t.rt.system().isDestroyed()).isFalse();
    }

    @Test
    void scheduleQueuesOnTheSystemQueue() {
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        assertThat(t.rt.schedule(w)).isTrue();
        t.rt.system().flush();
        assertThat(runs).hasValue(1);
    }

    @Test
    void scheduleOnEachCpuRunsOnceOnEveryCpuAndWaitsForAll() {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        AtomicInteger runs = new AtomicInteger();
        t.rt.scheduleOnEachCpu(() -> {
            runs.incrementAndGet();
            threads.add(Thread.currentThread().getName().replaceAll(":\\d+$", "").replaceAll("^wq-[^/]+/", ""));
        });
        assertThat(runs).as("all done when it returns").hasValue(t.rt.cpus());
        assertThat(threads).containsExactlyInAnyOrder("kworker/0", "kworker/1");
    }
}
