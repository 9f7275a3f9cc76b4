package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** destroy() of an empty (used or never used) queue racing close(): both must return. */
@Timeout(60)
class Break6BbEmptyDestroyRacingCloseTest {
    @Test
    void emptyQueueDestroyRacingClose() throws Exception {
        List<String> violations = new ArrayList<>();
        for (int round = 0; round < 100 && violations.isEmpty(); round++) {
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(5)).build());
            WorkQueue q = rt.queueBuilder("q").build();
            if (round % 2 == 0) {
                q.queue(new Work("once", () -> { }));
                q.flush();
            }
            CountDownLatch go = new CountDownLatch(1);
            Thread d = new Thread(() -> { try { go.await(); } catch (InterruptedException e) { return; } q.destroy(); }, "d");
            Thread c = new Thread(() -> { try { go.await(); } catch (InterruptedException e) { return; } rt.close(); }, "c");
            d.setDaemon(true);
            c.setDaemon(true);
            d.start();
            c.start();
            go.countDown();
            d.join(3000);
            c.join(3000);
            if (d.isAlive() || c.isAlive()) violations.add("round " + round + ": hung destroy=" + d.isAlive() + " close=" + c.isAlive());
        }
        assertEquals(List.of(), violations);
    }
}
