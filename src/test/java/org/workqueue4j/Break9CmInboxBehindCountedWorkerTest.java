package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.workqueue4j.internal.TestHooks;

/**
 * Items pushed lock-free to a per-CPU pool while its counted worker runs an item (they wait in
 * the inbox until the worker lands it: before its next item, when it blocks, at its batch's
 * end; an idle worker is not woken while one counts in nrRunning). The monitor is held at its scan (its tick lands
 * inboxes and would hide a stranded item), the idle timeout and CPU-intensive threshold are
 * ten minutes: a stranded item shows as a bounded wait (20 s) that fails.
 */
class Break9CmInboxBehindCountedWorkerTest {
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder()
            .cpus(2)
            .idleTimeout(Duration.ofMinutes(10))
            .cpuIntensiveThreshold(Duration.ofMinutes(10))
            .reportListener(s -> { })
            .threadFactory(r -> {
                Thread t = new Thread(r);
                threads.add(t);
                return t;
            })
            .uncaughtWorkHandler((q, w, e) -> errors.add(e))
            .build());
    private final AtomicBoolean holdMonitor = new AtomicBoolean();
    private final CountDownLatch monitorGo = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        monitorGo.countDown();
        TestHooks.install(null);
        rt.close();
    }

    private void holdMonitorAnd(TestHooks.Hook more) {
        TestHooks.install((point, subject) -> {
            if (point.equals("monitor.scan") && holdMonitor.get()) {
                await(monitorGo);
                return;
            }
            more.at(point, subject);
        });
        holdMonitor.set(true);
    }

    private void holdMonitor() {
        holdMonitorAnd((p, s) -> { });
    }

    static void await(CountDownLatch l) {
        try {
            if (!l.await(20, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not released within 20 s (left " + l.getCount() + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static void awaitRan(CountDownLatch l, String what) throws InterruptedException {
        assertTrue(l.await(20, TimeUnit.SECONDS), what + " (left: " + l.getCount() + ")");
    }

    /** Runs {@code r} on a new thread and joins it (bounded). */
    static void onThread(String name, Runnable r) throws InterruptedException {
        AtomicReference<Throwable> f = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                f.set(e);
            }
        }, name);
        t.start();
        t.join(20_000);
        assertFalse(t.isAlive(), name + " finished");
        if (f.get() != null) {
            throw new AssertionError(name + " threw", f.get());
        }
    }

    /**
     * A hook that counts down the latch named after the current thread when that thread waits:
     * a queue flush (or the drain or destroy built on it) once the flip covering it is made, a
     * {@code Work.flush()} once its barrier is linked. A thread's state would not tell: a thread
     * waiting a moment for a pool lock is WAITING too.
     */
    private static TestHooks.Hook waitsOf(Map<String, CountDownLatch> byThread) {
        return (point, subject) -> {
            if (point.equals("flush.waiting") || point.equals("flush.barrierLinked")) {
                CountDownLatch l = byThread.get(Thread.currentThread().getName());
                if (l != null) {
                    l.countDown();
                }
            }
        };
    }

    /**
     * Queues an item named {@code name} on CPU 0 of {@code q} that blocks its (counted) worker on
     * a plain latch, outside any library wait; returns once it runs. Count the latch down to
     * let it end.
     */
    private static CountDownLatch blockWorker(WorkQueue q, String name) {
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        q.queueOn(0, new Work(name, () -> {
            started.countDown();
            await(gate);
        }));
        await(started);
        return gate;
    }

    /** Warms the queue's `used` flag on CPU 0 (later items take the lock-free path); returns it. */
    private static WorkQueue warm(WorkQueue q) throws InterruptedException {
        CountDownLatch l = new CountDownLatch(1);
        q.queueOn(0, new Work("warm", l::countDown));
        awaitRan(l, "warm-up ran");
        return q;
    }

    /**
     * A gate item holds the counted worker on a plain latch; several producers push items to
     * two queues (one max_active 1) of the same pool; each producer's sequence must run in FIFO
     * order on the max_active 1 queue and every item must run once the gate opens.
     */
    @RepeatedTest(20)
    void pushesBehindPlainBlockedCountedWorkerAllRunInOrder() throws InterruptedException {
        WorkQueue q1 = warm(rt.queueBuilder("cm-q1").maxActive(1).build());
        WorkQueue q2 = warm(rt.queueBuilder("cm-q2").build());
        holdMonitor();
        CountDownLatch gate = blockWorker(q2, "gate");
        int producers = 4;
        int per = 25;
        CountDownLatch ran = new CountDownLatch(2 * producers * per);
        List<List<Integer>> seen = new ArrayList<>();
        AtomicInteger runs = new AtomicInteger();
        for (int p = 0; p < producers; p++) {
            seen.add(Collections.synchronizedList(new ArrayList<>()));
        }
        List<Thread> ts = new ArrayList<>();
        AtomicInteger refused = new AtomicInteger();
        for (int p = 0; p < producers; p++) {
            int pp = p;
            Thread t = new Thread(() -> {
                for (int i = 0; i < per; i++) {
                    int ii = i;
                    if (!q1.queueOn(0, new Work("p" + pp + "-" + i, () -> {
                        seen.get(pp).add(ii);
                        runs.incrementAndGet();
                        ran.countDown();
                    }))) {
                        refused.incrementAndGet();
                    }
                    if (!q2.queueOn(0, new Work("s" + pp + "-" + i, () -> {
                        runs.incrementAndGet();
                        ran.countDown();
                    }))) {
                        refused.incrementAndGet();
                    }
                }
            });
            ts.add(t);
            t.start();
        }
        for (Thread t : ts) {
            t.join(20_000);
        }
        gate.countDown();
        awaitRan(ran, "every item pushed behind the blocked counted worker ran (monitor held)");
        assertEquals(0, refused.get());
        for (int p = 0; p < producers; p++) {
            List<Integer> l = new ArrayList<>(seen.get(p));
            for (int i = 0; i < l.size(); i++) {
                assertEquals(i, l.get(i), "FIFO of producer " + p + ": " + l);
            }
        }
        q1.flush();
        q2.flush();
        assertEquals(2 * producers * per, runs.get(), "no item ran twice");
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /**
     * A batch on the worklist (queued under the gate), each item of which pushes items from
     * other threads (joined) and from its own thread: all run, FIFO per queue (max_active 1).
     */
    @RepeatedTest(20)
    void pushesDuringEveryItemOfABatchRunFifo() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-batch").maxActive(1).build());
        WorkQueue other = warm(rt.queueBuilder("cm-batch-other").build());
        holdMonitor();
        CountDownLatch gate = blockWorker(other, "gate");
        int n = 12;
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch ran = new CountDownLatch(n * 3);
        for (int i = 0; i < n; i++) {
            int k = i;
            // batch items on `other` (max_active 1024: all on the worklist at once)
            other.queueOn(0, new Work("b" + k, () -> {
                ran.countDown();
                Work side = new Work("side" + k, () -> {
                    order.add("side" + k);
                    ran.countDown();
                });
                try {
                    onThread("side-producer", () -> q.queueOn(0, side));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                q.queueOn(0, new Work("own" + k, () -> {
                    order.add("own" + k);
                    ran.countDown();
                }));
            }));
        }
        gate.countDown();
        awaitRan(ran, "every batch item and every item pushed during it ran (monitor held)");
        List<String> expect = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            expect.add("side" + i);
            expect.add("own" + i);
        }
        assertEquals(expect, new ArrayList<>(order), "FIFO on the max_active 1 queue");
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /**
     * The running item pushes many items (to its own queue and to another), then blocks in a
     * library wait on one of them (Work.flush / queue flush / cancelSync): the wait ends.
     */
    @RepeatedTest(20)
    void runningItemPushesThenWaitsInLibrary() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-self").build());
        WorkQueue r = warm(rt.queueBuilder("cm-r").build());
        holdMonitor();
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<String> bad = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        int n = 20;
        q.queueOn(0, new Work("parent", () -> {
            List<Work> mine = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Work w = new Work("c" + i, runs::incrementAndGet);
                mine.add(w);
                q.queueOn(0, w);
                r.queueOn(0, new Work("r" + i, runs::incrementAndGet));
            }
            if (!mine.get(n - 1).flush()) {
                bad.set("Work.flush of an inbox item returned false");
            }
            int afterWorkFlush = runs.get();
            if (afterWorkFlush < n) {
                bad.set("Work.flush returned before the q items ran: " + afterWorkFlush);
            }
            r.flush();
            if (runs.get() != 2 * n) {
                bad.set("r.flush returned before its items ran: " + runs.get());
            }
            Work late = new Work("late", () -> bad.set("cancelled item ran"));
            q.queueOn(0, late);
            Work later = new Work("later", runs::incrementAndGet);
            q.queueOn(0, later);
            if (!late.cancelSync()) {
                bad.set("cancelSync of an inbox item returned false");
            }
            if (!later.flush()) {
                bad.set("Work.flush of later returned false");
            }
            done.countDown();
        }));
        awaitRan(done, "the parent's library waits ended (monitor held)");
        assertEquals(null, bad.get());
        q.flush();
        assertEquals(2 * n + 1, runs.get());
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /**
     * Items in the inbox behind a plain-blocked counted worker; an outside flush, Work.flush,
     * cancel and dump look at them; the gate opens; the waits end with every item run.
     */
    @RepeatedTest(20)
    void outsideReadersSeeInboxBehindBlockedWorker() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-readers").build());
        WorkQueue g = warm(rt.queueBuilder("cm-readers-gate").build());
        CountDownLatch fLinked = new CountDownLatch(1);
        CountDownLatch qfWaits = new CountDownLatch(1);
        holdMonitorAnd(waitsOf(Map.of("f", fLinked, "qf", qfWaits)));
        CountDownLatch gate = blockWorker(g, "gate");
        AtomicInteger runs = new AtomicInteger();
        int n = 10;
        List<Work> ws = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Work w = new Work("x" + i, runs::incrementAndGet);
            ws.add(w);
            assertTrue(q.queueOn(0, w));
        }
        Work victim = new Work("victim", () -> runs.addAndGet(1000));
        assertTrue(q.queueOn(0, victim));
        Work tail = new Work("tail", runs::incrementAndGet);
        assertTrue(q.queueOn(0, tail));
        String dump = rt.dump();
        WorkQueuesDump data = rt.dumpData();
        boolean inDump = data.toString().contains("victim") || dump.contains("victim");
        assertTrue(inDump, "dump shows the pending inbox item: " + dump);
        assertTrue(victim.cancel(), "cancel of an item in the inbox");
        AtomicReference<Boolean> flushed = new AtomicReference<>();
        AtomicInteger seenAtFlush = new AtomicInteger(-1);
        Thread f = new Thread(() -> {
            flushed.set(tail.flush());
            seenAtFlush.set(runs.get());
        }, "f");
        f.start();
        AtomicInteger seenAtQFlush = new AtomicInteger(-1);
        Thread qf = new Thread(() -> {
            q.flush();
            seenAtQFlush.set(runs.get());
        }, "qf");
        qf.start();
        await(fLinked); // its barrier is linked behind tail: not a thread state (a wait for a pool lock looks the same)
        await(qfWaits);
        gate.countDown();
        f.join(20_000);
        qf.join(20_000);
        assertFalse(f.isAlive() || qf.isAlive(), "flushes ended");
        assertEquals(Boolean.TRUE, flushed.get());
        assertTrue(seenAtFlush.get() >= n + 1, "Work.flush saw " + seenAtFlush.get());
        assertEquals(n + 1, seenAtQFlush.get(), "queue flush waited for every item, victim never ran");
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /**
     * Freezable queue: items pushed behind a running counted worker before freeze(), then more
     * after; thaw lets all run, none ran while frozen (checked at thaw), setMaxActive meanwhile.
     */
    @RepeatedTest(10)
    void freezeAndSetMaxActiveWithInboxBehindRunningWorker() throws InterruptedException {
        WorkQueue fz = warm(rt.queueBuilder("cm-freezable").freezable().build());
        WorkQueue g = warm(rt.queueBuilder("cm-fz-gate").build());
        holdMonitor();
        CountDownLatch gate = blockWorker(g, "gate");
        AtomicInteger before = new AtomicInteger();
        AtomicInteger after = new AtomicInteger();
        int n = 10;
        for (int i = 0; i < n; i++) {
            assertTrue(fz.queueOn(0, new Work("pre" + i, before::incrementAndGet)));
        }
        fz.setMaxActive(1);
        Thread freezer = new Thread(rt::freeze);
        freezer.start();
        gate.countDown();
        freezer.join(20_000);
        assertFalse(freezer.isAlive(), "freeze returned");
        assertEquals(n, before.get(), "items queued before freeze ran before freeze returned");
        CountDownLatch ran = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            assertTrue(fz.queueOn(0, new Work("post" + i, () -> {
                after.incrementAndGet();
                ran.countDown();
            })));
        }
        fz.setMaxActive(4);
        // a non-freezable item runs and completes on the same pool while frozen
        CountDownLatch probe = new CountDownLatch(1);
        g.queueOn(0, new Work("probe", probe::countDown));
        awaitRan(probe, "a non-freezable item ran while frozen");
        assertEquals(0, after.get(), "frozen queue ran nothing");
        rt.thaw();
        awaitRan(ran, "items queued while frozen ran after thaw (monitor held)");
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /** drain() while the running item re-queues itself and pushes side items. */
    @RepeatedTest(20)
    void drainWhileRunningItemRequeuesItself() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-drain").build());
        CountDownLatch drainWaits = new CountDownLatch(1);
        holdMonitorAnd(waitsOf(Map.of("d", drainWaits)));
        AtomicInteger left = new AtomicInteger(50);
        AtomicInteger sides = new AtomicInteger();
        AtomicReference<Work> self = new AtomicReference<>();
        CountDownLatch first = new CountDownLatch(1);
        CountDownLatch drainStarted = new CountDownLatch(1);
        Work w = new Work("self", () -> {
            first.countDown();
            if (left.get() == 50) {
                await(drainStarted);
            }
            if (left.decrementAndGet() > 0) {
                q.queueOn(0, new Work("side", sides::incrementAndGet));
                q.queueOn(0, self.get());
            }
        });
        self.set(w);
        AtomicInteger outside = new AtomicInteger();
        q.queueOn(0, w);
        await(first);
        for (int i = 0; i < 5; i++) {
            q.queueOn(0, new Work("outside" + i, outside::incrementAndGet));
        }
        Thread d = new Thread(q::drain, "d");
        d.start();
        await(drainWaits); // the drainer closed the inboxes and waits in its first flush
        drainStarted.countDown();
        d.join(20_000);
        assertFalse(d.isAlive(), "drain returned");
        assertEquals(0, left.get());
        assertEquals(49, sides.get());
        assertEquals(5, outside.get());
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /** An Error from the item-end hook kills the counted worker mid-batch with items in the inbox. */
    @RepeatedTest(10)
    void errorAtItemEndWithInboxBehind() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-err").build());
        AtomicBoolean armed = new AtomicBoolean();
        holdMonitorAnd((point, subject) -> {
            if (point.equals("worker.itemEnd") && subject instanceof org.workqueue4j.internal.WorkNode wn && wn.name().equals("bomb")
                    && armed.compareAndSet(true, false)) {
                throw new Error("injected at itemEnd");
            }
        });
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        armed.set(true);
        q.queueOn(0, new Work("bomb", () -> {
            started.countDown();
            await(gate);
        }));
        await(started);
        int n = 20;
        CountDownLatch ran = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            assertTrue(q.queueOn(0, new Work("after" + i, ran::countDown)));
        }
        gate.countDown();
        awaitRan(ran, "items pushed behind a worker an Error ended ran (monitor held)");
        assertFalse(armed.get(), "the hook fired");
    }

    /** Interrupting the counted worker while items sit in its pool's inbox. */
    @RepeatedTest(10)
    void interruptWorkerWithInboxBehind() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-intr").build());
        holdMonitor();
        AtomicReference<Thread> worker = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        q.queueOn(0, new Work("sleeper", () -> {
            worker.set(Thread.currentThread());
            started.countDown();
            try {
                Thread.sleep(60_000); // a plain (unmanaged) block, ended by the interrupt
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        }));
        await(started);
        int n = 20;
        CountDownLatch ran = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            assertTrue(q.queueOn(0, new Work("i" + i, ran::countDown)));
        }
        worker.get().interrupt();
        awaitRan(interrupted, "the sleeper was interrupted");
        awaitRan(ran, "items behind the interrupted worker ran (monitor held)");
    }

    /** A CPU-intensive item, then counted items, while producers push: all run. */
    @RepeatedTest(20)
    void intensiveThenCountedWithPushes() throws InterruptedException {
        WorkQueue ci = warm(rt.queueBuilder("cm-ci").cpuIntensive().build());
        WorkQueue q = warm(rt.queueBuilder("cm-norm").build());
        holdMonitor();
        CountDownLatch gate = blockWorker(q, "gate");
        int n = 20;
        CountDownLatch ran = new CountDownLatch(2 * n);
        for (int i = 0; i < n; i++) {
            ci.queueOn(0, new Work("ci" + i, () -> {
                ran.countDown();
                try {
                    onThread("p", () -> q.queueOn(0, new Work("fromci", ran::countDown)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        // the CPU-intensive items run on another worker (the gate worker is counted but ci
        // items are on the worklist: needMoreWorker is false, so they wait for the gate)
        gate.countDown();
        awaitRan(ran, "intensive items and the counted items they pushed ran (monitor held)");
    }

    /** Two runtimes: an item of one pushes into the other's per-CPU pool behind its blocked worker. */
    @RepeatedTest(10)
    void twoRuntimes() throws InterruptedException {
        try (WorkQueues rt2 = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                .idleTimeout(Duration.ofMinutes(10)).cpuIntensiveThreshold(Duration.ofMinutes(10))
                .reportListener(s -> { }).build())) {
            WorkQueue a = warm(rt.queueBuilder("cm-a").build());
            WorkQueue b = warm(rt2.queueBuilder("cm-b").build());
            holdMonitor(); // holds both monitors (the hook is global)
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            b.queueOn(0, new Work("gate", () -> {
                started.countDown();
                await(gate);
            }));
            await(started);
            int n = 20;
            CountDownLatch ran = new CountDownLatch(2 * n);
            CountDownLatch pushed = new CountDownLatch(1);
            a.queueOn(0, new Work("pusher", () -> {
                for (int i = 0; i < n; i++) {
                    b.queueOn(0, new Work("b" + i, ran::countDown));
                    a.queueOn(0, new Work("a" + i, ran::countDown));
                }
                pushed.countDown();
                try {
                    b.flush(); // library wait of runtime 2 on runtime 1's worker
                } catch (RuntimeException e) {
                    errors.add(e);
                }
            }));
            await(pushed);
            gate.countDown();
            awaitRan(ran, "items pushed across runtimes ran (monitor held)");
            monitorGo.countDown();
        }
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /**
     * The running item pushes items (inbox), then its library wait's wake-up throws (an Error at
     * pool.wakeForSleeper, after wakeForSleeper landed the inbox): the worker is counted again,
     * and everything pushed must still run.
     */
    @RepeatedTest(10)
    void errorInWakeForSleeperWithInboxItems() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-wfs").build());
        WorkQueue r = warm(rt.queueBuilder("cm-wfs-r").build());
        AtomicBoolean armed = new AtomicBoolean(true);
        holdMonitorAnd((point, subject) -> {
            if (point.equals("pool.wakeForSleeper") && armed.compareAndSet(true, false)) {
                throw new Error("injected at wakeForSleeper");
            }
        });
        int n = 20;
        CountDownLatch ran = new CountDownLatch(n + 1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        CountDownLatch parentDone = new CountDownLatch(1);
        q.queueOn(0, new Work("parent", () -> {
            try {
                for (int i = 0; i < n; i++) {
                    q.queueOn(0, new Work("c" + i, ran::countDown));
                }
                r.queueOn(0, new Work("r", ran::countDown));
                try {
                    r.flush();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            } finally {
                parentDone.countDown();
            }
        }));
        awaitRan(parentDone, "parent ended");
        awaitRan(ran, "items pushed before the failed wake-up ran (monitor held)");
        assertFalse(armed.get(), "the hook fired");
        assertTrue(thrown.get() != null && "injected at wakeForSleeper".equals(thrown.get().getMessage()),
                "the flush threw the injected Error: " + thrown.get());
        // and the pool still works
        CountDownLatch again = new CountDownLatch(1);
        q.queueOn(0, new Work("again", again::countDown));
        awaitRan(again, "a later item ran");
    }

    /** destroy() of a queue whose items sit in the inbox behind a blocked counted worker of another queue. */
    @RepeatedTest(20)
    void destroyWithInboxBehindBlockedWorker() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-destroy").build());
        WorkQueue g = warm(rt.queueBuilder("cm-destroy-gate").build());
        CountDownLatch destroyWaits = new CountDownLatch(1);
        holdMonitorAnd(waitsOf(Map.of("d", destroyWaits)));
        CountDownLatch gate = blockWorker(g, "gate");
        AtomicInteger runs = new AtomicInteger();
        int n = 20;
        for (int i = 0; i < n; i++) {
            assertTrue(q.queueOn(0, new Work("d" + i, runs::incrementAndGet)));
        }
        AtomicInteger atDestroy = new AtomicInteger(-1);
        Thread d = new Thread(() -> {
            q.destroy();
            atDestroy.set(runs.get());
        }, "d");
        d.start();
        await(destroyWaits); // its drain waits in a flush
        gate.countDown();
        d.join(20_000);
        assertFalse(d.isAlive(), "destroy returned");
        assertEquals(n, atDestroy.get(), "destroy waited for every queued item");
        assertTrue(q.isDestroyed());
    }

    /**
     * A producer held at queue.pushedFirst (node in the inbox, hint not stored yet) while the
     * counted worker works through a batch; released mid-batch it finds the worker counted and
     * wakes no one: the worker must land the item (dry point or idle handshake).
     */
    @RepeatedTest(20)
    void producerHeldAtPushedFirstReleasedMidBatch() throws InterruptedException {
        WorkQueue q = warm(rt.queueBuilder("cm-held").build());
        WorkQueue q2 = warm(rt.queueBuilder("cm-held-2").build()); // its inbox is empty: the held push is a PUSH_FIRST
        CountDownLatch atPush = new CountDownLatch(1);
        CountDownLatch releasePush = new CountDownLatch(1);
        AtomicReference<Thread> producer = new AtomicReference<>();
        holdMonitorAnd((point, subject) -> {
            if (point.equals("queue.pushedFirst") && Thread.currentThread() == producer.get()) {
                atPush.countDown();
                await(releasePush);
            }
        });
        CountDownLatch gate = blockWorker(q, "gate");
        int n = 8;
        CountDownLatch batch = new CountDownLatch(n);
        CountDownLatch midBatch = new CountDownLatch(1);
        CountDownLatch midGo = new CountDownLatch(1);
        for (int i = 0; i < n; i++) {
            int k = i;
            // queued from this thread while the gate runs: to the inbox (the first one) and behind it
            q.queueOn(0, new Work("b" + k, () -> {
                batch.countDown();
                if (k == n / 2) {
                    midBatch.countDown();
                    await(midGo);
                }
            }));
        }
        CountDownLatch heldRan = new CountDownLatch(1);
        Thread p = new Thread(() -> q2.queueOn(0, new Work("held", heldRan::countDown)), "held-producer");
        gate.countDown();
        await(midBatch); // the worker is mid-batch (its worklist emptied into the batch? not necessarily)
        producer.set(p);
        p.start();
        await(atPush);
        releasePush.countDown();
        p.join(20_000);
        assertFalse(p.isAlive());
        midGo.countDown();
        awaitRan(batch, "the batch ran");
        awaitRan(heldRan, "the item whose producer was held at pushedFirst ran (monitor held)");
    }

    /** Ordered and unbound queues next to a per-CPU batch: FIFO under many producers (unchanged path, control). */
    @RepeatedTest(10)
    void orderedFifoManyProducers() throws InterruptedException {
        WorkQueue o = warm(rt.queueBuilder("cm-ordered").ordered().build());
        holdMonitor();
        int producers = 4;
        int per = 50;
        List<List<Integer>> seen = new ArrayList<>();
        for (int i = 0; i < producers; i++) {
            seen.add(Collections.synchronizedList(new ArrayList<>()));
        }
        CountDownLatch ran = new CountDownLatch(producers * per);
        List<Thread> ts = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int pp = p;
            Thread t = new Thread(() -> {
                for (int i = 0; i < per; i++) {
                    int ii = i;
                    o.queue(new Work("o" + pp + "-" + i, () -> {
                        seen.get(pp).add(ii);
                        ran.countDown();
                    }));
                }
            });
            ts.add(t);
            t.start();
        }
        for (Thread t : ts) {
            t.join(20_000);
        }
        awaitRan(ran, "ordered items ran");
        for (int p = 0; p < producers; p++) {
            List<Integer> l = new ArrayList<>(seen.get(p));
            for (int i = 0; i < l.size(); i++) {
                assertEquals(i, l.get(i), "FIFO " + l);
            }
        }
    }
}
