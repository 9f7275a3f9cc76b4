package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class Break6BbDestroyReentryTest {
    interface Act {
        void run(WorkQueues rt, WorkQueue q) throws Exception;
    }

    private void check(String what, Act inHandler) throws Exception {
        AtomicReference<WorkQueue> qref = new AtomicReference<>();
        AtomicReference<WorkQueues> rref = new AtomicReference<>();
        List<Throwable> fromHandler = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2))
                .uncaughtWorkHandler((q, w, e) -> {
                    try {
                        inHandler.run(rref.get(), qref.get());
                    } catch (Throwable x) {
                        fromHandler.add(x);
                    }
                }).build());
        rref.set(rt);
        WorkQueue q = rt.queueBuilder("q").build();
        qref.set(q);
        q.queueDelayed(new DelayedWork("armed", () -> { }), Duration.ofHours(1));
        Thread th = new Thread(q::destroy, "destroyer");
        th.setDaemon(true);
        th.start();
        th.join(8000);
        boolean hung = th.isAlive();
        Thread c = new Thread(rt::close);
        c.setDaemon(true);
        c.start();
        c.join(5000);
        assertFalse(hung, what + ": destroy() hung; " + fromHandler);
    }

    @Test
    void drainSameQueue() throws Exception {
        check("drain", (rt, q) -> q.drain());
    }

    @Test
    void timedDrainSameQueue() throws Exception {
        check("timed drain", (rt, q) -> q.drain(Duration.ofSeconds(1)));
    }

    @Test
    void flushSameQueue() throws Exception {
        check("flush", (rt, q) -> q.flush());
    }

    @Test
    void flushAsyncSameQueueGet() throws Exception {
        check("flushAsync.get", (rt, q) -> q.flushAsync().get(20, SECONDS));
    }

    @Test
    void queueSameQueue() throws Exception {
        check("queue", (rt, q) -> q.queue(new Work("x", () -> { })));
    }
}
