package org.workqueue4j.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

import com.google.common.util.concurrent.CycleDetectingLockFactory;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost the workqueue4j agent adds to {@code synchronized}: nested {@code synchronized}
 * blocks at depth 2 and 4, one thread, uncontended, in a fixed order (ns per operation: take
 * every monitor, bump a counter, release them all). With the agent every monitor enter is the
 * chain-cache fast path (the order was seen in setup). The Guava rows do the same nesting with
 * {@code CycleDetectingLockFactory}'s wrappers (policy THROW), the cost of validating by
 * rewriting the locks instead.
 *
 * <p>Run it twice, without and with the agent (the agent is built by {@code mvn -f agent/pom.xml
 * package}; {@code include=} limits instrumentation to the benchmark's package):
 * <pre>
 * java -jar jmh/target/benchmarks.jar AgentMonitorBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * java -jar jmh/target/benchmarks.jar AgentMonitorBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc \
 *      -jvmArgsAppend "-Xms512m -Xmx512m -javaagent:agent/target/workqueue4j-agent.jar=include=org.workqueue4j.jmh,policy=THROW"
 * </pre>
 * Compare {@code synchronizedDepthN} with the agent against {@code synchronizedDepthN} without
 * it (the agent's cost) and against {@code guavaDepthN} without it (Guava's). In the run with the
 * agent the Guava rows pay both (Guava's locks are {@code ReentrantLock}s, which the agent also
 * tracks).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class AgentMonitorBenchmark {

    // Four monitors in four fields: four lock classes under the agent's naming rule (Owner.field).
    private final Object a = new Object();
    private final Object b = new Object();
    private final Object c = new Object();
    private final Object d = new Object();

    private Lock ga;
    private Lock gb;
    private Lock gc;
    private Lock gd;

    private int held; // plain counter bumped while every lock is held: the critical section

    @Setup(Level.Trial)
    public void setUp() {
        CycleDetectingLockFactory f = CycleDetectingLockFactory.newInstance(CycleDetectingLockFactory.Policies.THROW);
        ga = f.newReentrantLock("a");
        gb = f.newReentrantLock("b");
        gc = f.newReentrantLock("c");
        gd = f.newReentrantLock("d");
        // every order is learnt once, before measurement
        synchronizedDepth2();
        synchronizedDepth4();
        guavaDepth2();
        guavaDepth4();
    }

    @Benchmark
    public int synchronizedDepth2() {
        synchronized (a) {
            synchronized (b) {
                return ++held;
            }
        }
    }

    @Benchmark
    public int synchronizedDepth4() {
        synchronized (a) {
            synchronized (b) {
                synchronized (c) {
                    synchronized (d) {
                        return ++held;
                    }
                }
            }
        }
    }

    @Benchmark
    public int guavaDepth2() {
        ga.lock();
        try {
            gb.lock();
            try {
                return ++held;
            } finally {
                gb.unlock();
            }
        } finally {
            ga.unlock();
        }
    }

    @Benchmark
    public int guavaDepth4() {
        ga.lock();
        try {
            gb.lock();
            try {
                gc.lock();
                try {
                    gd.lock();
                    try {
                        return ++held;
                    } finally {
                        gd.unlock();
                    }
                } finally {
                    gc.unlock();
                }
            } finally {
                gb.unlock();
            }
        } finally {
            ga.unlock();
        }
    }
}
