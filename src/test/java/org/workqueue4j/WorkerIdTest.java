package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

/**
 * Worker ids (the {@code N} of {@code kworker/u4:N}) are reserved from a pool's id bitmap before
 * the factory is called: more than 64 workers alive at once in one pool (past the bitmap's first
 * word) still get distinct ids, and an id is given back when its worker leaves.
 */
class WorkerIdTest {
    @Test
    void seventyBusyWorkersOfOnePoolHaveDistinctIdsPastTheFirst64() {
        int n = 70;
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(200))) {
            WorkQueue q = t.queue("ids").unbound().maxActive(n).build();
            CountDownLatch started = new CountDownLatch(n);
            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < n; i++) {
                q.queue(new Work("block" + i, () -> {
                    started.countDown();
                    WorkQueueCoreTest.await(release);
                }));
            }
            WorkQueueCoreTest.await(started); // n items running at once: n workers of one pool
            release.countDown();
            q.flush();
            List<Integer> ids = t.threads.stream().map(Thread::getName)
                    .filter(s -> s.contains("kworker/u"))
                    .map(s -> Integer.parseInt(s.substring(s.lastIndexOf(':') + 1)))
                    .toList();
            assertThat(ids).doesNotHaveDuplicates().hasSizeGreaterThanOrEqualTo(n);
            assertThat(ids).contains(0, 63, 64, n - 1);
        }
    }
}
