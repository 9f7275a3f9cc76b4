package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Lockdep under concurrency: no false reports, a hot chain cache, and no lost cycles. */
class LockdepConcurrencyTest {

    @Test
    @Timeout(60)
    @DisplayName("many threads taking locks in one consistent order get no report and mostly chain-cache hits")
    void consistentOrderFromManyThreadsIsSilentAndCached() throws Exception {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        List<ValidatedLock> ordered = new ArrayList<>();
        for (String name : List.of("sb->s_umount", "i_rwsem", "i_mmap", "page_lock")) {
            ordered.add(new ValidatedLock(name, new LockClassKey(name), lockdep));
        }
        int threads = 8;
        int iterations = 20_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    start.await();
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    List<ValidatedLock> taken = new ArrayList<>(ordered.size());
                    for (int i = 0; i < iterations; i++) {
                        int mask = 1 + rnd.nextInt((1 << ordered.size()) - 1); // a non-empty subset, in order
                        for (int k = 0; k < ordered.size(); k++) {
                            if ((mask & (1 << k)) != 0) {
                                ordered.get(k).lock();
                                taken.add(ordered.get(k));
                            }
                        }
                        for (int k = taken.size() - 1; k >= 0; k--) {
                            taken.get(k).unlock();
                        }
                        taken.clear();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "worker-" + t);
            workers.add(w);
            w.start();
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        assertThat(failure.get()).isNull();
        assertThat(lockdep.reports()).isEmpty();
        LockdepStats stats = lockdep.stats();
        System.out.printf("lockdep chain cache: %d hits, %d misses, hit rate %.5f (%d classes, %d edges, %d chains)%n",
                stats.chainHits(), stats.chainMisses(), stats.chainHitRate(), stats.classes(), stats.edges(), stats.chains());
        assertThat(stats.chainHitRate()).isGreaterThan(0.9);
        assertThat(stats.chains()).isLessThanOrEqualTo(15); // one per ordered non-empty prefix path of 4 classes
    }

    @Test
    @Timeout(120)
    @DisplayName("two threads racing to add the two halves of ABBA always produce exactly one report")
    void racingAbbaHalvesAreNeverLost() throws Exception {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        LockMap a = new LockMap("a", new LockClassKey("A"));
        LockMap b = new LockMap("b", new LockClassKey("B"));
        CyclicBarrier start = new CyclicBarrier(3);
        CyclicBarrier end = new CyclicBarrier(3);
        int rounds = 2_000;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread ab = racer("ab", lockdep, a, b, start, end, rounds, failure);
        Thread ba = racer("ba", lockdep, b, a, start, end, rounds, failure);
        ab.start();
        ba.start();
        for (int round = 0; round < rounds; round++) {
            lockdep.reset();
            start.await();
            end.await();
            assertThat(lockdep.reports()).as("round %d", round).hasSize(1);
            assertThat(lockdep.reports().get(0).kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
        }
        ab.join();
        ba.join();
        assertThat(failure.get()).isNull();
    }

    private static Thread racer(String name, Lockdep lockdep, LockMap first, LockMap second,
                                CyclicBarrier start, CyclicBarrier end, int rounds, AtomicReference<Throwable> failure) {
        return new Thread(() -> {
            try {
                for (int round = 0; round < rounds; round++) {
                    start.await();
                    lockdep.acquire(first);
                    lockdep.acquire(second);
                    lockdep.release(second);
                    lockdep.release(first);
                    end.await();
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, name);
    }
}
