package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * cancelSync() with its own disable (Pending.cancelTakingForWait / endWaitDisable), racing
 * disable()/enable() pairs and queue() from other threads: every accepted instance runs, is
 * cancelled by a call that says so, or is reported; the disable depth ends at zero.
 */
@Timeout(120)
class Break5EnCancelSyncLedgerTest {
    private final TestRuntime t = new TestRuntime(2);

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void ledgerAndDepthUnderConcurrentCancelSyncDisableEnableQueue() throws Exception {
        WorkQueue q = t.queue("led").build();
        AtomicLong runs = new AtomicLong();
        Work w = new Work("w", runs::incrementAndGet);
        AtomicLong accepted = new AtomicLong();
        AtomicLong cancelledTrue = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int iters = 3000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            ts.add(new Thread(() -> {
                WorkQueueCoreTest.await(go);
                try {
                    for (int i = 0; i < iters; i++) {
                        if (w.cancelSync()) {
                            cancelledTrue.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "cancelSync-" + k));
        }
        ts.add(new Thread(() -> {
            WorkQueueCoreTest.await(go);
            try {
                for (int i = 0; i < iters; i++) {
                    if (w.disable()) {
                        cancelledTrue.incrementAndGet();
                    }
                    w.enable();
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, "disable-enable"));
        for (int k = 0; k < 2; k++) {
            ts.add(new Thread(() -> {
                WorkQueueCoreTest.await(go);
                for (int i = 0; i < iters * 2; i++) {
                    if (q.queue(w)) {
                        accepted.incrementAndGet();
                    }
                }
            }, "queue-" + k));
        }
        ts.forEach(Thread::start);
        go.countDown();
        for (Thread th : ts) {
            th.join(60_000);
            assertTrue(!th.isAlive(), th.getName() + " ended");
        }
        assertEquals(null, failure.get(), "no call threw");
        q.flush();
        assertEquals(0, w.disableDepth(), "expected the disable depth back at 0; actual " + w.disableDepth());
        assertEquals(accepted.get(), runs.get() + cancelledTrue.get() + t.errors.size(),
                "expected accepted = runs + cancels that said true + reports; runs " + runs.get() + ", cancels "
                        + cancelledTrue.get() + ", reports " + t.errors.size());
    }
}
