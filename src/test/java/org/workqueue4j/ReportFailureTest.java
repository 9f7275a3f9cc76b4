package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/**
 * A report that cannot be delivered (the user's handler throws and the {@code org.workqueue4j}
 * logger throws too) must not abort what the engine was doing when it reported: every item of a
 * batch of reports ends (not pending, flushable) and the report itself goes to
 * {@code System.err} as the last resort, never nowhere.
 */
class ReportFailureTest {
    @Test
    void aDestroyWhoseReportsCannotBeLoggedStillEndsEveryArmedItem() throws Exception {
        LibraryLog h = LibraryLog.failing(); // a logging back end that fails on every record
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        AtomicInteger handled = new AtomicInteger();
        WorkQueuesConfig config = WorkQueuesConfig.builder().cpus(2)
                .uncaughtWorkHandler((q, w, e) -> {
                    handled.incrementAndGet();
                    throw new IllegalStateException("handler down");
                }).build();
        try (WorkQueues rt = WorkQueues.create(config)) {
            WorkQueue dies = rt.queueBuilder("dies").build();
            DelayedWork first = new DelayedWork("armed-1", () -> { });
            DelayedWork second = new DelayedWork("armed-2", () -> { });
            assertThat(dies.queueDelayed(first, Duration.ofHours(1))).isTrue();
            assertThat(dies.queueDelayed(second, Duration.ofHours(1))).isTrue();
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try {
                dies.destroy();
            } finally {
                System.setErr(err);
            }
            assertThat(handled).as("each armed item was handed to the handler").hasValue(2);
            for (DelayedWork d : new DelayedWork[] {first, second}) {
                assertThat(d.isPending()).as(d.name() + " ended").isFalse();
                assertThat(d.flush(Duration.ofSeconds(30))).as(d.name() + " flushes").isTrue();
            }
        } finally {
            System.setErr(err);
            h.close();
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertThat(out).as("each undeliverable report went to System.err")
                .contains("armed-1").contains("armed-2").contains("'dies'");
    }
}
