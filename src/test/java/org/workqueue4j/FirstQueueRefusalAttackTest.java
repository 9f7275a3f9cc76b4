package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The first queue launches the manager and the monitor, builds itself, then waits for both
 * check-ins (WqRuntime.newQueue). A runtime thread that ends without running its body must
 * refuse the build after the queue was built: the queue is destroyed unregistered, and what its
 * build started (a memReclaim queue's rescuer) must not stay behind.
 */
class FirstQueueRefusalAttackTest {
    private final List<Thread> made = new CopyOnWriteArrayList<>();
    private final Map<Thread, String> kinds = new ConcurrentHashMap<>();
    private WorkQueues rt;

    @AfterEach
    void tearDown() {
        if (rt != null) {
            rt.close();
        }
    }

    private WorkQueues runtime(String name, java.util.concurrent.ThreadFactory f) {
        rt = WorkQueues.create(WorkQueuesConfig.builder().name(name).cpus(2).closeTimeout(Duration.ofSeconds(20))
                .watchdogThreshold(Duration.ZERO)
                .threadFactory(r -> {
                    Thread t = f.newThread(r);
                    made.add(t);
                    kinds.put(t, r.getClass().getSimpleName());
                    return t;
                }).build());
        return rt;
    }

    /**
     * The first queue is a memReclaim queue (its build starts a rescuer thread and waits for
     * that check-in); the monitor's thread drops its Runnable. The build is refused naming the
     * monitor, registers nothing, and the rescuer it started ends (destroy stops it): no thread
     * of the refused queue stays behind. A second build (monitor body run this time) succeeds.
     */
    @Test
    void aRefusedFirstMemReclaimQueueLeavesNoRescuerBehind() throws Exception {
        AtomicInteger monitorCalls = new AtomicInteger();
        runtime("refuse-reclaim", r -> {
            if (r.getClass().getSimpleName().equals("Monitor") && monitorCalls.getAndIncrement() == 0) {
                return new Thread(() -> { }); // ends without running r
            }
            return new Thread(r);
        });
        assertThatThrownBy(() -> rt.queueBuilder("reclaim-first").memReclaim().build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/monitor");
        assertThat(rt.queues()).as("the refused queue is not registered").isEmpty();
        List<Thread> rescuers = made.stream().filter(t -> "Worker".equals(kinds.get(t))).toList();
        assertThat(rescuers).as("the build started its rescuer").isNotEmpty();
        Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(rescuers).as("the refused queue's rescuer threads ended").allMatch(t -> !t.isAlive()));

        CountDownLatch ran = new CountDownLatch(1);
        WorkQueue q = rt.queueBuilder("reclaim-second").memReclaim().build();
        q.queue(new Work("runs", ran::countDown));
        LifecycleTest.await(ran);
        assertThat(rt.queues()).extracting(WorkQueue::name).containsExactly("reclaim-second");
    }

    /**
     * Two first builds at once, the manager's first thread dropping its Runnable while it stays
     * alive (until released) and the monitor's fine: the second build arrives while the first
     * one is between its launches and its check-in waits. Each is refused naming the manager or
     * succeeds with a manager that ran; a refused build registers nothing.
     */
    @Test
    void twoFirstBuildsWithADroppedManagerAreRefusedOrServed() throws Exception {
        CountDownLatch dropRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch managerRan = new CountDownLatch(1);
        AtomicInteger managerCalls = new AtomicInteger();
        runtime("drop-manager", r -> {
            if (r.getClass().getSimpleName().equals("Manager")) {
                if (managerCalls.getAndIncrement() == 0) {
                    return new Thread(() -> {
                        dropRunning.countDown();
                        LifecycleTest.await(release);
                    });
                }
                return new Thread(() -> {
                    managerRan.countDown();
                    r.run();
                });
            }
            return new Thread(r);
        });
        AtomicReference<Throwable> aFail = new AtomicReference<>();
        AtomicReference<Throwable> bFail = new AtomicReference<>();
        Thread a = new Thread(() -> {
            try {
                rt.queueBuilder("qa").build();
            } catch (Throwable e) {
                aFail.set(e);
            }
        }, "first-build");
        a.start();
        LifecycleTest.await(dropRunning);
        Thread b = new Thread(() -> {
            try {
                rt.queueBuilder("qb").unbound().build();
            } catch (Throwable e) {
                bFail.set(e);
            }
        }, "second-build");
        b.start();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> b.getState() != Thread.State.RUNNABLE
                && b.getState() != Thread.State.NEW);
        release.countDown();
        LifecycleTest.join(a);
        LifecycleTest.join(b);
        assertThat(aFail.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/manager");
        if (bFail.get() != null) {
            assertThat(bFail.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/manager");
            assertThat(rt.queues()).as("refused builds register nothing").isEmpty();
        } else {
            assertThat(managerRan.getCount()).as("qb built while no manager ever ran").isZero();
            assertThat(rt.queues()).extracting(WorkQueue::name).containsExactly("qb");
        }
        // Either way the next build gets a manager that runs, and its items run.
        CountDownLatch ran = new CountDownLatch(1);
        rt.queueBuilder("qc").build().queue(new Work("runs", ran::countDown));
        LifecycleTest.await(ran);
        assertThat(managerRan.getCount()).isZero();
    }
}
