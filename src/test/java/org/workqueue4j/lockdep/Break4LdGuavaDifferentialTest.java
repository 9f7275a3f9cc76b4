package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.CycleDetectingLockFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random lock-order histories, each a few segments run one after the other on fresh threads (so
 * nothing ever blocks), replayed on Guava's CycleDetectingLockFactory (recording policy) and on
 * our validator (WARN, one key per lock instance, so classes are instances as in Guava).
 * Locks: plain reentrant locks and read-write locks with non-recursive readers. Operations:
 * lock, reentrant re-lock, read lock, write lock (never while this thread holds the same
 * instance's read lock: that would self-deadlock for real), unlock in any order. With
 * non-recursive readers every cycle is strong, so Guava (which does not tell read from write)
 * and lockdep must agree on whether, and at which step, the first inversion is reported.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break4LdGuavaDifferentialTest {
    static final int PLAIN = 3;
    static final int RW = 2;

    static Stream<Long> seeds() {
        return LongStream.rangeClosed(1, 250).boxed();
    }

    /** One op: kind 0 lock, 1 read, 2 write, 3 unlock of held index. */
    record Op(int kind, int lock, int heldIndex) {
        @Override
        public String toString() {
            return switch (kind) {
                case 0 -> "lock P" + lock;
                case 1 -> "read RW" + lock;
                case 2 -> "write RW" + lock;
                default -> "unlock held#" + heldIndex;
            };
        }
    }

    /** A history: segments of ops, each balanced (ends with nothing held). */
    static List<List<Op>> history(long seed) {
        Random r = new Random(seed);
        List<List<Op>> segs = new ArrayList<>();
        int nseg = 2 + r.nextInt(4);
        for (int s = 0; s < nseg; s++) {
            List<Op> ops = new ArrayList<>();
            List<int[]> held = new ArrayList<>(); // {kind, lock}
            int steps = 2 + r.nextInt(7);
            for (int i = 0; i < steps; i++) {
                if (!held.isEmpty() && r.nextInt(3) == 0) {
                    int idx = r.nextInt(held.size());
                    ops.add(new Op(3, -1, idx));
                    held.remove(idx);
                    continue;
                }
                int kind = r.nextInt(3);
                int lock = kind == 0 ? r.nextInt(PLAIN) : r.nextInt(RW);
                if (kind == 2) {
                    boolean readHeld = held.stream().anyMatch(h -> h[0] == 1 && h[1] == lock);
                    if (readHeld) {
                        kind = 1; // an upgrade would block for real
                    }
                }
                int k = kind;
                ops.add(new Op(k, lock, -1));
                held.add(new int[] {k, lock});
            }
            while (!held.isEmpty()) {
                int idx = r.nextInt(held.size());
                ops.add(new Op(3, -1, idx));
                held.remove(idx);
            }
            segs.add(ops);
        }
        return segs;
    }

    interface Locks {
        Lock plain(int i);

        ReadWriteLock rw(int i);
    }

    /** Replays the history; returns the global index of the first op after which {@code reports} grew, or -1. */
    static int replay(List<List<Op>> segs, Locks locks, java.util.function.IntSupplier reports) throws Exception {
        AtomicReference<Integer> first = new AtomicReference<>(-1);
        int base = 0;
        for (List<Op> seg : segs) {
            int b = base;
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                List<Lock> held = new ArrayList<>();
                try {
                    for (int i = 0; i < seg.size(); i++) {
                        Op op = seg.get(i);
                        Lock l = switch (op.kind) {
                            case 0 -> locks.plain(op.lock);
                            case 1 -> locks.rw(op.lock).readLock();
                            case 2 -> locks.rw(op.lock).writeLock();
                            default -> null;
                        };
                        if (l == null) {
                            held.remove(op.heldIndex).unlock();
                        } else {
                            l.lock();
                            held.add(l);
                        }
                        if (first.get() < 0 && reports.getAsInt() > 0) {
                            first.set(b + i);
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.setDaemon(true);
            t.start();
            t.join(10_000);
            if (t.isAlive()) {
                throw new AssertionError("segment blocked: " + seg);
            }
            if (failure.get() != null) {
                throw new AssertionError("segment failed: " + seg, failure.get());
            }
            base += seg.size();
        }
        return first.get();
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void firstInversionAgreesWithGuava(long seed) throws Exception {
        check(seed, false);
    }

    /** The same with lock_stat on (no chain-cache fast path, no holder hint: every acquisition takes the slow path). */
    @ParameterizedTest
    @MethodSource("seeds")
    void firstInversionAgreesWithGuavaWithLockStat(long seed) throws Exception {
        check(seed, true);
    }

    private static void check(long seed, boolean lockStat) throws Exception {
        List<List<Op>> h = history(seed);

        List<Object> guava = new CopyOnWriteArrayList<>();
        CycleDetectingLockFactory f = CycleDetectingLockFactory.newInstance(guava::add);
        Lock[] gp = new Lock[PLAIN];
        ReadWriteLock[] grw = new ReadWriteLock[RW];
        for (int i = 0; i < PLAIN; i++) {
            gp[i] = f.newReentrantLock("P" + i);
        }
        for (int i = 0; i < RW; i++) {
            grw[i] = f.newReentrantReadWriteLock("RW" + i);
        }
        int g = replay(h, new Locks() {
            public Lock plain(int i) {
                return gp[i];
            }

            public ReadWriteLock rw(int i) {
                return grw[i];
            }
        }, guava::size);

        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).lockStat(lockStat).quiet().build();
        Lock[] op = new Lock[PLAIN];
        ReadWriteLock[] orw = new ReadWriteLock[RW];
        for (int i = 0; i < PLAIN; i++) {
            op[i] = new ValidatedLock("P" + i, new LockClassKey("P" + i), ld);
        }
        for (int i = 0; i < RW; i++) {
            orw[i] = new ValidatedReadWriteLock("RW" + i, new LockClassKey("RW" + i), ld);
        }
        int o = replay(h, new Locks() {
            public Lock plain(int i) {
                return op[i];
            }

            public ReadWriteLock rw(int i) {
                return orw[i];
            }
        }, ld::reportCount);

        assertThat(o)
                .as("seed %d history %s%nexpected first report at op %d (Guava: %s)%nactual ours at op %d: %s", seed, h, g,
                        guava.isEmpty() ? "none" : guava.get(0), o,
                        ld.reports().isEmpty() ? "none" : ld.reports().get(0).title() + "\n" + ld.reports().get(0).text())
                .isEqualTo(g);
    }
}
