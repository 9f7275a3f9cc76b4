package org.workqueue4j.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

import com.google.common.util.concurrent.CycleDetectingLockFactory;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of lock-order validation on the uncontended fast path: one operation takes
 * {@code depth} locks in a fixed order and releases them in reverse (ns per operation, one
 * thread). Every acquisition after the first checks an edge the validator has already seen, so
 * this is the steady-state cost a validated program pays per nested acquisition.
 *
 * <p>Implementations ({@code impl}):
 * <ul>
 *   <li>{@code reentrant}: plain {@code ReentrantLock}: the floor.</li>
 *   <li>{@code guava-throw}: Guava {@code CycleDetectingLockFactory.newInstance(Policies.THROW)
 *       .newReentrantLock(name)}.</li>
 *   <li>{@code validated-disabled}: {@code ValidatedLock} with
 *       {@code LockDependencyValidator.disabled()}: the cost of leaving validation compiled in
 *       but off (target: within 5% of {@code reentrant}).</li>
 *   <li>{@code lockdep}: {@code ValidatedLock} with a {@code Lockdep} validator (policy THROW):
 *       the chain-cache fast path (issue 15's target: overhead over {@code reentrant} at most
 *       half of {@code guava-throw}'s, at depth 2 and at depth 4).</li>
 *   <li>{@code lockdep-lockstat}: the same with lock_stat on ({@code Lockdep.Builder.lockStat}):
 *       two {@code nanoTime} calls and a {@code tryLock} per hold; {@code lockdep} is the cost
 *       with it off.</li>
 * </ul>
 *
 * <p>Ratios are taken within one run: overhead = impl - reentrant at the same depth, and the
 * target compares lockdep's overhead with guava-throw's. Run (alone on the machine; every
 * implementation reports 0 B/op under {@code -prof gc}):
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar LockValidationBenchmark \
 *      -p impl=reentrant,validated-disabled,lockdep,guava-throw -f 2 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * </pre>
 *
 * <p>On a shared, overloaded machine wall-clock averages mostly measure the other load. {@link CpuTime}
 * runs the same operation and reports nanoseconds of the thread's own CPU time per operation
 * (descheduled time does not count), one implementation per JVM:
 * <pre>
 * for d in 2 4; do for i in reentrant validated-disabled lockdep guava-throw; do
 *   java -cp jmh/target/benchmarks.jar org.workqueue4j.jmh.LockValidationBenchmark\$CpuTime $i $d; done; done
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Benchmark)
public class LockValidationBenchmark {

    @Param({"2", "4"})
    public int depth;

    @Param({"reentrant", "validated-disabled", "lockdep", "lockdep-lockstat", "guava-throw"})
    public String impl;

    private Lock[] locks;
    private int held; // plain counter touched while every lock is held: the critical section

    @Setup(Level.Trial)
    public void setUp() {
        locks = newLocks(impl, depth);
        lockAll(); // the validator learns the order once, before measurement
        unlockAll();
    }

    /** Builds {@code depth} locks of one implementation; the place to add the lockdep variants. */
    static Lock[] newLocks(String impl, int depth) {
        Lock[] ls = new Lock[depth];
        switch (impl) {
            case "reentrant":
                for (int i = 0; i < depth; i++) {
                    ls[i] = new ReentrantLock();
                }
                break;
            case "guava-throw": {
                CycleDetectingLockFactory f = CycleDetectingLockFactory.newInstance(
                        CycleDetectingLockFactory.Policies.THROW);
                for (int i = 0; i < depth; i++) {
                    ls[i] = f.newReentrantLock("lock-" + i);
                }
                break;
            }
            case "validated-disabled":
                for (int i = 0; i < depth; i++) {
                    ls[i] = new ValidatedLock("lock-" + i, new LockClassKey("lock-" + i),
                            LockDependencyValidator.disabled());
                }
                break;
            case "lockdep":
            case "lockdep-lockstat": {
                Lockdep v = Lockdep.builder().policy(ReportPolicy.THROW).quiet()
                        .lockStat(impl.equals("lockdep-lockstat")).build();
                for (int i = 0; i < depth; i++) {
                    ls[i] = new ValidatedLock("lock-" + i, new LockClassKey("lock-" + i), v);
                }
                break;
            }
            default:
                throw new IllegalArgumentException("unknown lock impl: " + impl);
        }
        return ls;
    }

    @Benchmark
    public int nested() {
        lockAll();
        int h = ++held;
        unlockAll();
        return h;
    }

    private void lockAll() {
        for (Lock l : locks) {
            l.lock();
        }
    }

    private void unlockAll() {
        for (int i = locks.length - 1; i >= 0; i--) {
            locks[i].unlock();
        }
    }

    /**
     * {@link #nested()} timed in the calling thread's CPU time ({@code ThreadMXBean}), for a machine
     * too loaded for wall-clock numbers: 20 warm-up batches, then 40 measured batches of 200,000
     * operations; prints the minimum, first quartile and median ns of CPU time per operation.
     * Arguments: {@code impl depth}. Run one implementation per JVM (as JMH forks do), so that
     * the JIT's profile holds one lock class.
     */
    public static final class CpuTime {
        private CpuTime() {
        }

        /**
         * Runs the measurement.
         *
         * @param args {@code impl depth}, as the benchmark's parameters
         */
        public static void main(String[] args) {
            LockValidationBenchmark b = new LockValidationBenchmark();
            b.impl = args[0];
            b.depth = Integer.parseInt(args[1]);
            b.setUp();
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            int batch = 200_000;
            int warmup = 20;
            double[] ns = new double[40];
            int sink = 0;
            for (int round = 0; round < warmup + ns.length; round++) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < batch; i++) {
                    sink += b.nested();
                }
                long t = mx.getCurrentThreadCpuTime() - t0;
                if (round >= warmup) {
                    ns[round - warmup] = (double) t / batch;
                }
            }
            java.util.Arrays.sort(ns);
            System.out.printf("%s depth %d: min %.1f p25 %.1f median %.1f ns CPU/op (%d)%n", b.impl, b.depth, ns[0],
                    ns[ns.length / 4], ns[ns.length / 2], sink & 1);
        }
    }
}
