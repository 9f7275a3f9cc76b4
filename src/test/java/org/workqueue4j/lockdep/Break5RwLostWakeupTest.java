package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The write holder releases near the end of its stack (retrying shallower while its hold count
 * says it still holds): once it no longer holds, the reader parked on the lock must be woken.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Break5RwLostWakeupTest {

    private static Object field(Object o, String name) throws Exception {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    private static final class Releaser {
        final ReadWriteCore core;
        int soe;

        Releaser(ReadWriteCore core) {
            this.core = core;
        }

        void release() {
            try {
                release();
            } catch (StackOverflowError e) {
                // deepest frames first
            }
            if (core.getWriteHoldCount() > 0) {
                try {
                    core.writeLock().unlock();
                } catch (StackOverflowError e) {
                    soe++;
                }
            }
        }
    }

    @Test
    void aParkedReaderIsWokenWhenTheWriterReleasesNearTheStackEnd() throws Exception {
        for (int round = 0; round < 40; round++) {
            ReadWriteCore.ReaderPreferring core = new ReadWriteCore.ReaderPreferring(false);
            CountDownLatch writeHeld = new CountDownLatch(1);
            CountDownLatch readerParked = new CountDownLatch(1);
            Releaser rel = new Releaser(core);
            Thread deep = new Thread(null, () -> {
                core.writeLock().lock();
                writeHeld.countDown();
                try {
                    readerParked.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    return;
                }
                rel.release();
            }, "deep", 512 * 1024);
            deep.start();
            assertThat(writeHeld.await(10, TimeUnit.SECONDS)).isTrue();
            CountDownLatch readerIn = new CountDownLatch(1);
            Thread reader = new Thread(() -> {
                core.readLock().lock();
                core.readLock().unlock();
                readerIn.countDown();
            }, "reader");
            reader.setDaemon(true);
            reader.start();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (reader.getState() != Thread.State.WAITING && System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            readerParked.countDown();
            deep.join(TimeUnit.SECONDS.toMillis(30));
            boolean woke = readerIn.await(5, TimeUnit.SECONDS);
            ReentrantLock guard = (ReentrantLock) field(core, "guard");
            StringBuilder where = new StringBuilder();
            for (StackTraceElement e : reader.getStackTrace()) {
                if (e.getClassName().contains("ReadWriteCore") || e.getMethodName().startsWith("await")) {
                    where.append(e.getMethodName()).append(':').append(e.getLineNumber()).append(' ');
                }
            }
            assertThat(woke).as("round %d: the writer released (its write hold count is 0; %d StackOverflowErrors in unlock()),"
                    + " expected the parked reader to get the read lock; it is %s in [%s]; state readers=%s writer=%s writeHolds=%s guard=%s",
                    round, rel.soe, reader.getState(), where, field(core, "readers"), field(core, "writer"), field(core, "writeHolds"), guard)
                    .isTrue();
        }
    }
}
