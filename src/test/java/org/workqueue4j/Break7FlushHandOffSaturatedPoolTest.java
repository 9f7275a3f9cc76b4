package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bounded flusher ({@code flush(Duration)}, {@code flushInterruptibly()}) that finishes other
 * callers' {@code flushAsync()} futures now hands their completion to
 * {@code CompletableFuture.defaultExecutor()}: the common pool whenever its parallelism is 2 or
 * more (any machine with 3+ CPUs; forced here in a child JVM, since this machine has 2). The
 * application's own common-pool tasks may all be blocked (I/O, a latch: nothing that
 * compensates): then the completion task waits behind them, and a future whose flush has
 * finished stays incomplete for as long as unrelated code keeps the pool busy (for ever if that
 * code waits for the future's dependent).
 *
 * <p>Contract (README, flushAsync): "completes when the condition of {@code flush()} holds: on a
 * queue, once every item queued before the call has finished ... The future is completed by the
 * worker that finishes the flush, or by a thread that calls flush/flushAsync on the queue when
 * that ends the round"; the change's faults row: the default executor "runs every task it
 * accepts" — it accepts this one, and does not run it. Nothing in the API asks the caller for
 * an executor or says the future depends on the common pool.
 *
 * <p>Expected: the future of {@code flushAsync()} on an empty queue, registered while an
 * interruptible flusher held the flip mutex, is complete once that flusher's
 * {@code flushInterruptibly()} and a later {@code flush()} have returned (before the change the
 * flusher completed it on its way out). Actual: still incomplete 5 s later; it completes only
 * once the application's common-pool tasks end.
 */
@Timeout(90)
class Break7FlushHandOffSaturatedPoolTest {
    @Test
    void aFlushAsyncFutureFinishedByAnInterruptibleFlusherCompletesWhileTheCommonPoolIsBusy() throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2",
                "-cp", System.getProperty("java.class.path"), Break7SaturatedPoolChild.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("child JVM ended").isTrue();
        String output = out.toString(StandardCharsets.UTF_8);
        assertThat(output).as("child output").contains("commonPoolParallelism=2").doesNotContain("FAIL setup");
        assertThat(output).as("child output").contains(Break7SaturatedPoolChild.OK);
    }
}
