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
 *       the chain-cache fast path (target: overhead over {@code reentrant} at most half of
 *       Guava's at depth 4).</li>
 *   <li>{@code lockdep-lockstat}: the same with lock_stat on ({@code Lockdep.Builder.lockStat}):
 *       two {@code nanoTime} calls and a {@code tryLock} per hold; {@code lockdep} is the cost
 *       with it off.</li>
 * </ul>
 *
 * <p>Run:
 * <pre>
 * java -Djmh.ignoreLock=true -jar jmh/target/benchmarks.jar LockValidationBenchmark \
 *      -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
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
}
