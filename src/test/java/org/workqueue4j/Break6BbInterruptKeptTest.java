package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class Break6BbInterruptKeptTest {
    private final TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(5)));

    @AfterEach
    void close() {
        Thread.interrupted();
        t.close();
    }

    interface Op {
        void run() throws Exception;
    }

    private final List<String> lost = new ArrayList<>();

    private void kept(String what, Op op) throws Exception {
        Thread.currentThread().interrupt();
        try {
            op.run();
        } catch (InterruptedException e) {
            lost.add(what + " threw InterruptedException");
            return;
        }
        if (!Thread.interrupted()) lost.add(what + " cleared the interrupt status");
    }

    @Test
    void nonBlockingOperationsKeepTheInterruptStatus() throws Exception {
        WorkQueue ord = t.queue("ord").ordered().build();
        WorkQueue pc = t.queue("pc").build();
        WorkQueue frz = t.queue("frz").freezable().build();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        Work gate = new Work("gate", () -> {
            started.countDown();
            try {
                release.await(30, SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(ord.queue(gate));
        assertTrue(started.await(10, SECONDS));
        Work a = new Work("a", () -> { });
        DelayedWork d = new DelayedWork("d", () -> { });
        kept("queue on a busy ordered queue", () -> ord.queue(a));
        kept("queue of a pending item", () -> ord.queue(a));
        kept("queue of a running item (locked path)", () -> ord.queue(gate));
        kept("Work.flushAsync", () -> a.flushAsync());
        kept("WorkQueue.flushAsync", () -> ord.flushAsync());
        kept("cancel of an inactive item", () -> assertTrue(a.cancel()));
        kept("queueDelayed 1h", () -> ord.queueDelayed(d, Duration.ofHours(1)));
        kept("modDelayed 2h", () -> ord.modDelayed(d, Duration.ofHours(2)));
        kept("DelayedWork.flushAsync", () -> d.flushAsync());
        kept("modDelayed 0 (behind the gate)", () -> ord.modDelayed(d, Duration.ZERO));
        kept("cancel of a delayed", () -> d.cancel());
        kept("disable", () -> a.disable());
        kept("enable", () -> a.enable());
        kept("setMaxActive", () -> pc.setMaxActive(3));
        kept("stats", () -> ord.stats());
        kept("dump", () -> t.rt.dump());
        kept("dumpData", () -> t.rt.dumpData());
        kept("monitor", () -> t.rt.monitor());
        kept("thaw", () -> t.rt.thaw());
        kept("queue on frz", () -> frz.queue(new Work("f", () -> { })));
        kept("freeze (nothing running)", () -> t.rt.freeze());
        kept("queue while frozen", () -> frz.queue(new Work("f2", () -> { })));
        kept("thaw", () -> t.rt.thaw());
        kept("build a queue", () -> t.queue("late").build());
        kept("build a memReclaim queue", () -> t.queue("late-r").memReclaim().build());
        kept("system()", () -> t.rt.systemLong());
        kept("schedule", () -> t.rt.schedule(new Work("s", () -> { })));
        kept("execute", () -> pc.execute(() -> { }));
        kept("executor submit", () -> pc.asExecutorService().submit(() -> { }));
        kept("scheduled view schedule", () -> pc.asScheduledExecutorService().schedule(() -> { }, 1, SECONDS));
        kept("LazyQueueHolder MUTEX get", () -> new LazyQueueHolder(LazyQueueHolder.Strategy.MUTEX,
                () -> t.queue("lz").build()).get());
        kept("LazyQueueHolder CAS get", () -> new LazyQueueHolder(LazyQueueHolder.Strategy.CAS_DISCARD,
                () -> t.queue("lz2").build()).get());
        release.countDown();
        kept("flush of idle item", () -> new Work("idle", () -> { }).flush());
        kept("destroy of an idle queue", () -> t.queue("gone").build().destroy());
        ord.flush();
        assertEquals(List.of(), lost);
    }
}
