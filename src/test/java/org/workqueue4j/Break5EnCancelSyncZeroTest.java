package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * cancelSync(Duration) with a zero timeout ("do not wait") on an item that is pending and not
 * running: the pending instance is cancelled and nothing runs, so there is nothing to time out on.
 */
@Timeout(60)
class Break5EnCancelSyncZeroTest {
    private final TestRuntime t = new TestRuntime(2);

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void zeroTimeoutCancelOfAPendingIdleItem() throws Exception {
        WorkQueue q = t.queue("ord").ordered().build();
        CountDownLatch release = new CountDownLatch(1);
        TestRuntime.blockOrdered(q, release);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        assertTrue(q.queue(w));
        boolean r;
        try {
            r = w.cancelSync(Duration.ZERO);
        } finally {
            release.countDown();
        }
        q.flush();
        assertEquals(0, runs.get(), "the cancelled instance ran");
        assertEquals("[]", t.errors.toString(), "expected no report (nothing was running, so nothing timed out);"
                + " actual reports: " + t.errors);
        assertTrue(r, "expected true: nothing runs any more");
        assertTrue(q.queue(w), "the wait's own disable ended");
        q.flush();
    }
}
