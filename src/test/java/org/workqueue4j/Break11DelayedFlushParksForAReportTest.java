package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.TestHooks;

/**
 * DelayedWork.flush() called just as the timer thread took the item off the heap, on a queue
 * that is draining: the expiry is refused, released and reported to the uncaught-work handler on
 * the timer thread. The flush waits for that report by design; it yielded in a loop for all of
 * it, as for a landing (a few lock hand-offs), while the handler, user code, can take as long as
 * it likes: never parked, no hung wait, on a worker counted as running. It parks now after a
 * short spin, as every wait for a report does.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break11DelayedFlushParksForAReportTest {
    private final List<String> reported = new CopyOnWriteArrayList<>();
    private volatile BiConsumer<Work, Throwable> onReport = (w, e) -> { };

    /**
     * The timer thread pops D (its PENDING still set) just as another thread calls D.flush(), whose
     * fireNow(wait) finds D off the heap and waits for the timer thread's mark. D's queue drains:
     * the expiry is refused, released and reported to the handler, on the timer thread, which the
     * handler holds. The flush waits for that report by design, but spins (onSpinWait, then
     * Thread.yield) for all of it, as if the timer ran engine code only: it never parks (a report
     * wait parks in awaitNotFiredElsewhere), is no hung wait, and on a worker counts as running.
     */
    @Test
    void delayedFlushParksWhileTheTimerThreadDeliversARefusedExpirysReport() throws Exception {
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().name("firenow").cpus(1)
                .reportListener(s -> { })
                .uncaughtWorkHandler((queue, work, error) -> {
                    reported.add(work == null ? null : work.name());
                    onReport.accept(work, error);
                }).build());
        WorkQueue q = rt.queueBuilder("q").build();
        DelayedWork d = new DelayedWork("D", () -> { });
        CountDownLatch blockerStarted = new CountDownLatch(1);
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        CountDownLatch drainWaiting = new CountDownLatch(1);
        CountDownLatch timerAtFire = new CountDownLatch(1);
        CountDownLatch releaseTimer = new CountDownLatch(1);
        CountDownLatch handlerIn = new CountDownLatch(1);
        CountDownLatch releaseHandler = new CountDownLatch(1);
        Thread drainer = null;
        Thread flusher = null;
        try {
            TestHooks.install((point, subject) -> {
                try {
                    if (point.equals("flush.waiting")) {
                        drainWaiting.countDown();
                    } else if (point.equals("timer.fire") && subject == d.node) {
                        timerAtFire.countDown();
                        releaseTimer.await(60, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            onReport = (w, e) -> {
                if (w == d) {
                    handlerIn.countDown();
                    try {
                        releaseHandler.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            assertThat(q.queue(new Work("blocker", () -> {
                blockerStarted.countDown();
                try {
                    releaseBlocker.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }))).isTrue();
            assertThat(blockerStarted.await(30, TimeUnit.SECONDS)).isTrue();
            drainer = new Thread(q::drain, "drainer");
            drainer.start();
            assertThat(drainWaiting.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(q.queueDelayed(d, Duration.ofMillis(1))).isTrue(); // arming is allowed while draining
            assertThat(timerAtFire.await(30, TimeUnit.SECONDS)).isTrue(); // popped: off the heap, PENDING set
            Thread f = new Thread(d::flush, "flusher");
            flusher = f;
            f.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> java.util.Arrays.stream(f.getStackTrace())
                    .anyMatch(e -> e.getMethodName().startsWith("fireNow")));
            releaseTimer.countDown(); // the drain refuses the expiry: released, then reported (held)
            assertThat(handlerIn.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(d.isPending()).isFalse();
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(f.getState())
                            .as("the flusher, waiting for the timer thread's report (user code), parks; stack %s",
                                    java.util.Arrays.toString(f.getStackTrace()))
                            .isIn(Thread.State.WAITING, Thread.State.TIMED_WAITING));
        } finally {
            releaseTimer.countDown();
            releaseHandler.countDown();
            releaseBlocker.countDown();
            if (flusher != null) {
                flusher.join(30_000);
            }
            if (drainer != null) {
                drainer.join(30_000);
            }
            TestHooks.install(null);
            rt.close();
        }
    }
}
