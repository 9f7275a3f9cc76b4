package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * modDelayed moving an armed item from a queue of runtime A to a queue of runtime B while both
 * queues are destroyed and a cancelSync runs: every accepted instance ends in exactly one run,
 * one cancel that returned true, or one report (WorkQueue.modDelayed javadoc: "that instance is
 * reported to the uncaught-work handler ... nothing is lost silently"; README faults table:
 * "The taken instance is reported ... the item is idle and usable").
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break2ModDelayedLedgerTest {
    private final TestRuntime a = new TestRuntime(2);
    private final TestRuntime b = new TestRuntime(2);

    @AfterEach
    void close() {
        a.close();
        b.close();
    }

    private static long count(List<String> l, String s) {
        return l.stream().filter(s::equals).count();
    }

    /** With a plain cancel (a modDelayed returning false then queued a new instance): exact. */
    @Test
    void everyInstanceEndsOnceWhenModDelayedRacesTwoDestroysAndACancel() throws Exception {
        run(false);
    }

    /**
     * With cancelSync (a modDelayed returning false during it was refused as disabled, or
     * queued a new instance: both say false), the count lies between one and one plus those.
     */
    @Test
    void everyInstanceEndsOnceWhenModDelayedRacesTwoDestroysAndACancelSync() throws Exception {
        run(true);
    }

    private void run(boolean sync) throws Exception {
        WorkQueue spare = a.queue("spare").build();
        for (int it = 0; it < 1500; it++) {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            WorkQueue q1 = a.queue("q1-" + it).build();
            boolean onB = rnd.nextBoolean();
            WorkQueue q2 = (onB ? b : a).queue("q2-" + it).build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork d = new DelayedWork("d" + it, runs::incrementAndGet);
            assertThat(q1.queueDelayed(d, Duration.ofHours(1))).isTrue();
            Duration delay = rnd.nextBoolean() ? Duration.ZERO : Duration.ofHours(1);
            boolean withCancel = rnd.nextBoolean();
            AtomicInteger modFalse = new AtomicInteger();
            AtomicInteger cancelTrue = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            CyclicBarrier go = new CyclicBarrier(withCancel ? 4 : 3);
            List<Thread> ts = new ArrayList<>();
            ts.add(new Thread(() -> {
                try {
                    go.await();
                    if (!q2.modDelayed(d, delay)) {
                        modFalse.incrementAndGet();
                    }
                } catch (IllegalStateException e) {
                    // refused by a destroy: documented
                } catch (Throwable e) {
                    unexpected.add(e);
                }
            }));
            ts.add(new Thread(() -> {
                try {
                    go.await();
                    q2.destroy();
                } catch (Throwable e) {
                    unexpected.add(e);
                }
            }));
            ts.add(new Thread(() -> {
                try {
                    go.await();
                    q1.destroy();
                } catch (Throwable e) {
                    unexpected.add(e);
                }
            }));
            if (withCancel) {
                ts.add(new Thread(() -> {
                    try {
                        go.await();
                        if (sync ? d.cancelSync() : d.cancel()) {
                            cancelTrue.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                }));
            }
            for (Thread t : ts) {
                t.setDaemon(true);
                t.start();
            }
            for (Thread t : ts) {
                t.join(30_000);
                assertThat(t.isAlive()).as("iteration %s: a call did not return: %s", it, List.of(t.getStackTrace())).isFalse();
            }
            assertThat(unexpected).as("iteration %s", it).isEmpty();
            String n1 = q1.name() + "/" + d.name();
            String n2 = q2.name() + "/" + d.name();
            List<String> all = new ArrayList<>(a.errorWork);
            all.addAll(b.errorWork);
            long reports = count(all, n1) + count(all, n2);
            long accepted = 1 + modFalse.get();
            long ended = runs.get() + reports + cancelTrue.get();
            assertThat(ended)
                    .as("iteration %s (delay %s, cancel %s, q2 on B %s): runs %s, reports %s, cancels %s, modDelayed false %s, pending %s, armed %s",
                            it, delay, withCancel, onB, runs.get(), all, cancelTrue.get(), modFalse.get(), d.isPending(), d.isTimerArmed())
                    .isBetween(sync ? 1L : accepted, accepted);
            assertThat(d.isPending()).as("iteration %s: pending", it).isFalse();
            assertThat(spare.queue(d)).as("iteration %s: usable", it).isTrue();
            spare.flush();
            a.errorWork.clear();
            b.errorWork.clear();
        }
    }
}
