package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scheduled futures of two views due at the same time: {@code compareTo} breaks the tie with a
 * sequence shared by every view (as ScheduledThreadPoolExecutor's static sequencer), so two
 * distinct futures never compare equal (a sorted set of them keeps both). Before (README faults
 * table): each view counted its own sequence from 1, so the first futures of two views due at
 * the same time compared equal.
 */
@Timeout(60)
class Break12ExCompareAcrossViewsTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void futuresOfTwoViewsDueAtTheSameTimeNeverCompareEqual() throws Exception {
        ScheduledExecutorService a = t.queue("a").build().asScheduledExecutorService();
        ScheduledExecutorService b = t.queue("b").build().asScheduledExecutorService();
        ScheduledFuture<?> fa = a.schedule(() -> { }, 1, TimeUnit.HOURS);
        ScheduledFuture<?> fb = b.schedule(() -> { }, 1, TimeUnit.HOURS);
        Field time = fa.getClass().getDeclaredField("time"); // the due time: made equal, as two calls in one nanosecond would
        time.setAccessible(true);
        time.setLong(fb, time.getLong(fa));
        assertThat(fa.compareTo(fb)).isNotZero();
        assertThat(Integer.signum(fb.compareTo(fa))).isEqualTo(-Integer.signum(fa.compareTo(fb)));
        java.util.TreeSet<java.util.concurrent.Delayed> sorted = new java.util.TreeSet<>();
        sorted.add(fa);
        sorted.add(fb);
        assertThat(sorted).hasSize(2);
        a.shutdownNow();
        b.shutdownNow();
    }
}
