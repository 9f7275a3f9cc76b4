package org.workqueue4j.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;

/**
 * What queue-to-start latency statistics cost: a batch of {@value #BATCH} idle items queued on a
 * per-CPU queue, run and flushed, in ns per item (queue + run + the flush's share), with
 * {@code runtime.setLatencyStats} off (the default: one volatile read of the flag per queue) and
 * on (one more {@code System.nanoTime()} per queue). The difference between the two rows is the
 * price of the switch; {@code -prof gc} shows that neither allocates per item.
 *
 * <p>Run:
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar LatencyStatsBenchmark \
 *      -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class LatencyStatsBenchmark {
    static final int BATCH = 64;

    @Param({"false", "true"})
    public boolean latencyStats;

    private WorkQueues runtime;
    private WorkQueue queue;
    private Work[] works;

    @Setup(Level.Trial)
    public void setUp() {
        runtime = Fixtures.runtime();
        runtime.setLatencyStats(latencyStats);
        queue = runtime.queueBuilder("latency-bench").build();
        works = new Work[BATCH];
        for (int i = 0; i < BATCH; i++) {
            works[i] = new Work("item-" + i, () -> Blackhole.consumeCPU(Fixtures.ITEM_TOKENS));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        runtime.close();
    }

    /** Queues the batch, then waits for it: every item is idle again afterwards. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void queueRunFlush(Blackhole bh) {
        for (Work w : works) {
            bh.consume(queue.queue(w));
        }
        queue.flush();
    }
}
