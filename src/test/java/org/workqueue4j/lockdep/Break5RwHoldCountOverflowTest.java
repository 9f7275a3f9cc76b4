package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hold counts of {@link ReadWriteCore.ReaderPreferring} are ints that nothing bounds. A
 * {@code java.util.concurrent.locks.ReentrantReadWriteLock} throws {@code Error("Maximum lock count exceeded")} rather than
 * wrap. The state after {@code Integer.MAX_VALUE} re-entries is set by reflection (2^31 real
 * calls take minutes); the next {@code lock()} is a real call.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break5RwHoldCountOverflowTest {

    private static void set(Object o, String name, Object v) throws Exception {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        f.set(o, v);
    }

    @Test
    void writeReentryPastIntMaxMustNotWrap() throws Exception {
        ReadWriteCore.ReaderPreferring core = new ReadWriteCore.ReaderPreferring(false);
        core.writeLock().lock();
        set(core, "writeHolds", Integer.MAX_VALUE); // as after Integer.MAX_VALUE lock() calls
        Throwable thrown = null;
        try {
            core.writeLock().lock();
        } catch (Error e) {
            thrown = e;
        }
        assertThat(thrown == null ? core.getWriteHoldCount() : Integer.MAX_VALUE)
                .as("write hold count after one more lock() than Integer.MAX_VALUE (expected: an Error, count kept;"
                        + " thrown: %s)", thrown)
                .isPositive();
    }

    @Test
    void readReentryPastIntMaxMustNotWrap() throws Exception {
        ReadWriteCore.ReaderPreferring core = new ReadWriteCore.ReaderPreferring(false);
        core.readLock().lock();
        set(core, "readers", Integer.MAX_VALUE); // as after Integer.MAX_VALUE lock() calls
        Field my = core.getClass().getDeclaredField("myReads");
        my.setAccessible(true);
        ((int[]) ((ThreadLocal<?>) my.get(core)).get())[0] = Integer.MAX_VALUE;
        Throwable thrown = null;
        try {
            core.readLock().lock();
        } catch (Error e) {
            thrown = e;
        }
        int holds = core.getReadHoldCount();
        assertThat(thrown == null ? holds : Integer.MAX_VALUE)
                .as("read hold count after one more lock() than Integer.MAX_VALUE (expected: an Error, count kept;"
                        + " thrown: %s); lock %s", thrown, core)
                .isPositive();
    }
}
