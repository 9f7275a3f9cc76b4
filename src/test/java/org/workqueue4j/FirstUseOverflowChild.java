package org.workqueue4j;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * {@link FirstUseOverflowTest}'s child JVM: builds a runtime and a queue, then calls
 * each operation ({@code queue()}, the flushes, cancels, the delayed paths, drain, dump) at every
 * depth of a fresh thread's stack before any item of the JVM has run (so that the operation's
 * first uses of engine classes happen at the end of a stack), then checks
 * that the library still works. Prints {@link #OK} and exits 0, or prints what failed and exits 1.
 */
final class FirstUseOverflowChild {
    static final String OK = "FIRST-USE-OVERFLOW-CHILD: the library works after the overflows";

    private FirstUseOverflowChild() {
    }

    public static void main(String[] args) throws Exception {
        try (WorkQueues rt = WorkQueues.create()) {
            WorkQueue q = rt.queueBuilder("first-use").build();
            Work w = new Work("w", () -> { });
            DelayedWork d = new DelayedWork("d", () -> { });
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            // Each operation's first uses at the end of a fresh thread's stack, in turn.
            List<IntConsumer> ops = List.of(
                    i -> q.queue(w),
                    i -> q.flush(),
                    i -> w.flush(),
                    i -> w.cancel(),
                    i -> w.cancelSync(),
                    i -> q.queueDelayed(d, Duration.ofHours(1)),
                    i -> q.modDelayed(d, Duration.ofHours(1)),
                    i -> d.cancel(),
                    i -> q.drain(),
                    i -> rt.dump());
            for (IntConsumer op : ops) {
                Thread th = new Thread(null, () -> StackProbeAttackTest.descend(i -> {
                    try {
                        op.accept(i);
                    } catch (StackOverflowError expected) {
                        throw expected;
                    } catch (Throwable e) {
                        unexpected.compareAndSet(null, e);
                    }
                }, new int[1], new AtomicReference<>()), "deep-first-use", 256 * 1024);
                th.start();
                th.join();
            }
            d.cancel();
            AtomicInteger ran = new AtomicInteger();
            Work after = new Work("after", ran::incrementAndGet);
            try {
                q.queue(after);
                q.flush();
            } catch (Throwable e) {
                unexpected.compareAndSet(null, e);
            }
            if (unexpected.get() != null || ran.get() != 1) {
                System.out.println("FAILED: ran " + ran.get() + ", first unexpected throwable: " + unexpected.get());
                if (unexpected.get() != null) {
                    unexpected.get().printStackTrace(System.out);
                }
                System.exit(1);
            }
            System.out.println(OK);
        }
    }
}
