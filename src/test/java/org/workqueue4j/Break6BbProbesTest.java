package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class Break6BbProbesTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(5)));

    @AfterEach
    void close() {
        t.close();
    }

    static void await(CountDownLatch l) {
        try {
            assertTrue(l.await(20, SECONDS));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void orderedSelfRequeueGoesToTheBack() throws Exception {
        WorkQueue q = t.queue("ord").ordered().build();
        List<String> order = new CopyOnWriteArrayList<>();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger n = new AtomicInteger();
        Work[] a = new Work[1];
        a[0] = new Work("a", () -> {
            int k = n.incrementAndGet();
            order.add("a" + k);
            if (k == 1) {
                started.countDown();
                await(release);
                assertTrue(q.queue(a[0]));
            }
        });
        assertTrue(q.queue(a[0]));
        await(started);
        assertTrue(q.queue(new Work("b", () -> order.add("b"))));
        release.countDown();
        q.flush();
        q.flush();
        assertEquals(List.of("a1", "b", "a2"), order);
    }

    @Test
    void orderedQueueOnDifferentCpusIsFifo() throws Exception {
        WorkQueue q = t.queue("ord2").ordered().build();
        List<Integer> order = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        for (int i = 0; i < 20; i++) {
            int k = i;
            assertTrue(q.queueOn(i % 2, new Work("w" + i, () -> order.add(k))));
        }
        release.countDown();
        q.flush();
        List<Integer> exp = new ArrayList<>();
        for (int i = 0; i < 20; i++) exp.add(i);
        assertEquals(exp, order);
    }

    @Test
    void interruptedDrainEndsTheDrain() throws Exception {
        WorkQueue q = t.queue("dr").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("gate", () -> { started.countDown(); await(release); }));
        await(started);
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> q.drain(Duration.ofSeconds(10)));
        assertFalse(Thread.currentThread().isInterrupted());
        assertTrue(q.queue(new Work("after", () -> { })), "a drain that gave up accepts every caller again");
        release.countDown();
        q.flush();
    }

    @Test
    void flushOfADestroyedQueueReturns() throws Exception {
        WorkQueue q = t.queue("dd").build();
        q.queue(new Work("x", () -> { }));
        q.destroy();
        q.flush();
        assertTrue(q.flush(Duration.ofSeconds(5)));
        assertTrue(q.flushAsync().isDone());
        q.drain();
        assertTrue(q.drain(Duration.ofSeconds(1)));
        q.destroy();
    }

    /** Many flushAsync on a frozen queue (more than the colours), each with an item queued before it. */
    @Test
    void manyAsyncFlushesOnAFrozenQueueEachWaitForTheirItems() throws Exception {
        WorkQueue q = t.queue("fz").freezable().build();
        t.rt.freeze();
        int n = 40;
        AtomicIntegerArray done = new AtomicIntegerArray(n);
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        List<String> bad = new CopyOnWriteArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            assertTrue(q.queue(new Work("i" + i, () -> done.set(k, 1))));
            CompletableFuture<Void> f = q.flushAsync();
            fs.add(f.whenComplete((v, e) -> {
                for (int j = 0; j <= k; j++) {
                    if (done.get(j) == 0) bad.add("flush " + k + " completed before item " + j);
                }
            }));
        }
        assertFalse(q.flush(Duration.ofMillis(50)));
        for (CompletableFuture<Void> f : fs) assertFalse(f.isDone());
        t.rt.thaw();
        for (CompletableFuture<Void> f : fs) f.get(20, SECONDS);
        assertEquals(List.of(), bad);
    }

    /** Blocking flushers beyond the colours, interleaved with items, on a frozen queue. */
    @Test
    void manyBlockingFlushersOnAFrozenQueue() throws Exception {
        WorkQueue q = t.queue("fz2").freezable().build();
        t.rt.freeze();
        int n = 24;
        AtomicIntegerArray done = new AtomicIntegerArray(n);
        List<String> bad = new CopyOnWriteArrayList<>();
        List<Thread> ths = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            assertTrue(q.queue(new Work("i" + i, () -> done.set(k, 1))));
            Thread th = TestRuntime.startAndAwaitParked("fl" + i, () -> {
                q.flush();
                for (int j = 0; j <= k; j++) {
                    if (done.get(j) == 0) bad.add("flush " + k + " returned before item " + j);
                }
            });
            ths.add(th);
        }
        t.rt.thaw();
        for (Thread th : ths) { th.join(20000); assertFalse(th.isAlive()); }
        assertEquals(List.of(), bad);
    }

    @Test
    void cancelSyncOfAnItemHeldByAFreeze() throws Exception {
        WorkQueue q = t.queue("fz3").freezable().build();
        t.rt.freeze();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        assertTrue(q.queue(w));
        assertEquals(Work.BUSY_PENDING, w.busy());
        assertFalse(w.flush(Duration.ofMillis(50)));
        assertTrue(w.cancelSync(Duration.ofSeconds(5)));
        assertFalse(w.isPending());
        assertTrue(q.queue(w));
        assertTrue(w.cancelSync());
        t.rt.thaw();
        q.flush();
        assertEquals(0, runs.get());
    }
}
