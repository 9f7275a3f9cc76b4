package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Odd ThreadFactory behaviour, checked against WorkQueuesConfig.Builder.threadFactory's javadoc. */
@Timeout(60)
class Break4BbThreadFactoryTest {

    private static WorkQueuesConfig.Builder base(ThreadFactory f, List<Throwable> reports) {
        return WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(5))
                .threadFactory(f).uncaughtWorkHandler((q, w, e) -> reports.add(e));
    }

    /**
     * ThreadFactory.newThread may return null ("null if the request to create a thread is
     * rejected"). The javadoc: a factory that fails "is survived for workers: the failure is
     * reported and retried later", and memReclaim queues go on through their rescuers.
     */
    @Test
    void aFactoryReturningNullForWorkersIsSurvivedAndMemReclaimGoesOn() throws Exception {
        AtomicBoolean refuse = new AtomicBoolean(false);
        List<Thread> made = new CopyOnWriteArrayList<>();
        ThreadFactory f = r -> {
            if (refuse.get()) {
                return null;
            }
            Thread t = new Thread(r);
            made.add(t);
            return t;
        };
        List<Throwable> reports = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(base(f, reports).build());
        try {
            WorkQueue q = rt.queueBuilder("reclaim").memReclaim().build();
            refuse.set(true);
            CountDownLatch ran = new CountDownLatch(3);
            for (int i = 0; i < 3; i++) {
                assertTrue(q.queue(new Work("r" + i, ran::countDown)), "queue of an idle item returns true");
            }
            assertTrue(ran.await(15, SECONDS),
                    "memReclaim items must run through the rescuer when the factory returns null; left " + ran.getCount());
            refuse.set(false);
            q.flush();
            assertTrue(reports.isEmpty(), "no work reported: " + reports);
        } finally {
            refuse.set(false);
            rt.close();
        }
        for (Thread t : made) {
            t.join(5000);
            assertFalse(t.isAlive(), "thread left alive after close: " + t);
        }
    }

    /**
     * A factory that starts the thread it returns (a factory bug). The javadoc: the runtime then
     * sets name and daemon flag (which a started thread refuses). Whatever the runtime makes of
     * it, every accepted item runs exactly once and close() leaves no thread alive.
     */
    @Test
    void aFactoryThatStartsItsThreadsLosesNoItemAndRunsNoneTwice() throws Exception {
        AtomicBoolean start = new AtomicBoolean(false);
        List<Thread> made = new CopyOnWriteArrayList<>();
        ThreadFactory f = r -> {
            Thread t = new Thread(r);
            made.add(t);
            if (start.get()) {
                t.setDaemon(true);
                t.start();
            }
            return t;
        };
        List<Throwable> reports = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(base(f, reports).build());
        AtomicInteger[] runs = new AtomicInteger[20];
        try {
            WorkQueue q = rt.queueBuilder("started").memReclaim().build();
            start.set(true);
            CountDownLatch ran = new CountDownLatch(20);
            for (int i = 0; i < 20; i++) {
                AtomicInteger c = runs[i] = new AtomicInteger();
                assertTrue(q.queue(new Work("s" + i, () -> {
                    c.incrementAndGet();
                    ran.countDown();
                })));
            }
            assertTrue(ran.await(15, SECONDS), "items must run (rescuer at least); left " + ran.getCount());
            q.flush();
        } finally {
            rt.close();
        }
        for (int i = 0; i < 20; i++) {
            assertEquals(1, runs[i].get(), "item s" + i + " must run exactly once");
        }
        for (Thread t : made) {
            t.join(5000);
            assertFalse(t.isAlive(), "thread left alive after close: " + t + " state " + t.getState());
        }
    }

    /**
     * A factory returning one and the same Thread object for every call (a factory bug: the second
     * start() throws IllegalThreadStateException). Survived for workers, per the javadoc.
     */
    @Test
    void aFactoryReturningTheSameThreadTwiceIsSurvived() throws Exception {
        AtomicBoolean reuse = new AtomicBoolean(false);
        Thread[] first = new Thread[1];
        List<Thread> made = new CopyOnWriteArrayList<>();
        ThreadFactory f = r -> {
            if (reuse.get() && first[0] != null) {
                return first[0];
            }
            Thread t = new Thread(r);
            made.add(t);
            if (reuse.get()) {
                first[0] = t;
            }
            return t;
        };
        List<Throwable> reports = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(base(f, reports).build());
        try {
            WorkQueue q = rt.queueBuilder("same").memReclaim().build();
            reuse.set(true);
            int n = 50;
            CountDownLatch ran = new CountDownLatch(n);
            List<Work> ws = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                // items that block briefly so that the pool asks for more workers
                Work w = new Work("x" + i, () -> {
                    ran.countDown();
                });
                ws.add(w);
                assertTrue(q.queueOn(i % 2, w));
            }
            assertTrue(ran.await(15, SECONDS), "items must run; left " + ran.getCount());
        } finally {
            reuse.set(false);
            rt.close();
        }
        for (Thread t : made) {
            t.join(5000);
            assertFalse(t.isAlive(), "thread left alive after close: " + t);
        }
    }
}
