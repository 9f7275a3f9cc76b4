package org.workqueue4j.lockdep;

import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;

/**
 * The lock behind a {@link ValidatedReadWriteLock}: what the validated sides need of it (its two
 * sides and the calling thread's hold counts). {@link #of} wraps a
 * {@link ReentrantReadWriteLock} (non-recursive readers: a queued writer blocks new readers);
 * {@link ReaderPreferring} is the lock of recursive readers, which wait only while a writer
 * <em>holds</em> the lock, never behind a queued one (the kernel's recursive read, 'R').
 */
interface ReadWriteCore {

    /** {@return the read side} */
    Lock readLock();

    /** {@return the write side} */
    Lock writeLock();

    /** {@return the calling thread's read holds} */
    int getReadHoldCount();

    /** {@return the calling thread's write holds} */
    int getWriteHoldCount();

    /** {@return whether the calling thread holds the write side} */
    boolean isWriteLockedByCurrentThread();

    /** {@return a {@code ReentrantReadWriteLock}, as the lock of non-recursive readers} */
    static ReadWriteCore of(ReentrantReadWriteLock rw) {
        return new ReadWriteCore() {
            @Override
            public Lock readLock() {
                return rw.readLock();
            }

            @Override
            public Lock writeLock() {
                return rw.writeLock();
            }

            @Override
            public int getReadHoldCount() {
                return rw.getReadHoldCount();
            }

            @Override
            public int getWriteHoldCount() {
                return rw.getWriteHoldCount();
            }

            @Override
            public boolean isWriteLockedByCurrentThread() {
                return rw.isWriteLockedByCurrentThread();
            }

            @Override
            public String toString() {
                return rw.toString();
            }
        };
    }

    /**
     * A reentrant read-write lock whose readers never wait behind a queued writer: a reader
     * waits only while another thread holds the write lock. So a thread that holds the read lock
     * (or any lock a reader holds while taking it) can never deadlock with a reader through a
     * writer that is merely waiting - the kernel's recursive readers ('R'), which lockdep
     * validates accordingly. The price is the kernel's too: a steady stream of readers can keep
     * a writer out for as long as it lasts (no writer preference, no fairness between readers
     * and writers).
     *
     * <p>The state (the write owner and its holds, the number of read holds) is guarded by one
     * internal {@link ReentrantLock}, held only for the few instructions of a state change, and
     * every release that can admit a waiter signals one condition that readers and writers wait
     * on: waiters re-check the state under the guard, so no wake-up is lost and no ordering
     * beyond the guard's is needed. Same semantics otherwise as {@code ReentrantReadWriteLock}:
     * both sides reentrant, the write holder may take the read lock (a downgrade), a read holder
     * taking the write lock waits for ever (an upgrade, which the validator reports), only the
     * write lock has conditions. Thread-safe.
     */
    final class ReaderPreferring implements ReadWriteCore {
        private final ReentrantLock guard;
        /** Signalled (all) when the write lock is released or the last read hold goes. */
        private final Condition changed;
        /**
         * The write holder. Written under {@link #guard}; volatile so that a thread may ask
         * "is it me?" without the guard ({@link #isWriteLockedByCurrentThread}, on every read
         * acquisition of the validated lock): only a thread's own write can make it equal
         * that thread, and that write is in its own program order.
         */
        private volatile @Nullable Thread writer;
        /** Guarded by {@link #guard}; also read without it by the holder, its only writer while it holds. */
        private int writeHolds;
        /** Read holds of all threads; guarded by {@link #guard}. */
        private int readers;
        /** The calling thread's read holds; written under {@link #guard}, read by its own thread. */
        private final ThreadLocal<int[]> myReads = ThreadLocal.withInitial(() -> new int[1]);
        private final Lock read = new ReadSide();
        private final Lock write = new WriteSide();

        /** @param fair whether the internal guard, so the order of state changes, is fair */
        ReaderPreferring(boolean fair) {
            this.guard = new ReentrantLock(fair);
            this.changed = guard.newCondition();
        }

        @Override
        public Lock readLock() {
            return read;
        }

        @Override
        public Lock writeLock() {
            return write;
        }

        @Override
        public int getReadHoldCount() {
            return myReads.get()[0];
        }

        @Override
        public int getWriteHoldCount() {
            return writer == Thread.currentThread() ? writeHolds : 0; // the holder reads what it wrote
        }

        @Override
        public boolean isWriteLockedByCurrentThread() {
            return writer == Thread.currentThread();
        }

        @Override
        public String toString() {
            probe();
            guard.lock();
            try {
                return "ReaderPreferring[write holds = " + writeHolds + ", read holds = " + readers
                        + (writer == null ? "" : ", writer = " + writer.getName()) + "]";
            } finally {
                guard.unlock();
            }
        }

        /** Whether the calling thread may take the read lock now (caller holds the guard). */
        private boolean readFree(Thread me) {
            return writer == null || writer == me;
        }

        /** Whether the calling thread may take the write lock now (caller holds the guard). */
        private boolean writeFree(Thread me) {
            return writer == me || (writer == null && readers == 0);
        }

        /**
         * Takes a read hold: {@code mine} is the caller's counter, fetched before the guard was
         * taken, so the two increments have no call between them (an overflow there would leave
         * the shared count raised and the thread's own not). Both counts are checked first, as
         * ReentrantReadWriteLock checks its own ("Maximum lock count exceeded").
         */
        private void takeRead(int[] mine) {
            if (readers == Integer.MAX_VALUE || mine[0] == Integer.MAX_VALUE) {
                throw new Error("Maximum lock count exceeded");
            }
            readers++;
            mine[0]++;
        }

        private void takeWrite(Thread me) {
            if (writeHolds == Integer.MAX_VALUE) {
                throw new Error("Maximum lock count exceeded");
            }
            writer = me;
            writeHolds++;
        }

        /**
         * Before any state change on a caller's thread: touches the stack well below the caller's
         * (WorkerPool.probeStack, as before an engine lock), so that a StackOverflowError strikes here, with nothing
         * taken, rather than inside the guarded section (the guard's release, a signalAll, a
         * condition wait), which it would leave half-done: the guard held by a thread that has
         * unwound, a reader count raised for good, or a waiter never woken.
         */
        private static void probe() {
            org.workqueue4j.internal.WorkerPool.probeStack();
        }

        /**
         * Waits under the guard until the calling thread may take the write ({@code forWrite})
         * or the read lock, with {@code nanos} &lt; 0 for no limit; true if it may, false at the
         * time limit.
         */
        private boolean awaitFree(boolean forWrite, long nanos, boolean interruptible) throws InterruptedException {
            Thread me = Thread.currentThread();
            long deadline = nanos >= 0 ? System.nanoTime() + nanos : 0L;
            while (!(forWrite ? writeFree(me) : readFree(me))) {
                if (nanos < 0) {
                    if (interruptible) {
                        changed.await();
                    } else {
                        changed.awaitUninterruptibly();
                    }
                } else {
                    long left = deadline - System.nanoTime();
                    if (left <= 0L) {
                        return false;
                    }
                    changed.awaitNanos(left);
                }
            }
            return true;
        }

        private boolean acquire(boolean forWrite, long nanos, boolean interruptible) throws InterruptedException {
            probe();
            int[] mine = myReads.get(); // before the guard: see takeRead
            if (interruptible) {
                guard.lockInterruptibly();
            } else {
                guard.lock();
            }
            try {
                if (!awaitFree(forWrite, nanos, interruptible)) {
                    return false;
                }
                if (forWrite) {
                    takeWrite(Thread.currentThread());
                } else {
                    takeRead(mine);
                }
                return true;
            } finally {
                guard.unlock();
            }
        }

        private void acquireUninterruptibly(boolean forWrite) {
            try {
                acquire(forWrite, -1L, false);
            } catch (InterruptedException e) {
                throw new AssertionError(e); // uninterruptible waits do not throw it
            }
        }

        private boolean tryAcquire(boolean forWrite) {
            probe();
            int[] mine = myReads.get(); // before the guard: see takeRead
            guard.lock();
            try {
                Thread me = Thread.currentThread();
                if (!(forWrite ? writeFree(me) : readFree(me))) {
                    return false;
                }
                if (forWrite) {
                    takeWrite(me);
                } else {
                    takeRead(mine);
                }
                return true;
            } finally {
                guard.unlock();
            }
        }

        private final class ReadSide implements Lock {
            @Override
            public void lock() {
                acquireUninterruptibly(false);
            }

            @Override
            public void lockInterruptibly() throws InterruptedException {
                acquire(false, -1L, true);
            }

            @Override
            public boolean tryLock() {
                return tryAcquire(false);
            }

            @Override
            public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
                return acquire(false, Math.max(0L, unit.toNanos(time)), true);
            }

            @Override
            public void unlock() {
                probe();
                int[] mine = myReads.get();
                guard.lock();
                try {
                    if (mine[0] == 0) {
                        throw new IllegalMonitorStateException("read lock not held by the current thread");
                    }
                    mine[0]--;
                    if (--readers == 0) {
                        changed.signalAll();
                    }
                } finally {
                    guard.unlock();
                }
            }

            @Override
            public Condition newCondition() {
                throw new UnsupportedOperationException("read locks have no conditions");
            }
        }

        private final class WriteSide implements Lock {
            @Override
            public void lock() {
                acquireUninterruptibly(true);
            }

            @Override
            public void lockInterruptibly() throws InterruptedException {
                acquire(true, -1L, true);
            }

            @Override
            public boolean tryLock() {
                return tryAcquire(true);
            }

            @Override
            public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
                return acquire(true, Math.max(0L, unit.toNanos(time)), true);
            }

            @Override
            public void unlock() {
                probe();
                guard.lock();
                try {
                    if (writer != Thread.currentThread()) {
                        throw new IllegalMonitorStateException("write lock not held by the current thread");
                    }
                    if (--writeHolds == 0) {
                        writer = null;
                        changed.signalAll();
                    }
                } finally {
                    guard.unlock();
                }
            }

            @Override
            public Condition newCondition() {
                return new WriteCondition();
            }
        }

        /**
         * A condition of the write lock: waiting releases every write hold, and the caller's read
         * holds of a downgrade in progress, and re-takes them all before returning (also when
         * interrupted or timed out), as a {@code ReentrantReadWriteLock}'s write-lock condition
         * does.
         */
        private final class WriteCondition implements Condition {
            private final Condition waiters = guard.newCondition();

            /** Runs {@code w} with the write lock released; returns its result once it is re-taken. */
            private <T> T releasing(WaitOn<T> w) throws InterruptedException {
                probe();
                int[] mine = myReads.get(); // before the guard: see takeRead
                guard.lock();
                try {
                    Thread me = Thread.currentThread();
                    if (writer != me) {
                        throw new IllegalMonitorStateException("write lock not held by the current thread");
                    }
                    int saved = writeHolds;
                    // The caller's own read holds (a downgrade in progress) go too, as a
                    // ReentrantReadWriteLock's write condition releases its whole state: kept,
                    // they would block the re-take below for ever (it waits for no reader).
                    int savedReads = mine[0];
                    writer = null;
                    writeHolds = 0;
                    readers -= savedReads;
                    changed.signalAll();
                    try {
                        return w.run(waiters);
                    } finally {
                        while (!(writer == null && readers == 0)) {
                            changed.awaitUninterruptibly();
                        }
                        writer = me;
                        writeHolds = saved;
                        readers += savedReads;
                    }
                } finally {
                    guard.unlock();
                }
            }

            @Override
            public void await() throws InterruptedException {
                releasing(c -> {
                    c.await();
                    return Boolean.TRUE;
                });
            }

            @Override
            public void awaitUninterruptibly() {
                try {
                    releasing(c -> {
                        c.awaitUninterruptibly();
                        return Boolean.TRUE;
                    });
                } catch (InterruptedException e) {
                    throw new AssertionError(e); // uninterruptible waits do not throw it
                }
            }

            @Override
            public long awaitNanos(long nanosTimeout) throws InterruptedException {
                return releasing(c -> c.awaitNanos(nanosTimeout));
            }

            @Override
            public boolean await(long time, TimeUnit unit) throws InterruptedException {
                return releasing(c -> c.await(time, unit));
            }

            @Override
            public boolean awaitUntil(Date deadline) throws InterruptedException {
                return releasing(c -> c.awaitUntil(deadline));
            }

            @Override
            public void signal() {
                signalling(false);
            }

            @Override
            public void signalAll() {
                signalling(true);
            }

            private void signalling(boolean all) {
                probe();
                guard.lock();
                try {
                    if (writer != Thread.currentThread()) {
                        throw new IllegalMonitorStateException("write lock not held by the current thread");
                    }
                    if (all) {
                        waiters.signalAll();
                    } else {
                        waiters.signal();
                    }
                } finally {
                    guard.unlock();
                }
            }
        }

        /** A wait on a condition of {@link #guard}. */
        private interface WaitOn<T> {
            T run(Condition c) throws InterruptedException;
        }
    }
}
