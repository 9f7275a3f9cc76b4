package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code setMaxActive(0)} (issue 12 defect 12; README "Faults and bad input"): the kernel's
 * {@code workqueue_set_max_active} clamps to [1, 2048] with a warning; only
 * {@code alloc_workqueue} (the builder) maps 0 to the default.
 */
class SetMaxActiveZeroTest {
    private final TestRuntime t = new TestRuntime();
    private final Logger log = Logger.getLogger("org.workqueue4j");
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                Object[] ps = r.getParameters();
                warnings.add(ps == null ? r.getMessage() : java.text.MessageFormat.format(r.getMessage(), ps));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    SetMaxActiveZeroTest() {
        log.addHandler(capture);
    }

    @AfterEach
    void close() {
        log.removeHandler(capture);
        t.close();
    }

    @Test
    @DisplayName("setMaxActive(0) clamps to 1 with a warning naming the queue; the builder's 0 is still the default")
    void setMaxActiveZeroClampsToOne() {
        WorkQueue q = t.queue("zero").unbound().maxActive(0).build();
        assertThat(q.maxActive()).as("builder: 0 = default").isEqualTo(WorkQueue.DEFAULT_MAX_ACTIVE);
        assertThat(warnings).isEmpty();

        q.setMaxActive(0);

        assertThat(q.maxActive()).as("kernel workqueue_set_max_active clamps 0 to 1").isEqualTo(1);
        assertThat(warnings).anyMatch(w -> w.contains("max_active 0") && w.contains("zero")
                && w.contains("clamping between 1 and " + WorkQueue.MAX_ACTIVE));
        q.setMaxActive(3);
        assertThat(q.maxActive()).isEqualTo(3);
    }
}
