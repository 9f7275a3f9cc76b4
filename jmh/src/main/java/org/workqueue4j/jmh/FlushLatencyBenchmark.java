package org.workqueue4j.jmh;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;

/**
 * How long a flush takes, in ns per flush (Mode.AverageTime).
 *
 * <ul>
 *   <li>{@code queueFlushIdle}: {@code queue.flush()} with nothing queued: the cost of the
 *       flush-colour protocol itself (mutex, one pool lock per pool_workqueue, no hand-off).</li>
 *   <li>{@code queueFlushOneInFlight}: queue one item, then {@code queue.flush()}: a full
 *       round trip to a worker and back.</li>
 *   <li>{@code workFlushIdle}: {@code work.flush()} on an item that ran before and is idle.</li>
 *   <li>{@code workFlushOneInFlight}: queue the item, then {@code work.flush()} (barrier linked
 *       behind it).</li>
 *   <li>{@code jucBarrierFlushIdle} / {@code jucBarrierFlushOneInFlight}: the j.u.c way to flush
 *       a {@code ThreadPoolExecutor(2, 2)}: submit one barrier task per worker thread; each
 *       arrives at a {@code CountDownLatch(2)} and waits for the other, so both workers have
 *       finished everything submitted before; the caller waits for the latch. The latch is new
 *       per flush (it cannot be reset); the two barrier Runnables are pre-allocated.</li>
 * </ul>
 * The {@code kind} param picks the workqueue kind for the {@code queue*} and {@code work*}
 * methods; the j.u.c methods do not have it.
 *
 * <p>Target: {@code queueFlushIdle} at most half of {@code jucBarrierFlushIdle}.
 *
 * <p>Run:
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar FlushLatencyBenchmark \
 *      -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class FlushLatencyBenchmark {

    /** A queue of one kind and an item that has run on it once. */
    @State(Scope.Benchmark)
    public static class Wq {
        @Param({"wq-percpu", "wq-unbound"})
        public String kind;

        WorkQueues runtime;
        WorkQueue queue;
        Work work;
        long workRuns;

        @Setup(Level.Trial)
        public void setUp() {
            runtime = Fixtures.runtime();
            queue = Fixtures.queue(runtime, kind);
            work = new Work("flushed", () -> {
                Blackhole.consumeCPU(Fixtures.ITEM_TOKENS);
                workRuns++;
            });
            queue.queue(work); // it has run once: work.flush() below sees an item with a last pool
            queue.flush();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            queue.destroy();
            runtime.close();
        }
    }

    /** A ThreadPoolExecutor(2, 2), an item and the barrier task. */
    @State(Scope.Benchmark)
    public static class Juc {
        ThreadPoolExecutor tpe;
        Runnable item;
        Runnable barrier;
        volatile CountDownLatch arrived;
        long itemRuns;

        @Setup(Level.Trial)
        public void setUp() {
            tpe = new ThreadPoolExecutor(2, 2, 1, TimeUnit.HOURS, new LinkedBlockingQueue<>());
            tpe.prestartAllCoreThreads();
            item = () -> {
                Blackhole.consumeCPU(Fixtures.ITEM_TOKENS);
                itemRuns++;
            };
            barrier = () -> {
                CountDownLatch l = arrived;
                l.countDown();
                Fixtures.awaitUninterruptibly(l);
            };
        }

        /** Both workers reach a barrier, so both finished everything submitted before. */
        void flush() throws InterruptedException {
            CountDownLatch l = new CountDownLatch(2);
            arrived = l;
            tpe.execute(barrier);
            tpe.execute(barrier);
            l.await();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            tpe.shutdown();
            tpe.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Benchmark
    public void queueFlushIdle(Wq s) {
        s.queue.flush();
    }

    @Benchmark
    public long queueFlushOneInFlight(Wq s) {
        s.queue.queue(s.work);
        s.queue.flush();
        return s.workRuns; // read after the flush: keeps the item's effect observable
    }

    @Benchmark
    public boolean workFlushIdle(Wq s) {
        return s.work.flush();
    }

    @Benchmark
    public boolean workFlushOneInFlight(Wq s) {
        s.queue.queue(s.work);
        return s.work.flush();
    }

    @Benchmark
    public void jucBarrierFlushIdle(Juc s) throws InterruptedException {
        s.flush();
    }

    @Benchmark
    public long jucBarrierFlushOneInFlight(Juc s) throws InterruptedException {
        s.tpe.execute(s.item);
        s.flush();
        return s.itemRuns;
    }
}
