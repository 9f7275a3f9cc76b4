package org.workqueue4j.jmh;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
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
 * Several producers, one queue: {@code p1}, {@code p2}, {@code p4} run the same operation on 1,
 * 2 and 4 JMH threads. One operation = a producer queues its own {@value #BATCH} pre-allocated
 * items, then waits until they ran. Score: batches/s summed over producers; secondary
 * {@code items}: items/s summed over producers.
 *
 * <p>Waiting: the workqueue kinds call {@code queue.flush()}, which waits for every item queued
 * before it, the other producers' included, and serialises on the queue's flush mutex; the
 * j.u.c executors await a per-producer {@code CountDownLatch(BATCH)}.
 *
 * <p><b>This machine has two cores.</b> With 2 and 4 producers plus 2 workers the threads
 * outnumber the cores, so these numbers show contention (pool lock, flush mutex, executor
 * queue) and scheduling, not parallel speed-up: read them as "how much throughput is lost when
 * producers pile up", compared between implementations in the same run.
 *
 * <p>Run:
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar ProducerScalingBenchmark \
 *      -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class ProducerScalingBenchmark {
    static final int BATCH = 16;

    @Param({"wq-percpu", "wq-unbound", "tpe", "fjp"})
    public String impl;

    WorkQueues runtime;
    WorkQueue queue;
    ThreadPoolExecutor tpe;
    ForkJoinPool fjp;

    @Setup(Level.Trial)
    public void setUp() {
        switch (impl) {
            case "tpe":
                tpe = new ThreadPoolExecutor(2, 2, 1, TimeUnit.HOURS, new LinkedBlockingQueue<>());
                tpe.prestartAllCoreThreads();
                break;
            case "fjp":
                fjp = new ForkJoinPool(2);
                break;
            default:
                runtime = Fixtures.runtime();
                queue = Fixtures.queue(runtime, impl);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        Fixtures.closeAll(queue, runtime, tpe, fjp);
    }

    /** One producer's items, latch and counters. */
    @State(Scope.Thread)
    public static class Producer {
        final Item[] items = new Item[BATCH];
        final Work[] works = new Work[BATCH];
        volatile CountDownLatch latch;
        long batches;

        final class Item implements Runnable {
            long runs;

            void body() {
                Blackhole.consumeCPU(Fixtures.ITEM_TOKENS);
                runs++;
            }

            @Override
            public void run() {
                body();
                latch.countDown();
            }
        }

        @Setup(Level.Trial)
        public void setUp() {
            for (int i = 0; i < BATCH; i++) {
                items[i] = new Item();
                works[i] = new Work("producer-item-" + i, items[i]::body);
            }
        }

        @TearDown(Level.Trial)
        public void check() {
            long ran = 0;
            for (Item it : items) {
                ran += it.runs;
            }
            if (ran != batches * BATCH) {
                throw new IllegalStateException(ran + " bodies ran for " + batches + " batches of " + BATCH);
            }
        }
    }

    /** Items/s as a secondary result, summed over producer threads. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long items;

        @Setup(Level.Iteration)
        public void reset() {
            items = 0;
        }
    }

    @Benchmark
    @Threads(1)
    public void p1(Producer p, Counters c) throws InterruptedException {
        batch(p, c);
    }

    @Benchmark
    @Threads(2)
    public void p2(Producer p, Counters c) throws InterruptedException {
        batch(p, c);
    }

    @Benchmark
    @Threads(4)
    public void p4(Producer p, Counters c) throws InterruptedException {
        batch(p, c);
    }

    private void batch(Producer p, Counters c) throws InterruptedException {
        switch (impl) {
            case "tpe":
                p.latch = new CountDownLatch(BATCH);
                for (Producer.Item it : p.items) {
                    tpe.execute(it);
                }
                p.latch.await();
                break;
            case "fjp":
                p.latch = new CountDownLatch(BATCH);
                for (Producer.Item it : p.items) {
                    fjp.execute(it);
                }
                p.latch.await();
                break;
            default:
                for (Work w : p.works) {
                    queue.queue(w);
                }
                queue.flush();
        }
        p.batches++;
        c.items += BATCH;
    }
}
