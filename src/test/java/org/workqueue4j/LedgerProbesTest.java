package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial probes of the public queue API written from the README's promises: first the
 * ones that pin a defect {@link LedgerTest} (or writing it) found, then the probes that held
 * (interrupts kept by uninterruptible waits, Duration extremes, many delayed items, operations
 * from inside items, two runtimes, close during a timed wait, FIFO after cancel, maxActive
 * growth, freezing), kept as regression tests. Deterministic: gates, test hooks and
 * "eventually" waits only; a timed wait is only asserted false where nothing can finish.
 */
class LedgerProbesTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        Thread.interrupted(); // a probe that failed half-way must not leave its interrupt to close()
        t.close();
    }

    /** Queues an item that runs until {@code release} opens, and returns once it runs. */
    private static void runGate(WorkQueue q, CountDownLatch release) {
        CountDownLatch started = new CountDownLatch(1);
        q.queue(new Work("gate", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
    }

    /**
     * {@code queueDelayed} with a delay is accepted while the queue drains (only an immediate
     * queue is refused then); when its timer expires before the drain ends, the expiry is not
     * chained work, and the drain refuses it as the kernel's {@code __queue_work} does (WARN and
     * drop): the item does not run, and the uncaught-work handler hears of it, naming the queue
     * and the item; the queue lives on after the drain. (Accepting it, as a first fix did, let an
     * outside thread keep a drain going with queueDelayed.)
     */
    @Test
    void delayedItemWhoseTimerExpiresDuringADrainIsRefusedAndReported() throws Exception {
        WorkQueue q = t.queue("q").unbound().build();
        CountDownLatch release = new CountDownLatch(1);
        runGate(q, release);
        // draining, the gate still runs: its flush covered by a flip (WAITING alone may be a pool lock on the way in)
        Thread drainer = TestRuntime.startAndAwaitAt("drainer", q::drain, "flush.waiting");
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("expires-while-draining", runs::incrementAndGet);
        assertThat(q.queueDelayed(dw, Duration.ofMillis(1))).isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !t.errors.isEmpty());
        release.countDown();
        drainer.join(30_000);
        assertThat(drainer.isAlive()).isFalse();
        assertRefusedAndReported(q, dw, runs);
    }

    /** As above, for the other way a timer expires: a flush that fires an armed item now, mid-drain. */
    @Test
    void delayedItemFlushedDuringADrainIsRefusedAndReported() throws Exception {
        WorkQueue q = t.queue("q").unbound().build();
        CountDownLatch release = new CountDownLatch(1);
        runGate(q, release);
        // draining: its flush covered by a flip (WAITING alone may be a pool lock on the way in, before the drain began)
        Thread drainer = TestRuntime.startAndAwaitAt("drainer", q::drain, "flush.waiting");
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("flushed-while-draining", runs::incrementAndGet);
        assertThat(q.queueDelayed(dw, Duration.ofHours(1))).isTrue();
        assertThat(dw.flush(Duration.ofSeconds(30))).isTrue(); // fires it now: refused, so nothing left to wait for
        release.countDown();
        drainer.join(30_000);
        assertThat(drainer.isAlive()).isFalse();
        assertRefusedAndReported(q, dw, runs);
    }

    /** {@code dw} never ran, is idle, was reported once naming queue and item, and the queue still runs items. */
    private void assertRefusedAndReported(WorkQueue q, DelayedWork dw, AtomicInteger runs) throws Exception {
        q.flush();
        assertThat(runs.get()).as("the refused expiry did not run").isZero();
        assertThat(dw.isPending()).isFalse();
        assertThat(t.errors).as("reported once").hasSize(1);
        assertThat(String.valueOf(t.errors.get(0))).contains("is draining").contains(dw.name()).contains(q.name());
        AtomicInteger after = new AtomicInteger();
        assertThat(q.queue(new Work("after", after::incrementAndGet))).isTrue();
        q.flush();
        assertThat(after.get()).isEqualTo(1);
    }

    /**
     * While {@code cancelSync()} waits for a running instance, the item counts as disabled (the
     * kernel's cancel_work_sync): a {@code queue} from another thread returns false and queues
     * nothing, so no run follows it. The javadoc's "a false return found an instance that had
     * not started yet, and it is that run" must say so; this pins the behaviour it describes.
     */
    @Test
    void queueRacingCancelSyncReturnsFalseAndNoRunFollows() throws Exception {
        WorkQueue q = t.queue("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", () -> {
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                WorkQueueCoreTest.await(release);
            }
        });
        assertThat(q.queue(w)).isTrue();
        WorkQueueCoreTest.await(started);
        // waiting behind the running item (its barrier linked, the item disabled before): WAITING alone may be a pool lock
        Thread canceller = TestRuntime.startAndAwaitAt("canceller", w::cancelSync, "flush.barrierLinked");
        assertThat(w.disableDepth()).as("disabled while cancelSync waits").isEqualTo(1);
        assertThat(q.queue(w)).isFalse();
        assertThat(w.isPending()).isFalse();
        release.countDown();
        canceller.join(30_000);
        assertThat(canceller.isAlive()).isFalse();
        assertThat(w.disableDepth()).isZero();
        q.flush();
        assertThat(runs.get()).isEqualTo(1);
    }


    // ---- probes of README promises that held (kept as regression tests) ----

    @Test
    void interruptKeptByUninterruptibleWaitsOnIdleThings() {
        WorkQueue q = t.queue("q").build();
        Work w = new Work("w", () -> { });
        DelayedWork dw = new DelayedWork("dw", () -> { });
        Thread.currentThread().interrupt();
        q.flush();
        assertThat(Thread.currentThread().isInterrupted()).as("flush").isTrue();
        w.flush();
        assertThat(Thread.currentThread().isInterrupted()).as("w.flush").isTrue();
        w.cancelSync();
        assertThat(Thread.currentThread().isInterrupted()).as("cancelSync").isTrue();
        w.disableSync();
        w.enable();
        assertThat(Thread.currentThread().isInterrupted()).as("disableSync").isTrue();
        dw.flush();
        assertThat(Thread.currentThread().isInterrupted()).as("dw.flush").isTrue();
        q.drain();
        assertThat(Thread.currentThread().isInterrupted()).as("drain").isTrue();
        t.rt.freeze();
        t.rt.thaw();
        assertThat(Thread.currentThread().isInterrupted()).as("freeze").isTrue();
        t.rt.scheduleOnEachCpu(() -> { });
        assertThat(Thread.currentThread().isInterrupted()).as("scheduleOnEachCpu").isTrue();
        q.queue(w);
        q.flush();
        assertThat(Thread.currentThread().isInterrupted()).as("busy flush").isTrue();
        assertThat(q.queueDelayed(dw, Duration.ofHours(1))).isTrue();
        assertThat(dw.flush()).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).as("armed dw.flush").isTrue();
        q.destroy();
        assertThat(Thread.currentThread().isInterrupted()).as("destroy").isTrue();
        Thread.interrupted();
    }

    @Test
    void hugeDelayDoesNotBlockShortOnes() throws Exception {
        WorkQueue q = t.queue("q").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork huge = new DelayedWork("huge", runs::incrementAndGet);
        DelayedWork huge2 = new DelayedWork("huge2", runs::incrementAndGet);
        DelayedWork shortOne = new DelayedWork("short", runs::incrementAndGet);
        assertThat(q.queueDelayed(huge, Duration.ofNanos(Long.MAX_VALUE))).isTrue();
        assertThat(q.queueDelayed(huge2, Duration.ofDays(365L * 292))).isTrue();
        assertThat(q.queueDelayed(shortOne, Duration.ofMillis(1))).isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() == 1);
        assertThat(q.modDelayed(huge, Duration.ofMillis(1))).isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() == 2);
        assertThat(huge2.isTimerArmed()).isTrue();
        assertThat(huge2.cancel()).isTrue();
        assertThat(runs.get()).isEqualTo(2);
    }

    @Test
    void manyDelayedItemsRunOnceAndNeverEarly() throws Exception {
        WorkQueue q = t.queue("q").unbound().build();
        int n = 10_000;
        AtomicLong early = new AtomicLong();
        AtomicInteger runs = new AtomicInteger();
        List<DelayedWork> items = new ArrayList<>();
        long[] deadline = new long[n];
        AtomicInteger[] count = new AtomicInteger[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i++) {
            int id = i;
            count[i] = new AtomicInteger();
            items.add(new DelayedWork("d" + i, () -> {
                if (System.nanoTime() - deadline[id] < 0) {
                    early.incrementAndGet();
                }
                count[id].incrementAndGet();
                runs.incrementAndGet();
            }));
        }
        int cancelled = 0;
        for (int i = 0; i < n; i++) {
            long d = r.nextInt(50_000_000);
            deadline[i] = System.nanoTime() + d;
            assertThat(q.queueDelayed(items.get(i), Duration.ofNanos(d))).isTrue();
        }
        for (int i = 0; i < n; i += 3) {
            if (items.get(i).cancel()) {
                cancelled++;
                count[i].decrementAndGet();
            }
        }
        int c = cancelled;
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> runs.get() + c == n);
        q.flush();
        assertThat(early.get()).isZero();
        for (int i = 0; i < n; i++) {
            assertThat(count[i].get()).as("d%d", i).isBetween(-1, 1);
        }
        assertThat(runs.get() + cancelled).isEqualTo(n);
    }

    @Test
    void timedCancelSyncRestoresDisableCount() throws Exception {
        WorkQueue q = t.queue("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w = new Work("w", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        });
        q.queue(w);
        WorkQueueCoreTest.await(started);
        assertThat(q.queue(w)).isTrue();
        assertThat(w.cancelSync(Duration.ZERO)).isFalse();
        assertThat(w.disableDepth()).isZero();
        assertThat(w.isPending()).isFalse();
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> w.cancelSync(Duration.ofSeconds(5))).isInstanceOf(InterruptedException.class);
        assertThat(w.disableDepth()).isZero();
        assertThat(q.queue(w)).isTrue();
        w.disable();
        assertThat(w.cancelSync(Duration.ZERO)).isFalse();
        assertThat(w.disableDepth()).isEqualTo(1);
        w.enable();
        release.countDown();
        q.flush();
    }

    @Test
    void operationsAfterCloseThrowNamingQueueAndItem() {
        WorkQueue q = t.queue("qq").build();
        DelayedWork dw = new DelayedWork("dd", () -> { });
        Work w = new Work("ww", () -> { });
        t.rt.close();
        assertThatThrownBy(() -> q.queue(w)).isInstanceOf(IllegalStateException.class).hasMessageContaining("'qq'").hasMessageContaining("ww");
        assertThatThrownBy(() -> q.queueDelayed(dw, Duration.ofMillis(5))).isInstanceOf(IllegalStateException.class).hasMessageContaining("'qq'").hasMessageContaining("dd");
        assertThatThrownBy(() -> q.modDelayed(dw, Duration.ofMillis(5))).isInstanceOf(IllegalStateException.class).hasMessageContaining("'qq'").hasMessageContaining("dd");
        assertThatThrownBy(() -> q.modDelayed(dw, Duration.ZERO)).isInstanceOf(IllegalStateException.class);
        assertThat(dw.isPending()).isFalse();
        assertThat(w.isPending()).isFalse();
        assertThatThrownBy(() -> t.rt.queueBuilder("x").build()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> t.rt.system()).isInstanceOf(IllegalStateException.class);
        q.flush();
        assertThat(q.flushAsync()).isDone();
        w.flush();
        w.cancelSync();
        dw.flush();
        t.rt.freeze();
        t.rt.thaw();
    }

    @Test
    void modDelayedOfARunningItemRunsItAgainAfter() throws Exception {
        WorkQueue q = t.queue("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger overlap = new AtomicInteger();
        AtomicInteger in = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", () -> {
            if (in.incrementAndGet() != 1) {
                overlap.incrementAndGet();
            }
            if (runs.incrementAndGet() == 1) {
                started.countDown();
                WorkQueueCoreTest.await(release);
            }
            in.decrementAndGet();
        });
        q.queue(dw);
        WorkQueueCoreTest.await(started);
        assertThat(q.modDelayed(dw, Duration.ZERO)).isFalse();
        assertThat(q.modDelayed(dw, Duration.ZERO)).isTrue();
        assertThat(q.modDelayed(dw, Duration.ofMillis(1))).isTrue();
        assertThat(dw.isTimerArmed()).isTrue();
        release.countDown();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() == 2);
        q.flush();
        assertThat(overlap.get()).isZero();
        assertThat(runs.get()).isEqualTo(2);
    }

    @Test
    void itemsCallingWaitsOnOtherQueuesAndItself() throws Exception {
        WorkQueue a = t.queue("a").build();
        WorkQueue b = t.queue("b").unbound().build();
        AtomicReference<Throwable> err = new AtomicReference<>();
        AtomicInteger bRuns = new AtomicInteger();
        Work bw = new Work("bw", bRuns::incrementAndGet);
        Work aw = new Work("aw", () -> {
            try {
                b.queue(bw);
                b.drain();
                assertThat(bRuns.get()).isEqualTo(1);
                assertThat(Work.current()).isNotNull();
                assertThat(Work.current().name()).isEqualTo("aw");
                a.setMaxActive(3);
                assertThatThrownBy(a::drain).isInstanceOf(IllegalStateException.class);
                assertThatThrownBy(a::flush).isInstanceOf(IllegalStateException.class);
                assertThatThrownBy(() -> a.flush(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
                assertThatThrownBy(() -> a.drain(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
                assertThatThrownBy(a::destroy).isInstanceOf(IllegalStateException.class);
                assertThat(a.isDestroyed()).isFalse();
                t.rt.freeze();
                t.rt.thaw();
                b.flush(Duration.ofSeconds(5));
            } catch (Throwable e) {
                err.set(e);
            }
        });
        a.queue(aw);
        a.flush();
        assertThat(err.get()).isNull();
        assertThat(a.maxActive()).isEqualTo(3);
        Work again = new Work("again", () -> { });
        assertThat(a.queue(again)).isTrue();
        a.flush();
    }

    @Test
    void outsideZeroDelayDuringDrainIsRefusedAndChangesNothing() throws Exception {
        WorkQueue q = t.queue("q").build();
        CountDownLatch release = new CountDownLatch(1);
        runGate(q, release);
        // draining: its flush covered by a flip (WAITING alone may be a pool lock on the way in, before the drain began)
        Thread drainer = TestRuntime.startAndAwaitAt("drainer", q::drain, "flush.waiting");
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        assertThat(q.queueDelayed(dw, Duration.ofHours(1))).isTrue();
        assertThatThrownBy(() -> q.modDelayed(dw, Duration.ZERO)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'q'").hasMessageContaining("dw");
        assertThat(dw.isTimerArmed()).isTrue();
        DelayedWork dz = new DelayedWork("dz", runs::incrementAndGet);
        assertThatThrownBy(() -> q.queueDelayed(dz, Duration.ZERO)).isInstanceOf(IllegalStateException.class);
        assertThat(dz.isPending()).isFalse();
        assertThat(q.modDelayed(dw, Duration.ofHours(2))).as("a re-arm during the drain: the timer only").isTrue();
        release.countDown();
        drainer.join(10_000);
        assertThat(drainer.isAlive()).isFalse();
        // Fired only now, after the drain (a short delay could expire while the drain still ran,
        // and be refused and reported, on a loaded machine).
        assertThat(q.modDelayed(dw, Duration.ZERO)).as("still armed").isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() == 1);
        assertThat(t.errors).isEmpty();
    }

    @Test
    void flushOfASelfRearmingDelayedItemReturns() throws Exception {
        WorkQueue q = t.queue("q").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork[] box = new DelayedWork[1];
        box[0] = new DelayedWork("periodic", () -> {
            runs.incrementAndGet();
            q.modDelayed(box[0], Duration.ofMillis(1));
        });
        q.queueDelayed(box[0], Duration.ofMillis(1));
        for (int i = 0; i < 50; i++) {
            int before = runs.get();
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () -> box[0].flush());
            assertThat(runs.get()).isGreaterThan(before);
            assertThat(box[0].flush(Duration.ofSeconds(10))).isTrue();
            assertThat(box[0].flushAsync().get(10, TimeUnit.SECONDS)).isNotNull();
        }
        assertThat(box[0].cancelSync()).isIn(true, false);
        int r = runs.get();
        assertThat(box[0].isPending()).isFalse();
        q.flush();
        assertThat(runs.get()).isEqualTo(r);
    }

    @Test
    void closeWhileATimedFlushWaitsLetsItReturnTrue() throws Exception {
        WorkQueue q = t.queue("q").build();
        CountDownLatch release = new CountDownLatch(1);
        runGate(q, release);
        AtomicReference<Object> res = new AtomicReference<>();
        Thread f = TestRuntime.startAndAwaitAt("flusher", () -> {
            try {
                res.set(q.flush(Duration.ofSeconds(30)));
            } catch (Throwable e) {
                res.set(e);
            }
        }, "flush.waiting"); // covered by a flip before the close begins: not a thread state (a pool lock looks the same)
        Thread closer = new Thread(t.rt::close);
        closer.start();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> closer.getState() != Thread.State.RUNNABLE);
        release.countDown();
        closer.join(20_000);
        f.join(20_000);
        assertThat(res.get()).isEqualTo(Boolean.TRUE);
    }

    @Test
    void orderedFifoAfterCancelAndRequeue() throws Exception {
        WorkQueue q = t.queue("o").ordered().build();
        List<String> ran = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        Work a = new Work("A", () -> ran.add("A"));
        Work b = new Work("B", () -> ran.add("B"));
        DelayedWork c = new DelayedWork("C", () -> ran.add("C"));
        q.queue(a);
        q.queue(b);
        q.modDelayed(c, Duration.ZERO);
        assertThat(a.cancel()).isTrue();
        q.queue(a);
        assertThat(q.modDelayed(c, Duration.ZERO)).isTrue();
        release.countDown();
        q.flush();
        assertThat(ran).containsExactly("B", "A", "C");
    }

    @Test
    void crossRuntimeDelayedMoves() throws Exception {
        try (TestRuntime t2 = new TestRuntime()) {
            WorkQueue a = t.queue("a").build();
            WorkQueue b = t2.queue("b").build();
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<String> thread = new AtomicReference<>();
            DelayedWork dw = new DelayedWork("x", () -> { runs.incrementAndGet(); thread.set(Thread.currentThread().getName()); });
            assertThat(a.queueDelayed(dw, Duration.ofHours(1))).isTrue();
            assertThat(b.modDelayed(dw, Duration.ofHours(2))).isTrue();
            assertThat(dw.isTimerArmed()).isTrue();
            t.rt.close(); // a's runtime: must not report or fire the moved item
            assertThat(t.errors).isEmpty();
            assertThat(dw.isTimerArmed()).isTrue();
            assertThat(dw.flush()).isTrue();
            assertThat(runs.get()).isEqualTo(1);
            assertThat(thread.get()).startsWith("wq-" + t2.rt.name() + "/");
            assertThat(b.queueDelayedOn(1, dw, Duration.ofMillis(1))).isTrue();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() == 2);
            assertThat(thread.get()).contains("kworker/1:");
            assertThat(dw.cancel()).isFalse();
        }
    }

    @Test
    void raisingMaxActiveActivatesWaitingItemsAndStatsAgree() throws Exception {
        WorkQueue q = t.queue("u").unbound().maxActive(1).build();
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        List<Work> ws = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ws.add(new Work("w" + i, () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                WorkQueueCoreTest.await(release);
                running.decrementAndGet();
            }));
            q.queue(ws.get(i));
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> running.get() == 1);
        WorkQueueStats st = q.stats();
        assertThat(st.inactive()).as(st.toString()).isEqualTo(4);
        assertThat(st.running()).as(st.toString()).isEqualTo(1);
        q.setMaxActive(3);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> running.get() == 3);
        st = q.stats();
        assertThat(st.inactive()).as(st.toString()).isEqualTo(2);
        q.setMaxActive(1);
        release.countDown();
        q.flush();
        assertThat(maxRunning.get()).isEqualTo(3);
        st = q.stats();
        assertThat(st.inactive() + st.pending() + st.running()).as(st.toString()).isZero();
    }

    @Test
    void perCpuMaxActiveIsPerPool() throws Exception {
        WorkQueue q = t.queue("p").maxActive(1).build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch two = new CountDownLatch(2);
        AtomicInteger third = new AtomicInteger();
        q.queueOn(0, new Work("c0", () -> { two.countDown(); WorkQueueCoreTest.await(release); }));
        q.queueOn(1, new Work("c1", () -> { two.countDown(); WorkQueueCoreTest.await(release); }));
        WorkQueueCoreTest.await(two);
        q.queueOn(0, new Work("c0b", third::incrementAndGet));
        assertThat(q.flush(Duration.ofMillis(50))).isFalse();
        assertThat(third.get()).isZero();
        release.countDown();
        q.flush();
        assertThat(third.get()).isEqualTo(1);
    }

    @Test
    void frozenQueueHoldsNewItemsAndTimedFlushFails() throws Exception {
        WorkQueue q = t.queue("f").freezable().build();
        WorkQueue plain = t.queue("p").build();
        AtomicInteger runs = new AtomicInteger();
        t.rt.freeze();
        Work w = new Work("w", runs::incrementAndGet);
        assertThat(q.queue(w)).isTrue();
        DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
        q.queueDelayed(dw, Duration.ofMillis(1));
        Work p = new Work("p", runs::incrementAndGet);
        plain.queue(p);
        plain.flush();
        assertThat(runs.get()).isEqualTo(1);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !dw.isTimerArmed());
        assertThat(q.flush(Duration.ofMillis(20))).isFalse();
        assertThat(w.flush(Duration.ofMillis(20))).isFalse();
        assertThat(q.drain(Duration.ofMillis(20))).isFalse();
        assertThat(q.queue(new Work("after-timed-drain", runs::incrementAndGet))).isTrue();
        assertThat(runs.get()).isEqualTo(1);
        WorkQueue late = t.queue("late").freezable().build();
        Work lw = new Work("lw", runs::incrementAndGet);
        late.queue(lw);
        assertThat(lw.flush(Duration.ofMillis(20))).isFalse();
        t.rt.thaw();
        q.flush();
        late.flush();
        assertThat(runs.get()).isEqualTo(5);
    }

    @Test
    void armedItemMovedByModDelayedIsNotReportedByTheFirstQueuesDestroy() throws Exception {
        WorkQueue a = t.queue("a").build();
        WorkQueue b = t.queue("b").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork("mv", runs::incrementAndGet);
        assertThat(a.queueDelayed(dw, Duration.ofHours(1))).isTrue();
        assertThat(b.modDelayed(dw, Duration.ofMillis(50))).isTrue();
        a.destroy();
        assertThat(t.errors).isEmpty();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() == 1);
    }
}
