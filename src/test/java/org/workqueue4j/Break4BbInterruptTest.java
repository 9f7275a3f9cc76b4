package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Uninterruptible waits entered with the interrupt status set: each must still wait for what
 * it promises and keep the status ("an interrupt does not end the wait; the interrupt status is
 * kept and set again on return").
 */
@Timeout(60)
class Break4BbInterruptTest {
    private final List<Throwable> reports = new CopyOnWriteArrayList<>();
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5)).uncaughtWorkHandler((q, w, e) -> reports.add(e)).build());

    @AfterEach
    void close() {
        rt.close();
    }

    interface Op {
        void run(Work gate) throws Exception;
    }

    private static final class Gate {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicBoolean finished = new AtomicBoolean();
        final Work work;

        Gate(String name) {
            work = new Work(name, this::body);
        }

        Gate(DelayedWork unused) {
            work = null;
        }

        void body() {
            started.countDown();
            boolean interrupted = false;
            while (true) {
                try {
                    if (release.await(30, SECONDS)) {
                        break;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            finished.set(true);
        }
    }

    /** Runs op with the interrupt status set while gate runs; releases gate once the caller blocks. */
    private void check(String what, Gate gate, Op op, boolean gateMustHaveFinished) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean();
        AtomicBoolean finishedAtReturn = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                op.run(gate.work);
            } catch (Throwable e) {
                thrown.set(e);
            }
            finishedAtReturn.set(gate.finished.get());
            flagAfter.set(Thread.currentThread().isInterrupted());
            done.countDown();
        }, "caller-" + what);
        t.start();
        long end = System.nanoTime() + SECONDS.toNanos(10);
        while (done.getCount() > 0 && t.getState() != Thread.State.WAITING
                && t.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        gate.release.countDown();
        assertTrue(done.await(20, SECONDS), what + " did not return");
        assertNull(thrown.get(), what + " threw " + thrown.get());
        if (gateMustHaveFinished) {
            assertTrue(finishedAtReturn.get(), what + " entered with the interrupt status set returned before the running item finished");
        }
        assertTrue(flagAfter.get(), what + ": interrupt status must be kept on return");
    }

    private Gate running(WorkQueue q, String name) throws InterruptedException {
        Gate g = new Gate(name);
        assertTrue(q.queue(g.work));
        assertTrue(g.started.await(10, SECONDS));
        return g;
    }

    @Test
    void queueFlush() throws Exception {
        WorkQueue q = rt.queueBuilder("qf").build();
        check("WorkQueue.flush()", running(q, "g"), w -> q.flush(), true);
    }

    @Test
    void queueDrain() throws Exception {
        WorkQueue q = rt.queueBuilder("qd").build();
        check("WorkQueue.drain()", running(q, "g"), w -> q.drain(), true);
    }

    @Test
    void queueDestroy() throws Exception {
        WorkQueue q = rt.queueBuilder("qx").build();
        check("WorkQueue.destroy()", running(q, "g"), w -> q.destroy(), true);
        assertTrue(q.isDestroyed());
    }

    @Test
    void workFlush() throws Exception {
        WorkQueue q = rt.queueBuilder("wf").build();
        check("Work.flush()", running(q, "g"), Work::flush, true);
    }

    @Test
    void cancelSyncOfARunningItem() throws Exception {
        WorkQueue q = rt.queueBuilder("cs").build();
        check("Work.cancelSync()", running(q, "g"), Work::cancelSync, true);
    }

    @Test
    void disableSyncOfARunningItem() throws Exception {
        WorkQueue q = rt.queueBuilder("ds").build();
        Gate g = running(q, "g");
        check("Work.disableSync()", g, Work::disableSync, true);
        assertFalse(q.queue(g.work), "disabled");
        assertTrue(g.work.enable());
    }

    @Test
    void freezeWaitsForRunningItem() throws Exception {
        WorkQueue q = rt.queueBuilder("fz").freezable().build();
        try {
            check("WorkQueues.freeze()", running(q, "g"), w -> rt.freeze(), true);
        } finally {
            rt.thaw();
        }
    }

    @Test
    void delayedFlushOfArmedItemBehindARunningOne() throws Exception {
        WorkQueue q = rt.queueBuilder("dfl").ordered().build();
        Gate g = running(q, "g");
        AtomicBoolean dRan = new AtomicBoolean();
        DelayedWork d = new DelayedWork("d", () -> dRan.set(true));
        assertTrue(q.queueDelayed(d, Duration.ofHours(1)));
        check("DelayedWork.flush()", g, w -> {
            assertTrue(d.flush(), "fired the timer");
            assertTrue(dRan.get(), "flush returned before the fired instance ran");
        }, true);
    }

    @Test
    void scheduleOnEachCpu() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flag = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
        Thread t = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                rt.scheduleOnEachCpu(() -> {
                    try {
                        release.await(30, SECONDS);
                    } catch (InterruptedException e) {
                        // ignore
                    }
                    ran.incrementAndGet();
                });
            } catch (Throwable e) {
                thrown.set(e);
            }
            flag.set(Thread.currentThread().isInterrupted());
        });
        t.start();
        long end = System.nanoTime() + SECONDS.toNanos(10);
        while (t.isAlive() && t.getState() != Thread.State.WAITING && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        release.countDown();
        t.join(20000);
        assertFalse(t.isAlive());
        assertNull(thrown.get());
        assertEquals(rt.cpus(), ran.get(), "scheduleOnEachCpu returned before every cpu's run finished");
        assertTrue(flag.get(), "interrupt status kept");
    }

    /** flushInterruptibly / timed waits with the status set and something to wait for: throw, status cleared. */
    @Test
    void interruptibleWaitsThrowAndClear() throws Exception {
        WorkQueue q = rt.queueBuilder("iw").build();
        Gate g = running(q, "g");
        Op[] ops = {
            w -> q.flushInterruptibly(),
            w -> q.flush(Duration.ofSeconds(30)),
            w -> q.drain(Duration.ofSeconds(30)),
            w -> w.flushInterruptibly(),
            w -> w.flush(Duration.ofSeconds(30)),
            w -> w.cancelSync(Duration.ofSeconds(30)),
        };
        for (int i = 0; i < ops.length; i++) {
            Thread.currentThread().interrupt();
            Throwable thrown = null;
            try {
                ops[i].run(g.work);
            } catch (Throwable e) {
                thrown = e;
            }
            boolean flag = Thread.interrupted();
            assertTrue(thrown instanceof InterruptedException, "op " + i + " must throw InterruptedException, threw " + thrown);
            assertFalse(flag, "op " + i + ": status cleared when InterruptedException is thrown");
            assertFalse(g.finished.get());
        }
        assertTrue(q.queue(new Work("after", () -> { })), "a drain ended by interrupt accepts again");
        assertFalse(q.queue(g.work) && false);
        g.release.countDown();
        q.flush();
        assertTrue(reports.isEmpty(), "" + reports);
    }
}
