package org.workqueue4j.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

import com.google.common.util.concurrent.CycleDetectingLockFactory;

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
 * </ul>
 * The lockdep package lands later; its variants join as more {@code impl} values built in
 * {@link #newLocks} ({@code validated-disabled}: {@code ValidatedLock} with the validator off,
 * {@code lockdep}: validator on), so they are compared with these in the same run.
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

    @Param({"reentrant", "guava-throw"})
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
