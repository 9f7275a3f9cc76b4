package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code DelayedWork.flush*} of an armed item whose function re-arms itself (a poller that
 * calls {@code queueDelayed(this, 1 h)} at the end of each run, the README's {@code poll}).
 *
 * <p>Contract: README "Delayed work, cancel, ordered queues": {@code poll.flush(); // fires an
 * armed timer now, then waits}; kernel {@code flush_delayed_work}: {@code if
 * (del_timer_sync(&dwork->timer)) __queue_work(...); return flush_work(&dwork->work);} -- the
 * timer armed at the call fires once, and a timer armed afterwards (by the run itself) stays
 * armed for its delay. One flush = one early run.
 *
 * <p>What happens: now and then a single flush runs the item twice (or more): the flusher
 * fires the timer, the worker takes the instance and starts it before the flusher links its
 * barrier, the flush reads {@code TARGET_TAKEN} ("re-armed and perhaps running already: look
 * again"), loops, and {@code fireArmedTimer} fires the timer that the run has just armed for
 * an hour from now. The 1 h re-arm runs at once: an extra, early run that nobody asked for.
 * Seen with {@code flush()}, {@code flush(Duration)}, {@code flushInterruptibly()} and
 * {@code flushAsync()} (each re-fires on a later pass), within the first few flushes.
 *
 * <p>Cause (guess): {@code DelayedWork.flush}/{@code flush(Duration)}/{@code flushInterruptibly}/
 * {@code flushAsyncInto} call {@code fireArmedTimer} on every pass of their retry loop instead of only for the
 * instance armed when the flush began.
 */
@Timeout(120)
class Break9DwFlushFiresRearmedTimerTest {
    private interface Flush {
        void flush(DelayedWork w) throws Exception;
    }

    private static void check(Flush flush) throws Exception {
        try (TestRuntime t = new TestRuntime()) {
            WorkQueue q = t.queue("q").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork[] w = new DelayedWork[1];
            w[0] = new DelayedWork("poll", () -> {
                runs.incrementAndGet();
                q.queueDelayed(w[0], Duration.ofHours(1)); // re-arms itself, as a poller does
            });
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int flushes = 0;
            while (flushes < 3000 && System.nanoTime() < end) {
                assertThat(w[0].isPending()).isFalse();
                assertThat(q.queueDelayed(w[0], Duration.ofHours(1))).isTrue();
                flush.flush(w[0]);
                flushes++;
                // the run re-armed the item for an hour: take that back (it must not have run)
                assertThat(w[0].cancelSync(Duration.ofSeconds(10))).isTrue();
                assertThat(runs.get()).as("runs after %d flushes, each of one armed instance", flushes)
                        .isEqualTo(flushes);
            }
        }
    }

    @Test
    void flushRunsTheArmedInstanceOnce() throws Exception {
        check(DelayedWork::flush);
    }

    @Test
    void timedFlushRunsTheArmedInstanceOnce() throws Exception {
        check(w -> assertThat(w.flush(Duration.ofSeconds(10))).isTrue());
    }

    @Test
    void interruptibleFlushRunsTheArmedInstanceOnce() throws Exception {
        check(w -> assertThat(w.flushInterruptibly()).isTrue());
    }

    @Test
    void asyncFlushRunsTheArmedInstanceOnce() throws Exception {
        check(w -> assertThat(w.flushAsync().get(10, TimeUnit.SECONDS)).isTrue());
    }
}
