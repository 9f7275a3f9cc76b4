package org.workqueue4j.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;

/**
 * Concurrent flushers of one busy queue: {@code k1}, {@code k2}, {@code k4} run
 * {@code queue.flush()} in a loop on 1, 2 and 4 JMH threads. Score: average time per flush, per
 * flusher (Mode.AverageTime, µs/op). If k concurrent flushers cost about one flush (a flusher
 * that arrives while another waits shares the colour flips and waits alongside it, as the
 * kernel's flusher queue does), the time per flush stays about the same from k1 to k4; if
 * flushes are serialised (each waits for the flush mutex, then does its own full flush), it
 * grows about k-fold. Flushes/s in total = k / score.
 *
 * <p>The queue is kept busy by its own items ({@value #ITEMS} of them, each burning
 * {@value #TOKENS} tokens): every item queues itself again when it has run, so the queue never
 * empties and each flush waits for the items queued before it (about {@value #ITEMS} runs),
 * never for the ones queued after (a flush is not livelocked by new items). Teardown stops the
 * re-queueing before destroying the queue.
 *
 * <p><b>This machine has two cores</b>: 2 workers plus k flushers oversubscribe it from k = 1;
 * read the numbers as ratios within one run.
 *
 * <p>Run:
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar ConcurrentFlushBenchmark \
 *      -f 2 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class ConcurrentFlushBenchmark {
    static final int ITEMS = 32;
    static final long TOKENS = 64;

    /**
     * The queue kinds: per-CPU, and unbound with max_active 2 (a plain unbound queue runs its 32
     * busy items on as many workers, whose scheduling then dominates every flush).
     */
    @Param({"wq-percpu", "wq-unbound-ma2"})
    public String impl;

    WorkQueues runtime;
    WorkQueue queue;
    /** Set before teardown destroys the queue: items stop queueing themselves again. */
    volatile boolean stop;
    private Work[] works;

    @Setup(Level.Trial)
    public void setUp() {
        runtime = Fixtures.runtime();
        queue = Fixtures.queue(runtime, impl);
        works = new Work[ITEMS];
        for (int i = 0; i < ITEMS; i++) {
            Work[] self = new Work[1];
            self[0] = new Work("busy-" + i, () -> {
                Blackhole.consumeCPU(TOKENS);
                if (!stop) {
                    queue.queue(self[0]); // chained: the queue never runs dry
                }
            });
            works[i] = self[0];
        }
        for (Work w : works) {
            queue.queue(w);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        stop = true;
        for (Work w : works) {
            w.cancelSync();
        }
        Fixtures.closeAll(queue, runtime);
    }

    @Benchmark
    @Threads(1)
    public void k1() {
        queue.flush();
    }

    @Benchmark
    @Threads(2)
    public void k2() {
        queue.flush();
    }

    @Benchmark
    @Threads(4)
    public void k4() {
        queue.flush();
    }
}
