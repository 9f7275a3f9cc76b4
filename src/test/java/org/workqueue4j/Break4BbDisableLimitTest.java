package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * disable(): "throws IllegalStateException if the count would overflow (65535)". cancelSync()
 * documents IllegalStateException only for a call from the item's own function, and counts the
 * item as disabled while it waits.
 */
@Timeout(60)
class Break4BbDisableLimitTest {
    private final WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
            .closeTimeout(Duration.ofSeconds(5)).build());

    @AfterEach
    void close() {
        rt.close();
    }

    @Test
    void waitsOnAnItemAtTheDisableLimit() throws Exception {
        WorkQueue q = rt.queueBuilder("lim").build();
        Work w = new Work("w", () -> { });
        assertTrue(q.queue(w));
        q.flush();
        int n = 0;
        while (true) {
            try {
                w.disable();
                n++;
            } catch (IllegalStateException e) {
                break;
            }
            assertTrue(n <= 70000, "no limit");
        }
        assertEquals(65535, n, "the documented limit");
        assertEquals(65535, w.disableDepth());
        assertFalse(q.queue(w));
        String s1 = outcome(w::cancelSync);
        String s2 = outcome(() -> w.cancelSync(Duration.ofSeconds(1)));
        String s3 = outcome(w::cancel);
        String s4 = outcome(w::flush);
        assertEquals(65535, w.disableDepth(), "the count is unchanged by the waits: cancelSync " + s1 + ", timed " + s2);
        assertEquals("false / true", s1 + " / " + s2,
                "cancelSync() / cancelSync(Duration) of an idle item already disabled 65535 times: documented to return "
                        + "false (not pending) / true (neither pending nor running); IllegalStateException is documented only for "
                        + "a call from the item's own function (disable() documents the overflow; cancelSync does not)");
        assertEquals("false", s3);
        assertEquals("false", s4);
        for (int i = 0; i < 65535; i++) {
            w.enable();
        }
        assertTrue(q.queue(w));
        q.flush();
    }

    interface Call {
        boolean call() throws Exception;
    }

    private static String outcome(Call c) {
        try {
            return String.valueOf(c.call());
        } catch (Throwable e) {
            return e.toString();
        }
    }
}
