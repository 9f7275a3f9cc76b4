package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code WorkQueue.destroy()} under a scheduled view whose fixed-rate task has fallen behind.
 *
 * <p>Contract: README "java.util.concurrent interop" / "The executor views against the JSR-166
 * TCK": "a queue destroyed under a view strands its armed tasks, whose futures the view's
 * {@code shutdown()} fails with an {@code IllegalStateException}"; {@code WorkQueue.destroy()}
 * javadoc: it drains the queue, then refuses every later queue; an armed item is cancelled and
 * reported. The periodic re-arm is the view's own ({@code afterRun}), not the user's chained
 * work, and a fixed-delay task or an on-time fixed-rate task is refused by the destroy (the
 * arm sees the queue dying).
 *
 * <p>What happens: a fixed-rate task that is late (period shorter than a run, here 1 ns, a
 * legal period) is re-armed with a zero delay, which {@code queueDelayedNanos} turns into an
 * immediate insert from the item's own worker: chained work, which the drain inside destroy
 * accepts. Each run re-queues the next one, the drain never sees the queue idle, and
 * {@code destroy()} (not interruptible, no timeout) never returns while the task lives; the
 * task goes on running millions of times "during" the destroy. Only a {@code Future.cancel}
 * from elsewhere ends it. (A runtime {@code close()} in the same state sits out its whole
 * {@code closeTimeout}.) A fixed-delay task with a tiny delay (1 ns) does the same: its next
 * time has passed by the re-arm, so the re-arm delay is zero too.
 *
 * <p>Cause (guess): {@code WorkQueueExecutorService.afterRun} re-arms with
 * {@code f.delayNanos()} == 0 through {@code WorkQueue.queueDelayedNanos} ->
 * {@code WorkqueueStruct.insertClaimed}, which accepts it as chained work while DRAINING |
 * DESTROYING; the non-zero-delay path is refused by {@code TimerQueue.arm}'s {@code isDying()}.
 */
@Timeout(60)
class Break9DwDestroyUnderLateFixedRateTest {
    @Test
    void destroyReturnsUnderALateFixedRateTask() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.closeTimeout(Duration.ofSeconds(3)))) {
            WorkQueue q = t.queue("q").build();
            ScheduledExecutorService ses = q.asScheduledExecutorService();
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch tenRuns = new CountDownLatch(10);
            ScheduledFuture<?> f = ses.scheduleAtFixedRate(() -> {
                runs.incrementAndGet();
                tenRuns.countDown();
            }, 0, 1, TimeUnit.NANOSECONDS);
            assertThat(tenRuns.await(10, TimeUnit.SECONDS)).isTrue();
            Thread destroyer = new Thread(q::destroy, "destroyer");
            destroyer.start();
            destroyer.join(10_000);
            boolean hung = destroyer.isAlive();
            int runsWhileDestroying = runs.get();
            f.cancel(false); // lets the destroy end
            destroyer.join(10_000);
            assertThat(destroyer.isAlive()).isFalse();
            assertThat(hung).as("destroy() still running after 10 s; the task ran " + runsWhileDestroying
                    + " times").isFalse();
            assertThat(q.isDestroyed()).isTrue();
        }
    }

    @Test
    void destroyReturnsUnderAFixedDelayTaskWithATinyDelay() throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            ScheduledExecutorService ses = q.asScheduledExecutorService();
            CountDownLatch ten = new CountDownLatch(10);
            ScheduledFuture<?> f = ses.scheduleWithFixedDelay(ten::countDown, 0, 1, TimeUnit.NANOSECONDS);
            assertThat(ten.await(10, TimeUnit.SECONDS)).isTrue();
            Thread d = new Thread(q::destroy);
            d.start();
            d.join(10_000);
            boolean alive = d.isAlive();
            f.cancel(false);
            d.join(10_000);
            assertThat(alive).as("destroy() still running after 10 s under a fixed-delay task of 1 ns").isFalse();
            assertThat(f.isDone()).isTrue();
        }
    }
}
