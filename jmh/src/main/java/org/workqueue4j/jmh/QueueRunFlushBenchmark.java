package org.workqueue4j.jmh;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;

/**
 * Queue → run → wait: one operation queues a batch of {@code n} pre-allocated items and returns
 * only when every one of them has run. The score is batches/s; the secondary result
 * {@code items} is items/s (= n × batches/s), the number to compare across {@code n}.
 *
 * <p>Implementations, all in one run so that their ratios share the machine's noise:
 * <ul>
 *   <li>{@code wq-percpu}, {@code wq-unbound}, {@code wq-ordered}: {@code queue(work)} n times,
 *       then {@code queue.flush()}. The {@link Work} objects are created once and re-queued every
 *       batch: the library's zero-allocation path.</li>
 *   <li>{@code tpe}: {@code ThreadPoolExecutor(2, 2)} on a {@code LinkedBlockingQueue},
 *       {@code execute(runnable)} n times, then a {@code CountDownLatch(n)} (new per batch, as
 *       j.u.c users write it) is awaited.</li>
 *   <li>{@code fjp}: {@code new ForkJoinPool(2)}, {@code execute(runnable)} n times, latch as
 *       above.</li>
 *   <li>{@code tpe-barrier}, {@code fjp-barrier}: the same two executors flushed as
 *       {@code queue.flush()} is, without knowing n: {@code execute(runnable)} n times, then one
 *       barrier task per worker, each held until all have arrived ({@link BarrierFlush}, whose
 *       javadoc says why that covers every earlier task, and what the FJP variant needs: a pool
 *       capped at 2 threads, and a re-check for still-queued submissions). Each batch then
 *       checks that every body ran, so a flush that returned early fails the trial.</li>
 *   <li>{@code single}: {@code Executors.newSingleThreadExecutor()}, latch as {@code tpe}.</li>
 *   <li>{@code inline}: the n bodies run in a plain loop on the caller: the floor.</li>
 *   <li>{@code wq-percpu-lockdep}: {@code wq-percpu} on a runtime whose {@code Lockdep}
 *       validator annotates every run (queue map, then work map) and every flush.</li>
 *   <li>{@code wq-unbound-ma2}: diagnostic, an unbound queue with {@code maxActive(2)}: shows
 *       how much of {@code wq-unbound}'s cost is the unbound pool waking (and growing) workers
 *       for every queued item.</li>
 * </ul>
 * Each item body burns {@link Fixtures#ITEM_TOKENS} tokens ({@code Blackhole.consumeCPU}) and
 * bumps its own run counter; teardown checks that exactly n × batches bodies ran, so a benchmark
 * that "waited" without running everything fails instead of scoring.
 *
 * <p>Allocation: read {@code gc.alloc.rate.norm} (bytes per batch, all threads) divided by n.
 * For the workqueue kinds the target is 0 bytes per item.
 *
 * <p>Run (one fork, about 3 minutes on 2 cores):
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar QueueRunFlushBenchmark \
 *      -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 * The issue-15 comparison table (per-CPU, unbound, ordered, TPE(2) latch and barrier, FJP(2)
 * latch and barrier, single-thread; n = 1, 16, 256), alone on the machine:
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar QueueRunFlushBenchmark \
 *      -p impl=wq-percpu,wq-unbound,wq-ordered,tpe,tpe-barrier,fjp,fjp-barrier,single \
 *      -f 2 -wi 3 -i 5 -w 1s -r 1s -prof gc -rf json -rff jmh/target/table15.json
 * python3 jmh/table.py jmh/target/table15.json
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class QueueRunFlushBenchmark {

    @Param({"1", "16", "256"})
    public int n;

    @Param({"wq-percpu", "wq-percpu-lockdep", "wq-unbound", "wq-ordered", "wq-unbound-ma2", "tpe", "tpe-barrier",
            "fjp", "fjp-barrier", "single", "inline"})
    public String impl;

    private WorkQueues runtime;
    private WorkQueue queue;
    private ThreadPoolExecutor tpe;
    private ForkJoinPool fjp;
    /** The j.u.c executor of the latch kinds ({@code tpe}, {@code fjp}, {@code single}). */
    private ExecutorService latched;
    /** The barrier flush of the {@code -barrier} kinds. */
    private BarrierFlush barrier;
    private ExecutorService single;

    private Item[] items;
    private Work[] works;
    /** The bodies alone (no latch), for the barrier-flushed executors. */
    private Runnable[] bodies;
    /** The current batch's latch (tpe/fjp); written before the batch is submitted. */
    private volatile CountDownLatch latch;
    private long batches;

    /** One item: its body, its run counter, and the latch count-down for j.u.c executors. */
    final class Item implements Runnable {
        long runs; // written by whichever thread runs the item; read after a wait (happens-before)

        /** The body every implementation runs. */
        void body() {
            Blackhole.consumeCPU(Fixtures.ITEM_TOKENS);
            runs++;
        }

        @Override
        public void run() { // j.u.c executors: body, then count down this batch's latch
            body();
            latch.countDown();
        }
    }

    /** Items/s as a secondary result (JMH {@code @AuxCounters}). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long items;

        @Setup(Level.Iteration)
        public void reset() {
            items = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        if (impl.startsWith("wq-")) {
            runtime = Fixtures.runtime(impl); // first: with lockdep on, items learn their construction site
        }
        items = new Item[n];
        works = new Work[n];
        bodies = new Runnable[n];
        for (int i = 0; i < n; i++) {
            Item it = new Item();
            items[i] = it;
            works[i] = new Work("item-" + i, it::body);
            bodies[i] = it::body;
        }
        switch (impl) {
            case "tpe":
            case "tpe-barrier":
                tpe = new ThreadPoolExecutor(2, 2, 1, TimeUnit.HOURS, new LinkedBlockingQueue<>());
                tpe.prestartAllCoreThreads();
                latched = tpe;
                barrier = BarrierFlush.of(tpe, 2); // used by tpe-barrier only
                break;
            case "fjp":
                fjp = new ForkJoinPool(2);
                latched = fjp;
                break;
            case "fjp-barrier":
                fjp = BarrierFlush.forkJoinPool(2); // at most 2 threads: see BarrierFlush
                latched = fjp;
                barrier = BarrierFlush.of(fjp, 2);
                break;
            case "single":
                single = Executors.newSingleThreadExecutor();
                latched = single;
                break;
            case "inline":
                break;
            default:
                queue = Fixtures.queue(runtime, impl);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        Fixtures.closeAll(queue, runtime, tpe, fjp, single);
        long ran = 0;
        for (Item it : items) {
            ran += it.runs;
        }
        if (ran != batches * n) {
            throw new IllegalStateException(impl + ": " + ran + " bodies ran for " + batches + " batches of " + n);
        }
    }

    /** Every body ran once per batch so far, this one included (n plain reads, after the flush). */
    private void checkAllRan() {
        long want = batches + 1;
        for (Item it : items) {
            if (it.runs != want) {
                throw new IllegalStateException(impl + ": flush returned before an earlier task finished (runs "
                        + it.runs + ", want " + want + ")");
            }
        }
    }

    @Benchmark
    public void batch(Counters c) throws InterruptedException {
        switch (impl) {
            case "tpe":
            case "fjp":
            case "single":
                latch = new CountDownLatch(n);
                ExecutorService e = latched;
                for (Item it : items) {
                    e.execute(it);
                }
                latch.await();
                break;
            case "tpe-barrier":
            case "fjp-barrier":
                ExecutorService b = latched;
                for (Runnable r : bodies) {
                    b.execute(r);
                }
                barrier.flush();
                checkAllRan(); // a barrier flush that returned early fails the trial
                break;
            case "inline":
                for (Item it : items) {
                    it.body();
                }
                break;
            default:
                WorkQueue q = queue;
                for (Work w : works) {
                    q.queue(w);
                }
                q.flush();
        }
        batches++;
        c.items += n;
    }
}
