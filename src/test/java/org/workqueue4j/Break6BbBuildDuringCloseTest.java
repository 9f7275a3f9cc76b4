package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class Break6BbBuildDuringCloseTest {

    @Test
    void queuesBuiltWhileCloseRuns() throws Exception {
        List<String> violations = new ArrayList<>();
        for (int round = 0; round < 40 && violations.isEmpty(); round++) {
            List<Thread> made = new CopyOnWriteArrayList<>();
            WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(5))
                    .threadFactory(r -> { Thread t = new Thread(r); made.add(t); return t; }).build());
            WorkQueue first = rt.queueBuilder("first").build();
            first.queue(new Work("warm", () -> { }));
            List<WorkQueue> built = new CopyOnWriteArrayList<>();
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            int kind = round % 4;
            Thread builder = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 200; i++) {
                    try {
                        WorkQueue.Builder b = rt.queueBuilder("b" + i);
                        if (kind == 1) b.memReclaim();
                        if (kind == 2) b.unbound();
                        if (kind == 3) b.freezable().highPriority();
                        WorkQueue q = b.build();
                        built.add(q);
                        if (q.queue(new Work("w" + i, ran::incrementAndGet))) accepted.incrementAndGet();
                    } catch (IllegalStateException e) {
                        // refused once closing
                    }
                }
            });
            builder.start();
            go.countDown();
            Thread.sleep(round % 3);
            rt.close();
            builder.join(20000);
            for (WorkQueue q : built) {
                if (!q.isDestroyed()) violations.add("round " + round + ": " + q.name() + " built during close is not destroyed");
            }
            if (ran.get() != accepted.get()) violations.add("round " + round + ": accepted " + accepted + " ran " + ran);
            for (Thread t : made) {
                t.join(2000);
                if (t.isAlive()) violations.add("round " + round + ": alive after close " + t.getName());
            }
        }
        assertEquals(List.of(), violations.subList(0, Math.min(5, violations.size())));
    }
}
