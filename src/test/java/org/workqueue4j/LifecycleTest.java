package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, defects 1 to 7: close, create and freeze that never half-happen, and bounded waits.
 * Every wait here is bounded (a failing run fails after seconds, it does not hang).
 */
class LifecycleTest {
    static final long BOUND_S = 20;

    static void await(CountDownLatch l) {
        try {
            assertThat(l.await(BOUND_S, TimeUnit.SECONDS)).as("latch within %ss", BOUND_S).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static void join(Thread t) throws InterruptedException {
        t.join(TimeUnit.SECONDS.toMillis(BOUND_S));
        assertThat(t.isAlive()).as("%s still running after %ss", t.getName(), BOUND_S).isFalse();
    }

    static void assertAllEnded(TestRuntime t) {
        assertThat(t.threads).as("runtime threads").noneMatch(Thread::isAlive);
    }

    /** An item that waits (interruptibly) until the latch opens or it is interrupted. */
    static Work blocking(String name, CountDownLatch started, CountDownLatch release, AtomicBoolean interrupted) {
        return new Work(name, () -> {
            started.countDown();
            try {
                if (!release.await(3 * BOUND_S, TimeUnit.SECONDS)) {
                    throw new AssertionError(name + " was never released");
                }
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        });
    }

    // ------------------------------------------------------------------------------ defect 1

    @Test
    void closeFromAWorkItemIsRefusedBeforeAnythingChanges() throws Exception {
        TestRuntime t = new TestRuntime();
        WorkQueue q = t.queue("q").build();
        AtomicReference<Throwable> caught = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        q.queue(new Work("closer", () -> {
            try {
                t.rt.close();
            } catch (Throwable e) {
                caught.set(e);
            }
            done.countDown();
        }));
        await(done);
        assertThat(caught.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("close()").hasMessageContaining("closer").hasMessageContaining("its own thread");
        assertThat(t.rt.isClosed()).isFalse();
        assertThat(q.isDestroyed()).isFalse();
        assertThat(t.rt.system().isDestroyed()).isFalse();
        CountDownLatch ran = new CountDownLatch(1);
        q.queue(new Work("after", ran::countDown)); // the runtime is untouched
        await(ran);
        t.rt.close();
        assertAllEnded(t);
    }

    // ------------------------------------------------------------------------------ defect 2

    @Test
    void concurrentCloseReturnsOnlyWhenClosed() throws Exception {
        TestRuntime t = new TestRuntime();
        WorkQueue q = t.queue("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(blocking("running", started, release, new AtomicBoolean()));
        await(started);
        Thread first = TestRuntime.startAndAwaitParked("first-close", t.rt::close);
        Thread second = TestRuntime.startAndAwaitParked("second-close", t.rt::close);
        assertThat(second.isAlive()).as("second close() returned while the first still waits").isTrue();
        release.countDown();
        join(second);
        assertAllEnded(t); // the second returned: the runtime is closed
        join(first);
    }

    // ------------------------------------------------------------------------------ defect 4

    @Test
    void failedCreateLeavesNoThreadBehind() {
        // create() starts no thread (each starts on first need: LazyStartTest), so a thread
        // factory cannot fail it half-way; the first queue is where the factory is first called,
        // and its failure refuses that queue with nothing left behind.
        List<Thread> made = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        WorkQueuesConfig cfg = WorkQueuesConfig.builder().cpus(2).threadFactory(r -> {
            if (calls.incrementAndGet() >= 1) {
                throw new IllegalStateException("factory down");
            }
            Thread th = new Thread(r);
            made.add(th);
            return th;
        }).build();
        WorkQueues rt = WorkQueues.create(cfg);
        assertThat(calls).as("thread factory calls by create()").hasValue(0);
        assertThatThrownBy(() -> rt.queueBuilder("q").build()).hasMessage("factory down");
        rt.close();
        assertThat(made).noneMatch(Thread::isAlive);
    }

    // ------------------------------------------------------------------------------ defect 5

    @Test
    void durationsAreValidatedAndForeverSaturates() throws Exception {
        Duration huge = Duration.ofSeconds(Long.MAX_VALUE);
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(huge).idleTimeout(huge)
                .cpuIntensiveThreshold(huge).watchdogThreshold(huge));
        CountDownLatch ran = new CountDownLatch(1);
        t.rt.system().queue(new Work("w", ran::countDown));
        await(ran);
        t.rt.close(); // used to throw ArithmeticException
        assertAllEnded(t);
        WorkQueuesConfig.Builder b = WorkQueuesConfig.builder();
        assertThatThrownBy(() -> b.closeTimeout(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("closeTimeout").hasMessageContaining("[0, forever)");
        assertThatThrownBy(() -> b.idleTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("idleTimeout").hasMessageContaining("(0, forever)");
        assertThatThrownBy(() -> b.cpuIntensiveThreshold(Duration.ofNanos(-5))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpuIntensiveThreshold");
        assertThatThrownBy(() -> b.watchdogThreshold(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("watchdogThreshold");
    }

    // ------------------------------------------------------------------------------ defect 6

    @Test
    void freezeFromAFreezableItemIsRefused() throws Exception {
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(5)));
        try {
            WorkQueue q = t.queue("fq").freezable().build();
            AtomicReference<Throwable> caught = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            q.queue(new Work("freezer", () -> {
                try {
                    t.rt.freeze();
                } catch (Throwable e) {
                    caught.set(e);
                }
                done.countDown();
            }));
            await(done);
            assertThat(caught.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("freezer").hasMessageContaining("fq");
            assertThat(t.rt.isFrozen()).isFalse();
            // From an item of a queue that is not freezable it is allowed.
            CountDownLatch froze = new CountDownLatch(1);
            t.queue("plain").build().queue(new Work("ok", () -> {
                t.rt.freeze();
                froze.countDown();
            }));
            await(froze);
            assertThat(t.rt.isFrozen()).isTrue();
            t.rt.thaw();
        } finally {
            t.close();
        }
    }

    // ------------------------------------------------------------------------------ defect 7

    @Test
    void closeTimeoutBoundsCloseAndReportsTheStuckItems() throws Exception {
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(1)));
        WorkQueue q = t.queue("stuckq").build();
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        q.queue(blocking("stuck-item", started, new CountDownLatch(1), interrupted));
        await(started);
        Thread closer = new Thread(t.rt::close, "closer");
        closer.start();
        join(closer); // used to block forever
        assertThat(t.rt.isClosed()).isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).untilTrue(interrupted);
        assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("timed out after PT1S (closeTimeout)")
                .contains("'stuck-item' of queue 'stuckq'").contains("CountDownLatch.await"));
        assertThatThrownBy(() -> q.queue(new Work("late", () -> { }))).isInstanceOf(IllegalStateException.class);
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> t.threads.stream().noneMatch(Thread::isAlive));
    }

    @Test
    void closeTimeoutHoldsForAnItemThatIgnoresInterrupts() throws Exception {
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofMillis(200)));
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(1);
        t.queue("q").build().queue(new Work("deaf", () -> {
            started.countDown();
            while (!stop.get()) {
                LockSupport.park(); // ignores interrupts
            }
        }));
        await(started);
        Thread closer = new Thread(t.rt::close, "closer");
        closer.start();
        try {
            join(closer);
            assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("'deaf' of queue 'q'"));
            assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("still alive").contains("kworker/"));
        } finally {
            stop.set(true);
            t.threads.forEach(LockSupport::unpark);
        }
    }

    @Test
    void interruptingTheClosingThreadCutsTheWaitShort() throws Exception {
        TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofHours(1)));
        WorkQueue q = t.queue("q").build();
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        q.queue(blocking("long", started, new CountDownLatch(1), interrupted));
        await(started);
        AtomicBoolean statusKept = new AtomicBoolean();
        Thread closer = TestRuntime.startAndAwaitParked("closer", () -> {
            t.rt.close();
            statusKept.set(Thread.currentThread().isInterrupted());
        });
        closer.interrupt();
        join(closer);
        assertThat(statusKept).isTrue();
        assertThat(t.reports).anySatisfy(r -> assertThat(r).contains("was interrupted").contains("'long' of queue 'q'"));
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).untilTrue(interrupted);
    }

    @Test
    void timedWaitsReturnFalseAtTheTimeoutAndTrueOnceDone() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Work running = blocking("running", started, release, new AtomicBoolean());
            q.queue(running);
            await(started);
            assertThat(q.flush(Duration.ofMillis(20))).isFalse();
            assertThat(q.drain(Duration.ofMillis(20))).isFalse();
            assertThat(running.flush(Duration.ofMillis(20))).isFalse();
            assertThat(running.cancelSync(Duration.ZERO)).isFalse();
            // Giving up changed nothing: the drain is over, other callers may queue again.
            CountDownLatch other = new CountDownLatch(1);
            Work second = new Work("second", other::countDown);
            assertThat(q.queue(second)).isTrue();
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> q.flush(Duration.ofSeconds(BOUND_S))).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).isFalse();
            release.countDown();
            assertThat(running.flush(Duration.ofSeconds(BOUND_S))).isTrue();
            assertThat(q.flush(Duration.ofSeconds(BOUND_S))).isTrue();
            await(other);
            assertThat(q.drain(Duration.ofSeconds(BOUND_S))).isTrue();
            assertThat(running.cancelSync(Duration.ofSeconds(BOUND_S))).isTrue();
            assertThat(running.isPending()).isFalse();
            assertThat(running.disableDepth()).isZero();
        }
    }

    @Test
    void timedCancelSyncCancelsAPendingInstance() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue ordered = t.queue("ord").ordered().build();
            CountDownLatch release = new CountDownLatch(1);
            TestRuntime.blockOrdered(ordered, release);
            AtomicBoolean ran = new AtomicBoolean();
            Work w = new Work("waiting", () -> ran.set(true));
            ordered.queue(w);
            assertThat(w.cancelSync(Duration.ZERO)).isTrue();
            assertThat(w.isPending()).isFalse();
            release.countDown();
            ordered.flush();
            assertThat(ran).isFalse();
        }
    }
}
