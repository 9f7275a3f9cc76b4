package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link ReadWriteCore.ReaderPreferring} against the {@code Lock}/{@code Condition} contracts. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break5RwSemanticsTest {

    private static ReadWriteCore.ReaderPreferring core() {
        return new ReadWriteCore.ReaderPreferring(false);
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits (bounded) until t is parked/waiting. */
    private static void awaitBlocked(Thread t) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            assertThat(System.nanoTime() - end).as("%s never blocked (state %s)", t.getName(), t.getState()).isNegative();
            Thread.onSpinWait();
        }
    }

    private static boolean writerCanGet(ReadWriteCore core) throws InterruptedException {
        AtomicReference<Boolean> got = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        daemon("probe-writer", () -> {
            try {
                boolean g = core.writeLock().tryLock(5, TimeUnit.SECONDS);
                if (g) {
                    core.writeLock().unlock();
                }
                got.set(g);
            } catch (InterruptedException e) {
                got.set(false);
            }
            done.countDown();
        });
        assertThat(done.await(10, TimeUnit.SECONDS)).as("probe writer returned").isTrue();
        return got.get();
    }

    @Test
    void readReentryWhileAWriterWaitsDoesNotDeadlock() throws Exception {
        ReadWriteCore.ReaderPreferring core = core();
        core.readLock().lock();
        CountDownLatch wrote = new CountDownLatch(1);
        Thread w = daemon("writer", () -> {
            core.writeLock().lock();
            core.writeLock().unlock();
            wrote.countDown();
        });
        awaitBlocked(w);
        assertThat(core.readLock().tryLock(5, TimeUnit.SECONDS)).as("read re-entry with a writer waiting").isTrue();
        // a second reader thread also gets in
        CountDownLatch otherRead = new CountDownLatch(1);
        daemon("reader2", () -> {
            core.readLock().lock();
            core.readLock().unlock();
            otherRead.countDown();
        });
        assertThat(otherRead.await(5, TimeUnit.SECONDS)).as("new reader while a writer waits").isTrue();
        core.readLock().unlock();
        core.readLock().unlock();
        assertThat(wrote.await(10, TimeUnit.SECONDS)).as("writer woken once the last read hold went").isTrue();
    }

    @Test
    void interruptBeforeLockInterruptiblyThrowsAndClearsTheFlag() throws Exception {
        ReadWriteCore.ReaderPreferring core = core();
        for (Lock l : new Lock[] {core.readLock(), core.writeLock()}) {
            Thread.currentThread().interrupt();
            assertThatThrownBy(l::lockInterruptibly).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).as("flag cleared").isFalse();
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> l.tryLock(1, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).as("flag cleared").isFalse();
            Thread.currentThread().interrupt();
            assertThat(l.tryLock()).as("untimed tryLock ignores interrupts").isTrue();
            assertThat(Thread.interrupted()).as("flag kept by tryLock()").isTrue();
            l.unlock();
        }
        assertThat(core.getReadHoldCount()).isZero();
        assertThat(core.getWriteHoldCount()).isZero();
        assertThat(writerCanGet(core)).isTrue();
    }

    @Test
    void interruptDuringTheWaitThrowsAndLeavesNoHold() throws Exception {
        ReadWriteCore.ReaderPreferring core = core();
        core.writeLock().lock();
        for (int kind = 0; kind < 4; kind++) {
            int k = kind;
            AtomicReference<Object> outcome = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            Thread t = daemon("waiter" + k, () -> {
                Lock l = k % 2 == 0 ? core.readLock() : core.writeLock();
                try {
                    if (k < 2) {
                        l.lockInterruptibly();
                    } else {
                        l.tryLock(1, TimeUnit.DAYS);
                    }
                    outcome.set("acquired");
                } catch (InterruptedException e) {
                    outcome.set(e);
                }
                outcome.set(outcome.get() + " flag=" + Thread.currentThread().isInterrupted() + " r=" + core.getReadHoldCount()
                        + " w=" + core.getWriteHoldCount());
                done.countDown();
            });
            awaitBlocked(t);
            t.interrupt();
            assertThat(done.await(10, TimeUnit.SECONDS)).as("interrupted waiter %d returned", k).isTrue();
            assertThat(outcome.get().toString()).startsWith("java.lang.InterruptedException").endsWith("flag=false r=0 w=0");
        }
        core.writeLock().unlock();
        assertThat(writerCanGet(core)).isTrue();
    }

    @Test
    void uninterruptibleLockKeepsTheInterrupt() throws Exception {
        ReadWriteCore.ReaderPreferring core = core();
        core.writeLock().lock();
        AtomicReference<String> outcome = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread t = daemon("reader", () -> {
            core.readLock().lock();
            outcome.set("flag=" + Thread.currentThread().isInterrupted() + " r=" + core.getReadHoldCount());
            core.readLock().unlock();
            done.countDown();
        });
        awaitBlocked(t);
        t.interrupt();
        awaitBlocked(t);
        core.writeLock().unlock();
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(outcome.get()).isEqualTo("flag=true r=1");
    }

    @Test
    void wrongUnlocksThrowAndCorruptNothing() throws Exception {
        ReadWriteCore.ReaderPreferring core = core();
        assertThatThrownBy(() -> core.readLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        assertThatThrownBy(() -> core.writeLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        core.readLock().lock();
        core.readLock().unlock();
        assertThatThrownBy(() -> core.readLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        // another thread holds read: our read unlock must not take its hold
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        daemon("holder", () -> {
            core.readLock().lock();
            held.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            core.readLock().unlock();
        });
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> core.readLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        assertThat(core.writeLock().tryLock()).as("reader inside: write tryLock").isFalse();
        assertThatThrownBy(() -> core.writeLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        release.countDown();
        assertThat(core.writeLock().tryLock(10, TimeUnit.SECONDS)).isTrue();
        // write holder: read unlock without read holds throws, write still held
        assertThatThrownBy(() -> core.readLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        assertThat(core.getWriteHoldCount()).isEqualTo(1);
        core.writeLock().unlock();
        assertThatThrownBy(() -> core.writeLock().unlock()).isInstanceOf(IllegalMonitorStateException.class);
        assertThat(writerCanGet(core)).isTrue();
    }

    @Test
    void downgradeAndReentry() throws Exception {
        ReadWriteCore.ReaderPreferring core = core();
        core.writeLock().lock();
        core.writeLock().lock();
        core.readLock().lock();
        core.readLock().lock();
        assertThat(core.getWriteHoldCount()).isEqualTo(2);
        assertThat(core.getReadHoldCount()).isEqualTo(2);
        core.writeLock().unlock();
        core.writeLock().unlock();
        assertThat(core.isWriteLockedByCurrentThread()).isFalse();
        assertThat(writerCanGet(core)).as("writer while downgraded read held").isFalse();
        CountDownLatch readerIn = new CountDownLatch(1);
        daemon("reader", () -> {
            core.readLock().lock();
            core.readLock().unlock();
            readerIn.countDown();
        });
        assertThat(readerIn.await(10, TimeUnit.SECONDS)).as("reader after downgrade").isTrue();
        assertThat(core.writeLock().tryLock()).as("upgrade by tryLock").isFalse();
        core.readLock().unlock();
        core.readLock().unlock();
        assertThat(writerCanGet(core)).isTrue();
    }

    @Test
    void conditionAwaitReleasesFullyAndRestoresTheHoldCount() throws Exception {
        ReadWriteCore.ReaderPreferring core = core();
        Condition c = core.writeLock().newCondition();
        assertThatThrownBy(c::signal).isInstanceOf(IllegalMonitorStateException.class);
        assertThatThrownBy(c::signalAll).isInstanceOf(IllegalMonitorStateException.class);
        assertThatThrownBy(c::await).isInstanceOf(IllegalMonitorStateException.class);
        core.readLock().lock();
        assertThatThrownBy(c::await).as("await with only the read lock").isInstanceOf(IllegalMonitorStateException.class);
        core.readLock().unlock();

        AtomicReference<String> after = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread waiter = daemon("waiter", () -> {
            core.writeLock().lock();
            core.writeLock().lock();
            core.writeLock().lock();
            try {
                c.await();
                after.set("w=" + core.getWriteHoldCount());
            } catch (InterruptedException e) {
                after.set("interrupted");
            }
            for (int i = core.getWriteHoldCount(); i > 0; i--) {
                core.writeLock().unlock();
            }
            done.countDown();
        });
        awaitBlocked(waiter);
        // released fully: a reader and then a writer can get in
        assertThat(core.readLock().tryLock(10, TimeUnit.SECONDS)).as("reader while the holder awaits").isTrue();
        core.readLock().unlock();
        assertThat(core.writeLock().tryLock(10, TimeUnit.SECONDS)).as("writer while the holder awaits").isTrue();
        c.signal();
        core.readLock().lock(); // downgrade: the waiter must wait for the read hold too
        core.writeLock().unlock();
        core.readLock().unlock();
        assertThat(done.await(10, TimeUnit.SECONDS)).as("waiter returned").isTrue();
        assertThat(after.get()).isEqualTo("w=3");
        assertThat(writerCanGet(core)).isTrue();
    }

    @Test
    void interruptedConditionWaitReacquiresWithTheSameHoldCount() throws Exception {
        ReadWriteCore.ReaderPreferring core = core();
        Condition c = core.writeLock().newCondition();
        AtomicReference<String> after = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread waiter = daemon("waiter", () -> {
            core.writeLock().lock();
            core.writeLock().lock();
            try {
                c.await();
                after.set("no exception");
            } catch (InterruptedException e) {
                after.set("IE w=" + core.getWriteHoldCount() + " flag=" + Thread.currentThread().isInterrupted());
            }
            for (int i = core.getWriteHoldCount(); i > 0; i--) {
                core.writeLock().unlock();
            }
            done.countDown();
        });
        awaitBlocked(waiter);
        core.readLock().lock(); // the waiter, interrupted, must wait for this read hold before returning
        waiter.interrupt();
        awaitBlocked(waiter);
        assertThat(done.getCount()).as("returned while another thread reads").isEqualTo(1);
        core.readLock().unlock();
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(after.get()).isEqualTo("IE w=2 flag=false");

        // interrupted before await: throws, and the write lock is still held with its count
        core.writeLock().lock();
        core.writeLock().lock();
        Thread.currentThread().interrupt();
        assertThatThrownBy(c::await).isInstanceOf(InterruptedException.class);
        assertThat(core.getWriteHoldCount()).isEqualTo(2);
        core.writeLock().unlock();
        core.writeLock().unlock();
        // timed await that times out returns false holding the lock
        core.writeLock().lock();
        assertThat(c.await(1, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(c.awaitNanos(-1)).isNotPositive();
        assertThat(core.getWriteHoldCount()).isEqualTo(1);
        core.writeLock().unlock();
        assertThat(writerCanGet(core)).isTrue();
        LockSupport.parkNanos(1); // nothing
    }
}
