package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** close(), freeze and destroy from the README's lifecycle section and the javadoc only. */
class BlackBoxLifecycleTest {

    private static void awaitTrue(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(1);
        }
    }

    /**
     * close(): "Interrupting the closing thread cuts the wait short the same way; the interrupt
     * status is set again on return" and "Items still queued run on the remaining (daemon) threads
     * after their current items end". The item behind the interrupted one is not lost: it runs
     * or is reported.
     */
    @Test
    void anInterruptedCloseLosesNoQueuedItem() throws Exception {
        TestRuntime t = new TestRuntime(2);
        WorkQueue q = t.queue("ordered").ordered().build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger interrupted = new AtomicInteger();
        assertThat(q.queue(new Work("blocker", () -> {
            started.countDown();
            try {
                never.await();
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
            }
        }))).isTrue();
        WorkQueueCoreTest.await(started);
        AtomicInteger behind = new AtomicInteger();
        assertThat(q.queue(new Work("behind", behind::incrementAndGet))).isTrue();
        Thread.currentThread().interrupt();
        try {
            t.rt.close();
            assertThat(Thread.currentThread().isInterrupted()).as("interrupt status set again").isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(t.rt.isClosed()).isTrue();
        awaitTrue(() -> interrupted.get() == 1, "the running item was interrupted");
        awaitTrue(() -> behind.get() == 1 || t.errorWork.contains("ordered/behind"),
                "the item behind the interrupted one ran or was reported; ran=" + behind.get()
                        + " reports=" + t.errorWork);
        assertThat(behind.get() + (t.errorWork.contains("ordered/behind") ? 1 : 0)).isEqualTo(1);
        // a second close returns at once (closed)
        t.rt.close();
    }

    /**
     * close() while a freezable queue is frozen and holds an item: "nothing lost". Bounded
     * closeTimeout; the held item must run, or be reported, not vanish.
     */
    @Test
    void closeWhileFrozenLosesNoHeldItem() throws Exception {
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(2)));
        WorkQueue q = t.queue("frz").freezable().build();
        t.rt.freeze();
        AtomicInteger runs = new AtomicInteger();
        assertThat(q.queue(new Work("held", runs::incrementAndGet))).isTrue();
        t.rt.close();
        assertThat(t.rt.isClosed()).isTrue();
        // give the library a bounded chance to run or report it
        awaitTrue(() -> runs.get() == 1 || t.errorWork.contains("frz/held"),
                "held item neither ran nor was reported after close(); runs=" + runs.get() + " reports="
                        + t.errorWork + " listener=" + t.reports);
    }

    /** close() from the uncaught-work handler (a runtime thread) is refused; nothing changes. */
    @Test
    void closeFromTheHandlerIsRefusedAndTheRuntimeGoesOn() throws Exception {
        AtomicReference<Throwable> fromClose = new AtomicReference<>();
        AtomicReference<WorkQueues> self = new AtomicReference<>();
        CountDownLatch handled = new CountDownLatch(1);
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).uncaughtWorkHandler((q, w, e) -> {
            try {
                self.get().close();
            } catch (Throwable x) {
                fromClose.set(x);
            }
            handled.countDown();
        }).build());
        self.set(rt);
        try {
            WorkQueue q = rt.queueBuilder("h").build();
            q.queue(new Work("thrower", () -> {
                throw new RuntimeException("boom");
            }));
            assertThat(handled.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(fromClose.get()).isInstanceOf(IllegalStateException.class);
            assertThat(rt.isClosed()).isFalse();
            CountDownLatch ran = new CountDownLatch(1);
            assertThat(q.queue(new Work("after", ran::countDown))).isTrue();
            assertThat(ran.await(20, TimeUnit.SECONDS)).isTrue();
        } finally {
            rt.close();
        }
    }

    /**
     * "A second, concurrent close() returns only once the runtime is closed": every concurrent
     * closer, on return, finds every runtime thread ended (close joins them).
     */
    @Test
    void concurrentClosersAllReturnAfterEveryThreadEnded() throws Exception {
        for (int round = 0; round < 20; round++) {
            TestRuntime t = new TestRuntime(2);
            WorkQueue q = t.queue("busy").build();
            WorkQueue u = t.queue("unb").unbound().build();
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger runs = new AtomicInteger();
            for (int i = 0; i < 50; i++) {
                q.queue(new Work("w" + i, runs::incrementAndGet));
                u.queue(new Work("u" + i, runs::incrementAndGet));
            }
            q.queueDelayed(new DelayedWork("d", runs::incrementAndGet), Duration.ofMillis(1));
            List<String> bad = new CopyOnWriteArrayList<>();
            Thread[] closers = new Thread[4];
            for (int i = 0; i < closers.length; i++) {
                closers[i] = new Thread(() -> {
                    WorkQueueCoreTest.await(go);
                    t.rt.close();
                    for (Thread th : t.threads) {
                        if (th.isAlive()) {
                            bad.add(Thread.currentThread().getName() + " returned with " + th.getName() + " alive ("
                                    + th.getState() + ")");
                        }
                    }
                }, "closer-" + i);
                closers[i].start();
            }
            go.countDown();
            for (Thread c : closers) {
                c.join(30_000);
                assertThat(c.isAlive()).isFalse();
            }
            assertThat(bad).as("round " + round).isEmpty();
            assertThat(runs.get() + t.errors.size()).as("round " + round).isEqualTo(101);
        }
    }

    /** Queueing on a runtime's queue from an item of another runtime while the first closes. */
    @Test
    void itemOfOneRuntimeQueuesOnAnotherWhileItCloses() throws Exception {
        TestRuntime a = new TestRuntime(2);
        TestRuntime b = new TestRuntime(2);
        try {
            WorkQueue qa = a.queue("qa").build();
            WorkQueue qb = b.queue("qb").build();
            AtomicInteger ranOnB = new AtomicInteger();
            AtomicInteger acceptedOnB = new AtomicInteger();
            AtomicInteger refusedOnB = new AtomicInteger();
            List<Throwable> odd = new CopyOnWriteArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < 200; i++) {
                Work target = new Work("b" + i, ranOnB::incrementAndGet);
                qa.queue(new Work("a" + i, () -> {
                    WorkQueueCoreTest.await(go);
                    try {
                        if (qb.queue(target)) {
                            acceptedOnB.incrementAndGet();
                        }
                    } catch (IllegalStateException e) {
                        if (!e.getMessage().contains("qb") || !e.getMessage().contains(target.name())) {
                            odd.add(e);
                        }
                        refusedOnB.incrementAndGet();
                    } catch (Throwable e) {
                        odd.add(e);
                    }
                }));
            }
            Thread closer = new Thread(b.rt::close);
            go.countDown();
            closer.start();
            qa.flush();
            closer.join(30_000);
            assertThat(closer.isAlive()).isFalse();
            assertThat(odd).isEmpty();
            assertThat(acceptedOnB.get() + refusedOnB.get()).isEqualTo(200);
            assertThat(ranOnB.get() + b.errors.size()).as("accepted on B = ran on B").isEqualTo(acceptedOnB.get());
        } finally {
            a.close();
            b.close();
        }
    }

    /** destroy() of a frozen freezable queue holding an item: waits (drain) until thaw, then the item has run. */
    @Test
    void destroyOfAFrozenQueueRunsTheHeldItemAfterThaw() throws Exception {
        TestRuntime t = new TestRuntime(2);
        try {
            WorkQueue q = t.queue("frz2").freezable().build();
            t.rt.freeze();
            AtomicInteger runs = new AtomicInteger();
            assertThat(q.queue(new Work("held", runs::incrementAndGet))).isTrue();
            Thread d = new Thread(q::destroy, "destroyer");
            d.start();
            d.join(200);
            t.rt.thaw();
            d.join(20_000);
            assertThat(d.isAlive()).isFalse();
            assertThat(runs.get() + t.errors.size()).isEqualTo(1);
            assertThat(q.isDestroyed()).isTrue();
            assertThatThrownBy(() -> q.queue(new Work("late", () -> { })))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("frz2").hasMessageContaining("late");
        } finally {
            t.close();
        }
    }
}
