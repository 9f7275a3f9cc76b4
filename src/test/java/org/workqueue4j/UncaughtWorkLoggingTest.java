package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

/**
 * The default uncaught-work handling (no handler configured) is done by the engine itself, with
 * no handler object: an item that throws is logged at ERROR on the {@code org.workqueue4j}
 * logger, naming the item and its queue, with the exception attached; the worker survives.
 */
class UncaughtWorkLoggingTest {
    @Test
    void withNoHandlerAnItemsExceptionIsLoggedWithItsItemAndQueue() {
        LibraryLog log = LibraryLog.recording();
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build())) {
            WorkQueue q = rt.queueBuilder("logged").build();
            q.queue(new Work("thrower", () -> {
                throw boom;
            }));
            q.flush();
            boolean[] ranAfter = new boolean[1];
            q.queue(new Work("after", () -> ranAfter[0] = true));
            q.flush();
            assertThat(ranAfter[0]).as("the pool still runs items").isTrue();
        } finally {
            log.close();
        }
        assertThat(log.records).hasSize(1);
        LogRecord r = log.records.get(0);
        assertThat(r.getLevel()).isEqualTo(Level.SEVERE); // System.Logger's ERROR
        assertThat(r.getMessage()).contains("work 'thrower'").contains("queue 'logged'").contains("boom");
        assertThat(r.getThrown()).isSameAs(boom);
    }
}
