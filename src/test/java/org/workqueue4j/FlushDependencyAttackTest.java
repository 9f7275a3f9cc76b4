package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attacks on the kernel's check_flush_dependency() report (WorkqueueStruct.checkFlushDependency):
 * it is made once per flushing queue, so whatever keeps one report from being made must not
 * spend that once.
 */
@Timeout(120)
class FlushDependencyAttackTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    private long flushDependencyReports() {
        return t.reports.stream().filter(r -> r.contains("is flushing !WQ_MEM_RECLAIM")).count();
    }

    /*
     * An item of a memReclaim queue flushes a plain queue at every depth of its worker's stack
     * (StackProbeAttackTest.descend): the deepest attempts overflow before the check, some
     * overflow in the middle of building the report. The report must still be made once: by
     * the first attempt that gets through, or by a later flush on a shallow stack.
     */
    @Test
    @DisplayName("a flush dependency first met at the end of a stack is still reported")
    void aFlushDependencyFirstMetAtTheEndOfAStackIsStillReported() throws InterruptedException {
        WorkQueue reclaim = t.rt.queueBuilder("reclaim").memReclaim().build();
        WorkQueue plain = t.rt.queueBuilder("plain").build();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Work deep = new Work("deep", () -> {
            try {
                StackProbeAttackTest.descend(i -> plain.flush(), new int[] {0}, new AtomicReference<>());
                plain.flush(); // a shallow one: reports if nothing did
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        assertThat(reclaim.queue(deep)).isTrue();
        assertThat(deep.flush(Duration.ofSeconds(60))).isTrue();
        assertThat(failed.get()).isNull();
        assertThat(flushDependencyReports()).as("flush-dependency reports (%s)", t.reports).isGreaterThanOrEqualTo(1);
    }
}
