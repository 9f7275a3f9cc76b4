package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class Break6BbFactoryQueuesTest {

    private static String stack(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) sb.append("\n  ").append(e);
        return sb.toString();
    }

    @Test
    void factoryQueuingOnASystemQueueDuringTheFirstBuild() throws Exception {
        AtomicReference<WorkQueues> ref = new AtomicReference<>();
        AtomicBoolean once = new AtomicBoolean();
        CountDownLatch ran = new CountDownLatch(1);
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2))
                .threadFactory(r -> {
                    if (ref.get() != null && once.compareAndSet(false, true)) {
                        try {
                            ref.get().schedule(new Work("from-factory", ran::countDown));
                        } catch (Throwable e) {
                            thrown.add(e);
                        }
                    }
                    Thread t = new Thread(r);
                    t.setDaemon(true);
                    return t;
                }).build());
        ref.set(rt);
        Thread b = new Thread(() -> rt.queueBuilder("first").build(), "builder");
        b.setDaemon(true);
        b.start();
        b.join(10_000);
        boolean hung = b.isAlive();
        String where = hung ? stack(b) : "";
        assertFalse(hung, "first build() hung when the factory queued work on system(): " + where);
        assertTrue(ran.await(10, SECONDS) || !thrown.isEmpty(), "the factory's item neither ran nor was refused");
        rt.close();
    }

    @Test
    void factoryQueuingDelayedWorkWhileMakingTheTimer() throws Exception {
        AtomicReference<WorkQueue> qref = new AtomicReference<>();
        AtomicBoolean armed = new AtomicBoolean();
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(2))
                .threadFactory(r -> {
                    if (Thread.currentThread().getName().equals("armer") && armed.compareAndSet(true, false)) {
                        try {
                            qref.get().queueDelayed(new DelayedWork("from-factory", () -> { }), Duration.ofHours(1));
                        } catch (Throwable e) {
                            thrown.add(e);
                        }
                    }
                    Thread t = new Thread(r);
                    t.setDaemon(true);
                    return t;
                }).build());
        WorkQueue q = rt.queueBuilder("q").build();
        qref.set(q);
        armed.set(true);
        Thread a = new Thread(() -> q.queueDelayed(new DelayedWork("d", () -> { }), Duration.ofHours(1)), "armer");
        a.setDaemon(true);
        a.start();
        a.join(10_000);
        boolean hung = a.isAlive();
        String where = hung ? stack(a) : "";
        assertFalse(hung, "the first queueDelayed hung when the factory, making the timer, queued delayed work: " + where);
        rt.close();
    }
}
