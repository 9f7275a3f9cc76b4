package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * Attacks on the rescuer's batch (Rescuer.rescuing: a mayday for the pwq whose batch runs is not
 * queued, the batch's end decides): a batch whose first item throws an Error, or during which
 * the queue is destroyed, while a mayday for that pwq arrives and is dropped. The starved pool
 * (its thread factory is stuck) must still see every item of the memReclaim queue run.
 */
class RescuerAttackTest {
    private static final long BOUND_S = 20;
    /** More than one batch: the rest runs only if the pwq goes back on the mayday list. */
    private static final int ITEMS = Rescuer.BATCH * 2 + 3;

    private static void await(CountDownLatch l) {
        try {
            assertThat(l.await(BOUND_S, TimeUnit.SECONDS)).as("latch within %ss", BOUND_S).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** A starved memReclaim queue with ITEMS items on CPU 0, the first held until {@code go}; returns at the first run. */
    private static final class Starved implements AutoCloseable {
        final AtomicBoolean armed = new AtomicBoolean();
        final CountDownLatch factoryRelease = new CountDownLatch(1);
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        /** What ended a thread of this runtime. */
        final List<Throwable> threadDeaths = new CopyOnWriteArrayList<>();
        final AtomicInteger done = new AtomicInteger();
        final CountDownLatch allDone = new CountDownLatch(ITEMS);
        final CountDownLatch inBatch = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);
        final WqRuntime rt;
        final WorkqueueStruct q;
        /** The first item, held until {@code go}. */
        WorkNode first;

        Starved(Throwable firstThrows) {
            ThreadFactory f = r -> {
                if (armed.get()) {
                    await(factoryRelease); // pool workers cannot be made: the pool stays starved
                }
                Thread t = new Thread(r);
                t.setUncaughtExceptionHandler((th, e) -> threadDeaths.add(e)); // not the test JVM's
                return t;
            };
            rt = new WqRuntime("rescue-attack", 2, f, Thread.currentThread().getThreadGroup(), Duration.ofSeconds(300).toNanos(),
                    (wq, n, e) -> errors.add(e), Duration.ofMillis(10).toNanos(), Duration.ofSeconds(300).toNanos(), null,
                    LockDependencyValidator.disabled(), org.workqueue4j.FlushAnnotation.SKIP_NEVER_USED, 64);
            q = rt.newQueue(null, "rq", WorkqueueStruct.WQ_MEM_RECLAIM, 1024, null);
            armed.set(true);
            for (int i = 0; i < ITEMS; i++) {
                boolean first = i == 0;
                WorkNode w = new TestNode("c0-" + i, () -> {
                    done.incrementAndGet();
                    allDone.countDown();
                    if (first) {
                        inBatch.countDown();
                        await(go);
                        if (firstThrows instanceof Error e) {
                            throw e;
                        }
                    }
                });
                if (first) {
                    this.first = w;
                }
                assertThat(Pending.claim(w)).isTrue();
                q.insertClaimed(0, w);
            }
            await(inBatch); // the rescuer runs CPU 0's pwq's first batch
        }

        /** The mayday timer fires for the still-starved pool during the batch: this mayday is dropped. */
        void maydayDuringTheBatch() {
            WorkerPool pool0 = q.pwqs[0].pool;
            pool0.lock.lock();
            try {
                pool0.sendMaydays();
            } finally {
                pool0.lock.unlock();
            }
        }

        @Override
        public void close() {
            TestHooks.install(null);
            go.countDown();
            factoryRelease.countDown();
            rt.close(Duration.ofSeconds(BOUND_S));
        }
    }

    /*
     * Guard: an Error from a rescued item is the handler's (the worker's execute catches it), so
     * the batch goes on and its end puts the pwq back; it would fail (items left unrun after 20 s)
     * if the Error ended the batch with `rescuing` left set (every later mayday dropped) or killed
     * the rescuer.
     */
    @Test
    void anErrorThrownByARescuedItemDoesNotStopTheRescue() {
        OutOfMemoryError thrown = new OutOfMemoryError("thrown by the item");
        try (Starved s = new Starved(thrown)) {
            s.maydayDuringTheBatch();
            s.go.countDown();
            await(s.allDone);
            assertThat(s.done).hasValue(ITEMS);
            assertThat(s.errors).containsExactly(thrown);
        }
    }

    /*
     * Guard: a destroy of the memReclaim queue while its rescuer is in a batch (a mayday for it
     * dropped meanwhile) drains through the rescuer and returns; it would hang (bounded here at
     * 20 s) if the batch's end did not put the pwq back, or if the stop asked by the destroy
     * ended the rescuer with maydays left.
     */
    @Test
    void aDestroyDuringABatchDrainsThroughTheRescuer() throws Exception {
        try (Starved s = new Starved(null)) {
            s.maydayDuringTheBatch();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread destroyer = new Thread(() -> {
                try {
                    s.q.destroy();
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "destroyer");
            destroyer.start();
            s.go.countDown();
            destroyer.join(TimeUnit.SECONDS.toMillis(BOUND_S));
            assertThat(destroyer.isAlive()).as("destroy() returned").isFalse();
            assertThat(failed.get()).isNull();
            assertThat(s.done).hasValue(ITEMS);
            assertThat(s.errors).isEmpty();
        }
    }

    /*
     * A flush of the rescued item, made while it runs, puts its barrier on the rescuer's own
     * scheduled list (as for any worker running the item). An Error that ends the rescuer's
     * batch after the item (an allocation failure in the engine's accounting) must not take
     * that barrier with it: it goes back to the pool's worklist, and the flush returns. The
     * rescuer outlives the Error (Rescuer.loop logs it and goes on; it used to end the thread,
     * and a memReclaim queue then had no rescuer for good). Before the hand-back the barrier
     * stayed on the rescuer's list and the flush never returned.
     */
    @Test
    void aBarrierHandedToTheRescuerSurvivesAnErrorEndingItsBatch() throws Exception {
        try (Starved s = new Starved(null)) {
            WorkerPool pool0 = s.q.pwqs[0].pool;
            Worker rescuer = s.q.rescuer.worker();
            AtomicBoolean kill = new AtomicBoolean(true);
            TestHooks.install((point, subject) -> {
                if (point.equals("worker.itemEnd") && subject == s.first && kill.compareAndSet(true, false)) {
                    throw new OutOfMemoryError("injected: the rescue batch ends after its item ran");
                }
            });
            AtomicReference<Object> flushed = new AtomicReference<>();
            Thread flusher = new Thread(() -> {
                try {
                    flushed.set(Barrier.flushWork(s.first, false));
                } catch (Throwable e) {
                    flushed.set(e);
                }
            }, "flusher");
            flusher.start();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> {
                pool0.lock.lock();
                try {
                    return rescuer.scheduled.first() instanceof Barrier;
                } finally {
                    pool0.lock.unlock();
                }
            });
            s.go.countDown(); // the item ends; the injected Error ends the rescuer's batch
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> !kill.get());
            s.factoryRelease.countDown(); // the pool can make workers again
            flusher.join(TimeUnit.SECONDS.toMillis(BOUND_S));
            assertThat(flusher.isAlive()).as("the flush of the rescued item returned").isFalse();
            assertThat(flushed.get()).isEqualTo(Boolean.TRUE);
            assertThat(s.threadDeaths).as("the rescuer outlived the Error").isEmpty();
            assertThat(rescuerAlive(s)).as("the rescuer outlived the Error").isTrue();
            await(s.allDone);
            assertThat(s.done).hasValue(ITEMS);
        }
    }

    /** Its thread, set before its first pool lock: read after one (the barrier seen under it). */
    private static boolean rescuerAlive(Starved s) {
        Thread t = s.q.rescuer.worker().thread;
        return t != null && t.isAlive();
    }
}
