package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * The README's "mutual flush" (an item of q1 flushes q2; later an item of q2 flushes q1), where
 * the q1 item has its own key ({@code new Work(name, key, fn)}, as the README advises for
 * generic wrappers). The worker held q1's map while it waited for q2 (q1 -> q2 is a real
 * dependency, made directly), but the graph keeps it only as q1 -> item -> q2 (the held-stack
 * walk stops at the item's map). Once the item's key is unreachable and its class freed, the
 * second half is not reported. Control: the same without the free is reported.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break4LdFreedItemClassTest {

    private static WorkQueues runtime(Lockdep ld) {
        return WorkQueues.create(WorkQueuesConfig.builder().validator(ld).flushAnnotation(FlushAnnotation.ALWAYS).build());
    }

    /** Runs an item of q2 that flushes q1; returns what that flush threw, or null. */
    private static Throwable q2ItemFlushesQ1(WorkQueue q1, WorkQueue q2) {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        q2.queue(new Work("q2-flushes-q1", new LockClassKey("q2-item"), () -> {
            try {
                q1.flush();
            } catch (Throwable e) {
                thrown.set(e);
            }
        }));
        q2.flush();
        return thrown.get();
    }

    /** Runs an item of q1, with a key of its own, that flushes q2; returns a weak ref to the key. */
    private static WeakReference<LockClassKey> q1ItemFlushesQ2(WorkQueue q1, WorkQueue q2) {
        LockClassKey key = new LockClassKey("request");
        q1.queue(new Work("request-1", key, q2::flush));
        q1.flush();
        return new WeakReference<>(key);
    }

    @Test
    void controlWithoutAFreeTheMutualFlushIsReported() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = runtime(ld)) {
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            LockClassKey key = new LockClassKey("request");
            q1.queue(new Work("request-1", key, q2::flush));
            q1.flush();
            assertThat(q2ItemFlushesQ1(q1, q2)).as("control").isInstanceOf(PotentialDeadlockException.class);
        }
    }

    @Test
    void unregisteringTheItemKeyMustNotForgetQ1ToQ2() {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = runtime(ld)) {
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            LockClassKey key = new LockClassKey("request");
            q1.queue(new Work("request-1", key, q2::flush));
            q1.flush();
            ld.unregisterKey(key);
            Throwable t = q2ItemFlushesQ1(q1, q2);
            assertThat(t)
                    .as("expected: the q2 item's q1.flush() refused (a q1 worker waited for q2 while holding q1's map);"
                            + " actual: %s after the q1 item's class was freed (%s)", t, String.valueOf(ld))
                    .isInstanceOf(PotentialDeadlockException.class);
        }
    }

    @Test
    void collectingTheItemKeyMustNotForgetQ1ToQ2() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        try (WorkQueues rt = runtime(ld)) {
            WorkQueue q1 = rt.queueBuilder("q1").build();
            WorkQueue q2 = rt.queueBuilder("q2").build();
            WeakReference<LockClassKey> ref = q1ItemFlushesQ2(q1, q2);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ref.get() != null || ld.stats().freedClasses() == 0) {
                System.gc();
                Thread.sleep(20);
                if (System.nanoTime() > deadline) {
                    throw new org.opentest4j.TestAbortedException("the item's key was not collected in 10 s");
                }
            }
            Throwable t = q2ItemFlushesQ1(q1, q2);
            assertThat(t)
                    .as("expected: the q2 item's q1.flush() refused (a q1 worker waited for q2 while holding q1's map);"
                            + " actual: %s once the q1 item's key was collected and its class freed (%s)", t, String.valueOf(ld))
                    .isInstanceOf(PotentialDeadlockException.class);
        }
    }
}
