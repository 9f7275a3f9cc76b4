package org.workqueue4j.jmh;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
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
 * Diagnostic: where the per-item time of {@link QueueRunFlushBenchmark} ({@code wq-percpu},
 * n = {@value #N}) goes, in ns per item. Each phase is measured with the other side kept out
 * of the way, so the sum of the two is what the path costs without producer/worker contention.
 *
 * <ul>
 *   <li>{@code queueSideOnly}: the producer queues {@value #N} items while the pool's only worker
 *       is blocked inside a "blocker" item (in a plain latch wait, so concurrency management
 *       wakes nobody): the cost of claim + insert, with the pool lock uncontended and no
 *       kick. Per-invocation setup starts the blocker; teardown releases it and flushes.</li>
 *   <li>{@code workerSideOnly}: the {@value #N} items are already queued behind the blocker
 *       (setup); the operation releases the blocker and flushes: the worker's take + run +
 *       completion cost per item, plus one wake-up amortised over {@value #N}.</li>
 *   <li>{@code endToEnd}: queue {@value #N} then flush, both sides at once (the
 *       {@code QueueRunFlushBenchmark} operation).</li>
 * </ul>
 * If {@code endToEnd} is well above {@code queueSideOnly + workerSideOnly}, the difference is
 * the two sides fighting over the pool lock (and the hand-offs that follow).
 *
 * <p>Run:
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar PathBreakdownBenchmark \
 *      -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class PathBreakdownBenchmark {
    static final int N = 256;

    private WorkQueues runtime;
    private WorkQueue queue;
    private Work[] works;
    private long runs;
    private Work blocker;
    private volatile CountDownLatch started;
    private volatile CountDownLatch release;

    @Setup(Level.Trial)
    public void setUp() {
        runtime = Fixtures.runtime();
        queue = Fixtures.queue(runtime, "wq-percpu");
        works = new Work[N];
        for (int i = 0; i < N; i++) {
            works[i] = new Work("item-" + i, () -> {
                Blackhole.consumeCPU(Fixtures.ITEM_TOKENS);
                runs++; // one worker (per-CPU pool, one producer): plain increment is safe
            });
        }
        blocker = new Work("blocker", () -> {
            started.countDown();
            Fixtures.awaitUninterruptibly(release);
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        queue.destroy();
        runtime.close();
    }

    /** Per invocation: the worker sits in the blocker; the items are queued if asked. */
    @State(Scope.Benchmark)
    public static class Blocked {
        @Setup(Level.Invocation)
        public void block(PathBreakdownBenchmark b) throws InterruptedException {
            b.started = new CountDownLatch(1);
            b.release = new CountDownLatch(1);
            b.queue.queue(b.blocker);
            b.started.await();
        }

        @TearDown(Level.Invocation)
        public void unblock(PathBreakdownBenchmark b) {
            b.release.countDown();
            b.queue.flush();
        }
    }

    /** Per invocation: the worker sits in the blocker with all N items queued behind it. */
    @State(Scope.Benchmark)
    public static class Backlog {
        @Setup(Level.Invocation)
        public void fill(PathBreakdownBenchmark b) throws InterruptedException {
            b.started = new CountDownLatch(1);
            b.release = new CountDownLatch(1);
            b.queue.queue(b.blocker);
            b.started.await();
            for (Work w : b.works) {
                b.queue.queue(w);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void queueSideOnly(Blocked blocked) {
        for (Work w : works) {
            queue.queue(w);
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public long workerSideOnly(Backlog backlog) {
        release.countDown();
        queue.flush();
        return runs;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public long endToEnd() {
        for (Work w : works) {
            queue.queue(w);
        }
        queue.flush();
        return runs;
    }
}
