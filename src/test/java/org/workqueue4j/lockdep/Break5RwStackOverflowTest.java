package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@link StackOverflowError} thrown inside {@code lock()} / {@code unlock()} of a
 * {@link ReadWriteCore.ReaderPreferring} (a thread near the end of its stack) must leave the lock
 * in a state the thread can see and undo: after the thread has released every hold its own
 * hold counts report, another thread must get the write lock, and the internal guard must be
 * free. (A {@code ReentrantReadWriteLock} keeps these state changes in
 * {@code @ReservedStackAccess} methods.)
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break5RwStackOverflowTest {

    private static final int ROUNDS = 25; // each round overflows a fresh thread: a few seconds per test in all

    /** Lock and unlock at every stack depth down to the end of the stack. */
    private static final class Prober {
        final Lock lock;
        long lockSoe;
        long unlockSoe;

        Prober(Lock lock) {
            this.lock = lock;
        }

        void probe() {
            try {
                probe();
            } catch (StackOverflowError e) {
                // deepest frames: fall through to the lock operations
            }
            try {
                lock.lock();
            } catch (StackOverflowError e) {
                lockSoe++;
                return;
            }
            try {
                lock.unlock();
            } catch (StackOverflowError e) {
                unlockSoe++; // still held (or not): the hold counts say which, cleaned up later
            }
        }
    }

    private static Object field(Object o, String name) throws Exception {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    private static String state(ReadWriteCore.ReaderPreferring core) throws Exception {
        ReentrantLock guard = (ReentrantLock) field(core, "guard");
        return "readers=" + field(core, "readers") + ", writer=" + field(core, "writer") + ", writeHolds="
                + field(core, "writeHolds") + ", guard=" + guard;
    }

    private enum Check { COUNTS, GUARD, LIVENESS }

    private void probeSide(boolean writeSide) throws Exception {
        probeSide(writeSide, Check.LIVENESS);
    }

    private void probeSide(boolean writeSide, Check check) throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            ReadWriteCore.ReaderPreferring core = new ReadWriteCore.ReaderPreferring(false);
            Lock side = writeSide ? core.writeLock() : core.readLock();
            Prober p = new Prober(side);
            AtomicReference<String> leftOver = new AtomicReference<>();
            Thread deep = new Thread(null, () -> {
                p.probe();
                // The leak release ValidatedReadWriteLock uses: release what the hold counts say.
                while (core.getWriteHoldCount() > 0) {
                    core.writeLock().unlock();
                }
                while (core.getReadHoldCount() > 0) {
                    core.readLock().unlock();
                }
                leftOver.set("read holds " + core.getReadHoldCount() + ", write holds " + core.getWriteHoldCount());
            }, "deep", 512 * 1024);
            deep.start();
            deep.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(deep.isAlive()).as("deep thread finished (round %d)", round).isFalse();

            ReentrantLock guard = (ReentrantLock) field(core, "guard");
            String st = state(core);
            String what = "round " + round + ": after " + p.lockSoe + " StackOverflowErrors in lock() and " + p.unlockSoe
                    + " in unlock(), the deep thread (now dead) released everything its hold counts showed ("
                    + leftOver.get() + "); state: " + st;
            if (check == Check.COUNTS) {
                assertThat((int) field(core, "readers")).as(what + "; the count of all threads' read holds (expected 0:"
                        + " no thread holds the read lock)").isZero();
                assertThat(field(core, "writer")).as(what + "; the write owner").isNull();
                continue;
            }
            if (check == Check.GUARD) {
                assertThat(guard.isLocked()).as(what + "; the internal guard is locked (expected: free)").isFalse();
                continue;
            }
            CountDownLatch done = new CountDownLatch(1);
            AtomicBoolean got = new AtomicBoolean();
            Thread other = new Thread(() -> {
                try {
                    got.set(core.writeLock().tryLock(2, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                done.countDown();
            }, "other");
            other.setDaemon(true);
            other.start();
            boolean returned = done.await(5, TimeUnit.SECONDS);
            String msg = "round " + round + ": after " + p.lockSoe + " StackOverflowErrors in lock() and " + p.unlockSoe
                    + " in unlock(), the deep thread released everything its hold counts showed (" + leftOver.get()
                    + "); expected: lock free (readers=0, writer=null, guard unlocked) and another thread's"
                    + " writeLock().tryLock(2s) true; actual state: " + st;
            assertThat(returned).as(msg + "; tryLock(2s) did not even return within 5 s (stuck on the guard)").isTrue();
            assertThat(got.get()).as(msg + "; tryLock(2s) returned false").isTrue();
            assertThat(guard.isLocked()).as(msg).isFalse();
        }
    }

    /** The reference: the same probe on a {@code ReentrantReadWriteLock}'s read side leaves it free. */
    @Test
    void controlReentrantReadWriteLockReadSideSurvivesStackOverflow() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            java.util.concurrent.locks.ReentrantReadWriteLock rw = new java.util.concurrent.locks.ReentrantReadWriteLock();
            Prober p = new Prober(rw.readLock());
            Thread deep = new Thread(null, () -> {
                p.probe();
                while (rw.getReadHoldCount() > 0) {
                    rw.readLock().unlock();
                }
            }, "deep", 512 * 1024);
            deep.start();
            deep.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(rw.getReadLockCount()).as("round %d: read holds left after %d SOEs in lock()", round, p.lockSoe).isZero();
            assertThat(rw.writeLock().tryLock(2, TimeUnit.SECONDS)).as("round %d", round).isTrue();
            rw.writeLock().unlock();
        }
    }

    @Test
    void readSideSurvivesStackOverflow() throws Exception {
        probeSide(false);
    }

    @Test
    void readSideHoldCountsStayConsistentUnderStackOverflow() throws Exception {
        probeSide(false, Check.COUNTS);
    }

    @Test
    void readSideGuardIsReleasedUnderStackOverflow() throws Exception {
        probeSide(false, Check.GUARD);
    }

    @Test
    void writeSideGuardIsReleasedUnderStackOverflow() throws Exception {
        probeSide(true, Check.GUARD);
    }

    @Test
    void writeSideSurvivesStackOverflow() throws Exception {
        probeSide(true);
    }
}
