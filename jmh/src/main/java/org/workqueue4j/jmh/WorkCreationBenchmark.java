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
import org.openjdk.jmh.annotations.Warmup;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockMap;

/**
 * The cost of an item's lock class (issue 14, defect 6; target at most 100 ns per
 * {@code new Work}): ns per item created, one thread, with a validating runtime alive in the
 * JVM ({@code runtime=lockdep}) or none ({@code runtime=none}); the rule is the same in both.
 * <ul>
 *   <li>{@code newWork}: {@code new Work(name, lambda)}, the per-{@code execute()} cost. The
 *       class is not looked up here at all.</li>
 *   <li>{@code newWorkAndLockMap}: the same plus {@code lockMap()}, what a validator does the
 *       first time it sees the item: a {@code ClassValue} lookup of the function's class and one
 *       {@code LockMap}.</li>
 *   <li>{@code newWorkExplicitKey}: {@code new Work(name, key, lambda)}: the floor.</li>
 * </ul>
 * The lambda captures {@code this}, so each call allocates it, as an {@code execute(() -> ...)}
 * call site does.
 *
 * <p>Run (about a minute):
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar WorkCreationBenchmark \
 *      -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class WorkCreationBenchmark {

    @Param({"lockdep", "none"})
    public String runtime;

    private static final LockClassKey KEY = new LockClassKey("(work_completion)jmh");
    private WorkQueues rt;
    private int runs; // touched by the item bodies, which never run here: keeps the lambda capturing

    @Setup(Level.Trial)
    public void setUp() {
        rt = runtime.equals("lockdep") ? Fixtures.runtimeWithLockdep() : null;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (rt != null) {
            rt.close();
        }
    }

    @Benchmark
    public Work newWork() {
        return new Work("jmh", () -> runs++);
    }

    @Benchmark
    public LockMap newWorkAndLockMap() {
        return new Work("jmh", () -> runs++).lockMap();
    }

    @Benchmark
    public Work newWorkExplicitKey() {
        return new Work("jmh", KEY, () -> runs++);
    }
}
