package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.DelayedWork;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * An uncaught-work handler told of a refused expiry (under the item's timer map) that cancels,
 * flushes and re-queues that same item: no deadlock is possible, so under THROW nothing throws.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break2HandlerReentryTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private final List<Throwable> inHandler = new CopyOnWriteArrayList<>();
    private final List<String> told = new CopyOnWriteArrayList<>();
    private final AtomicReference<WorkQueue> spare = new AtomicReference<>();
    private final CountDownLatch handled = new CountDownLatch(1);
    private WorkQueues rt;
    private Lockdep lockdep;
    private final AtomicInteger runs = new AtomicInteger();

    private WorkQueues runtime() {
        lockdep = Lockdep.builder().policy(ReportPolicy.THROW).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep)
                .flushAnnotation(FlushAnnotation.ALWAYS)
                .uncaughtWorkHandler((q, w, e) -> {
                    told.add((w == null ? "?" : w.name()) + ": " + e);
                    if (w instanceof DelayedWork d) {
                        try {
                            d.cancelSync();
                            d.flush();
                            assertThat(spare.get().queue(d)).isTrue();
                            d.flush();
                            d.cancelSync();
                        } catch (Throwable t) {
                            inHandler.add(t);
                        }
                    }
                    handled.countDown();
                }).build());
        return rt;
    }

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    private static void await(CountDownLatch c) {
        try {
            assertThat(c.await(30, TimeUnit.SECONDS)).as("latch").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private void check() {
        assertThat(inHandler).as("the handler's own calls on the item it was told of (told: %s)", told).isEmpty();
        assertThat(reports).as("lockdep reports").isEmpty();
        assertThat(runs.get()).as("re-queued from the handler: ran once").isEqualTo(1);
    }

    /** The timer thread's report of an expiry refused by a draining queue. */
    @Test
    void theTimerThreadsReport() throws Exception {
        WorkQueues r = runtime();
        spare.set(r.queueBuilder("spare").build());
        WorkQueue q = r.queueBuilder("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("blocker", () -> {
            started.countDown();
            await(release);
        }));
        await(started);
        Thread drainer = new Thread(q::drain, "drainer");
        drainer.start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> drainer.getState() == Thread.State.WAITING
                || drainer.getState() == Thread.State.TIMED_WAITING);
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue();
        await(handled);
        release.countDown();
        drainer.join(30_000);
        check();
    }

    /** A flush's early fire refused by a draining queue: reported on the flusher's thread. */
    @Test
    void theFlushersOwnReport() throws Exception {
        WorkQueues r = runtime();
        spare.set(r.queueBuilder("spare").build());
        WorkQueue q = r.queueBuilder("q").build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        q.queue(new Work("blocker", () -> {
            started.countDown();
            await(release);
        }));
        await(started);
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        Thread drainer = new Thread(q::drain, "drainer");
        drainer.start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> drainer.getState() == Thread.State.WAITING
                || drainer.getState() == Thread.State.TIMED_WAITING);
        try {
            d.flush();
        } catch (IllegalStateException e) {
            // the refusal may be thrown to the flusher as well
        }
        await(handled);
        release.countDown();
        drainer.join(30_000);
        check();
    }

    /** A destroy's report of an item armed for the queue. */
    @Test
    void theDestroyersReport() throws Exception {
        WorkQueues r = runtime();
        spare.set(r.queueBuilder("spare").build());
        WorkQueue q = r.queueBuilder("q").build();
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
        q.destroy();
        await(handled);
        check();
    }
}
