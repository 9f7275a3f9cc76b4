package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** close() while another thread waits on a frozen queue (destroy: see Break6BbCloseDuringFrozenDestroyTest). */
@Timeout(60)
class Break6BbCloseWhileWaitingTest {
    interface Wait {
        void run(WorkQueues rt, WorkQueue q, Work w, DelayedWork d) throws Exception;
    }

    private void check(String what, Wait wait) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        List<String> reports = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(5))
                .reportListener(reports::add)
                .uncaughtWorkHandler((q, w, e) -> errors.add(e)).build());
        WorkQueue q = rt.queueBuilder("frz").freezable().build();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("held", runs::incrementAndGet);
        DelayedWork d = new DelayedWork("armed", runs::incrementAndGet);
        rt.freeze();
        assertTrue(q.queue(w));
        assertTrue(q.queueDelayed(d, Duration.ofHours(1)));
        List<Throwable> waiterThrew = new CopyOnWriteArrayList<>();
        Thread waiter = TestRuntime.startAndAwaitParked("waiter", () -> {
            try {
                wait.run(rt, q, w, d);
            } catch (Throwable e) {
                waiterThrew.add(e);
            }
        });
        rt.close();
        waiter.join(10_000);
        assertFalse(waiter.isAlive(), what + ": waiter still blocked after close");
        // A close that sat out its timeout says so (its timeout report), whatever the clock.
        assertTrue(reports.stream().noneMatch(s -> s.contains("timed out")), what + ": close hit its timeout: " + reports);
        assertTrue(runs.get() >= 1, what + ": the held item ran");
        assertFalse(w.isPending() || d.isPending(), what + ": pending after close");
        assertEquals(List.of(), waiterThrew, what);
    }

    @Test
    void queueFlush() throws Exception {
        check("flush", (rt, q, w, d) -> q.flush());
    }

    @Test
    void queueDrain() throws Exception {
        check("drain", (rt, q, w, d) -> q.drain());
    }

    @Test
    void workFlush() throws Exception {
        check("work flush", (rt, q, w, d) -> assertTrue(w.flush()));
    }

    @Test
    void delayedFlush() throws Exception {
        check("delayed flush", (rt, q, w, d) -> d.flush());
    }

    @Test
    void timedDrain() throws Exception {
        check("drain2", (rt, q, w, d) -> q.drain(Duration.ofSeconds(30)));
    }
}
