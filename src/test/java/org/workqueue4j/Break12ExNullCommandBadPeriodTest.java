package org.workqueue4j;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Not a strict contract violation (the ScheduledExecutorService javadoc lists both exceptions
 * and does not order them): scheduleAtFixedRate/WithFixedDelay(null, d, 0, unit) threw
 * IllegalArgumentException from the view (before; README faults table) but NullPointerException from
 * ScheduledThreadPoolExecutor (which checks command/unit first). The README says the scheduled
 * view follows ScheduledThreadPoolExecutor.
 * Expected (STPE-compatible): NullPointerException for a null command whatever the period.
 */
@Timeout(60)
class Break12ExNullCommandBadPeriodTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void aNullCommandIsANullPointerExceptionWhateverThePeriod() {
        ScheduledExecutorService ref = Executors.newScheduledThreadPool(1);
        ScheduledExecutorService e = t.queue("e2").build().asScheduledExecutorService();
        for (ScheduledExecutorService s : List.of(ref, e)) {
            assertThatThrownBy(() -> s.scheduleAtFixedRate(null, 1, 0, SECONDS)).as(s.toString()).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> s.scheduleWithFixedDelay(null, 1, -1, SECONDS)).as(s.toString()).isInstanceOf(NullPointerException.class);
        }
        ref.shutdown();
    }

}
