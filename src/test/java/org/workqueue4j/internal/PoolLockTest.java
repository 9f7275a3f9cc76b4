package org.workqueue4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pool lock ({@link PoolLock}): mutual exclusion over plain state, no lost wake-up when the
 * waiters outnumber the cores, an interrupt kept across an uninterruptible wait, and the two
 * misuses it refuses. (jcstress {@code PoolLockMutexTest} checks the ordering of two holders'
 * plain writes.)
 */
@Timeout(60)
class PoolLockTest {
    private static final long BOUND_S = 20;

    /** Plain state, as the engine's pool fields are. */
    private long count;

    @Test
    void manyThreadsHammeringOneLockLoseNoUpdateAndNoWakeUp() throws Exception {
        PoolLock lock = new PoolLock();
        int threads = 6; // more than the cores: most acquisitions past the spins wait on the monitor
        int perThread = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < perThread; i++) {
                    lock.lock();
                    try {
                        long c = count;
                        if ((i & 63) == 0) {
                            Thread.yield(); // now and then a holder is descheduled inside: the others wait
                        }
                        count = c + 1;
                    } finally {
                        lock.unlock();
                    }
                }
            }, "hammer-" + t);
            th.start();
            ts.add(th);
        }
        go.countDown();
        for (Thread th : ts) {
            th.join(BOUND_S * 1000);
            assertThat(th.isAlive()).as("%s finished (a lost wake-up leaves it waiting)", th.getName()).isFalse();
        }
        lock.lock();
        try {
            assertThat(count).isEqualTo((long) threads * perThread);
        } finally {
            lock.unlock();
        }
        assertThat(lock.isLocked()).isFalse();
    }

    @Test
    void anInterruptWhileWaitingIsKeptAndTheLockIsStillTaken() throws Exception {
        PoolLock lock = new PoolLock();
        lock.lock();
        AtomicBoolean heldAfter = new AtomicBoolean();
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        Thread waiter = new Thread(() -> {
            lock.lock();
            try {
                heldAfter.set(lock.isHeldByCurrentThread());
                interruptedAfter.set(Thread.currentThread().isInterrupted());
            } finally {
                lock.unlock();
            }
        }, "waiter");
        waiter.start();
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> PoolLocks.waitsOn(lock, waiter));
        waiter.interrupt();
        // The interrupt does not end the wait: it is still waiting for the lock.
        Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> PoolLocks.waitsOn(lock, waiter));
        assertThat(waiter.isAlive()).isTrue();
        lock.unlock();
        waiter.join(BOUND_S * 1000);
        assertThat(waiter.isAlive()).isFalse();
        assertThat(heldAfter).isTrue();
        assertThat(interruptedAfter).as("the interrupt is set again once the lock is taken").isTrue();
    }

    @Test
    void takingItTwiceOnOneThreadIsRefusedAndLeavesItHeld() {
        PoolLock lock = new PoolLock();
        lock.lock();
        try {
            assertThatThrownBy(lock::lock).isInstanceOf(IllegalStateException.class).hasMessageContaining("not reentrant");
            assertThat(lock.isHeldByCurrentThread()).isTrue();
            assertThat(lock.tryLock()).isFalse();
        } finally {
            lock.unlock();
        }
        assertThat(lock.isLocked()).isFalse();
    }

    @Test
    void releasingItFromAThreadThatDoesNotHoldItIsRefused() throws Exception {
        PoolLock lock = new PoolLock();
        assertThatThrownBy(lock::unlock).isInstanceOf(IllegalMonitorStateException.class);
        lock.lock();
        try {
            Throwable[] seen = new Throwable[1];
            Thread other = new Thread(() -> {
                try {
                    lock.unlock();
                } catch (Throwable e) {
                    seen[0] = e;
                }
            }, "other");
            other.start();
            other.join(BOUND_S * 1000);
            assertThat(other.isAlive()).isFalse();
            assertThat(seen[0]).isInstanceOf(IllegalMonitorStateException.class).hasMessageContaining("other");
            assertThat(lock.isHeldByCurrentThread()).isTrue();
        } finally {
            lock.unlock();
        }
    }
}
