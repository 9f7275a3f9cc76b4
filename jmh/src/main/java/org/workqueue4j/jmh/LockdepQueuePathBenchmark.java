package org.workqueue4j.jmh;

import java.time.Duration;
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
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.Lockdep;

/**
 * Lockdep on or off on the queue path, with the flush annotation {@code DEFER_UNTIL_USED}
 * (the default) against {@code SKIP_NEVER_USED}: one operation queues a batch of {@value #N}
 * pre-allocated items on a per-CPU queue and flushes it; the score is ns per item (completion
 * included). The question it answers: does DEFER_UNTIL_USED cost anything measurable on the
 * queue path? (By construction it should not: after a queue's first item the insert path tests
 * the same "used" flag as SKIP_NEVER_USED.)
 * <ul>
 *   <li>{@code off}: the disabled validator.</li>
 *   <li>{@code lockdep-defer}: a {@code Lockdep} (WARN) with DEFER_UNTIL_USED.</li>
 *   <li>{@code lockdep-skip}: a {@code Lockdep} (WARN) with SKIP_NEVER_USED.</li>
 * </ul>
 *
 * <p>Run (about two minutes on 2 cores, alone on the machine):
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar LockdepQueuePathBenchmark \
 *      -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class LockdepQueuePathBenchmark {
    static final int N = 64;

    @Param({"off", "lockdep-defer", "lockdep-skip"})
    public String impl;

    private WorkQueues rt;
    private WorkQueue q;
    private Work[] items;
    private final int[] runs = new int[N];
    private long batches;

    @Setup(Level.Trial)
    public void setUp() {
        LockDependencyValidator v = impl.equals("off") ? LockDependencyValidator.disabled()
                : Lockdep.builder().policy(org.workqueue4j.lockdep.ReportPolicy.WARN).quiet().build();
        FlushAnnotation a = impl.equals("lockdep-skip") ? FlushAnnotation.SKIP_NEVER_USED : FlushAnnotation.DEFER_UNTIL_USED;
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).idleTimeout(Duration.ofHours(1))
                .validator(v).flushAnnotation(a).build());
        q = rt.queueBuilder("jmh-lockdep-path").build();
        items = new Work[N];
        for (int i = 0; i < N; i++) {
            int k = i;
            items[i] = new Work("item-" + i, () -> {
                Blackhole.consumeCPU(Fixtures.ITEM_TOKENS);
                runs[k]++;
            });
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        q.destroy();
        rt.close();
        for (int r : runs) {
            if (r != batches) {
                throw new IllegalStateException("an item ran " + r + " times in " + batches + " batches");
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void queueRunFlush() {
        for (Work w : items) {
            q.queue(w);
        }
        q.flush();
        batches++;
    }
}
