package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** Delayed items moved between runtimes (each with its own timer), from the faults table only. */
class BlackBoxCrossRuntimeTest {

    private static void awaitTrue(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(1);
        }
    }

    /**
     * "a delayed item armed for one queue, queueDelayed on another: Same IllegalStateException;
     * still armed. modDelayed moves it, as the kernel's does" — here the other queue is of
     * another runtime, with another timer thread.
     */
    @Test
    void modDelayedMovesAnItemArmedOnAnotherRuntimesTimer() throws Exception {
        TestRuntime a = new TestRuntime(2);
        TestRuntime b = new TestRuntime(2);
        try {
            WorkQueue qa = a.queue("qa").build();
            WorkQueue qb = b.queue("qb").build();
            List<String> ranOn = new CopyOnWriteArrayList<>();
            CountDownLatch ran = new CountDownLatch(1);
            DelayedWork d = new DelayedWork("mover", () -> {
                ranOn.add(Thread.currentThread().getName());
                ran.countDown();
            });
            assertThat(qa.queueDelayed(d, Duration.ofHours(1))).isTrue();
            assertThat(qb.modDelayed(d, Duration.ofMillis(5))).as("was pending").isTrue();
            assertThat(ran.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(d.flush()).isIn(true, false);
            assertThat(ranOn).hasSize(1);
            // closing A must not report or run the moved item
            a.close();
            assertThat(a.errors).isEmpty();
            assertThat(ranOn).hasSize(1);
            assertThat(d.isPending()).isFalse();
            // and it can be re-armed on B again
            assertThat(qb.queueDelayed(d, Duration.ZERO)).isTrue();
            qb.flush();
            assertThat(ranOn).hasSize(2);
        } finally {
            a.close();
            b.close();
        }
    }

    /** An item armed on A whose runtime closes is reported once, is idle, and then works on B. */
    @Test
    void anItemReportedByAClosedRuntimeWorksOnAnother() throws Exception {
        TestRuntime a = new TestRuntime(2);
        TestRuntime b = new TestRuntime(2);
        try {
            WorkQueue qa = a.queue("qa").build();
            WorkQueue qb = b.queue("qb").build();
            AtomicInteger runs = new AtomicInteger();
            DelayedWork d = new DelayedWork("orphan", runs::incrementAndGet);
            assertThat(qa.queueDelayed(d, Duration.ofHours(1))).isTrue();
            a.close();
            assertThat(a.errorWork).containsExactly("qa/orphan");
            assertThat(d.isPending()).isFalse();
            assertThat(d.isTimerArmed()).isFalse();
            assertThat(d.flush()).isFalse();
            assertThat(d.cancelSync()).isFalse();
            assertThat(qb.modDelayed(d, Duration.ofMillis(1))).isFalse();
            awaitTrue(() -> runs.get() == 1, "ran on B");
            assertThat(qb.queueDelayed(d, Duration.ofHours(1))).isTrue();
            assertThat(d.flush()).isTrue();
            assertThat(runs.get()).isEqualTo(2);
            assertThat(b.errors).isEmpty();
        } finally {
            a.close();
            b.close();
        }
    }

    /** Dumps every thread's stack once {@code seconds} have passed, unless cancelled. */
    static Thread hangDumper(String what, int seconds) {
        Thread th = new Thread(() -> {
            try {
                Thread.sleep(seconds * 1000L);
            } catch (InterruptedException e) {
                return;
            }
            StringBuilder sb = new StringBuilder("HANG in " + what + " after " + seconds + " s\n");
            for (var e : Thread.getAllStackTraces().entrySet()) {
                sb.append('"').append(e.getKey().getName()).append("\" ").append(e.getKey().getState()).append('\n');
                for (StackTraceElement f : e.getValue()) {
                    sb.append("    at ").append(f).append('\n');
                }
            }
            System.err.println(sb);
            try {
                java.nio.file.Files.writeString(java.nio.file.Path.of("/tmp/bb_hang_" + System.nanoTime() + ".txt"), sb);
            } catch (java.io.IOException ignored) {
            }
        }, "hang-dumper");
        th.setDaemon(true);
        th.start();
        return th;
    }

    /**
     * Many items bounced with modDelayed between two queues of two runtimes (two timer threads):
     * each modDelayed must return (it never waits for anything), and every accepted arm runs
     * exactly once (modDelayed javadoc: true if it was pending and was modified; false if it was
     * idle and is now queued). DEFECT: a mover spins for ever in Pending.grab.
     */
    @org.junit.jupiter.api.RepeatedTest(5)
    void bouncingItemsBetweenTwoRuntimesTimers() throws Exception {
        TestRuntime a = new TestRuntime(2);
        TestRuntime b = new TestRuntime(2);
        try {
            bounce(a, b, a.queue("qa").build(), b.queue("qb").unbound().build());
        } finally {
            a.close();
            b.close();
        }
    }

    /** The same between two queues of one runtime (one timer): passes. */
    @org.junit.jupiter.api.RepeatedTest(5)
    void bouncingItemsBetweenTwoQueuesOfOneRuntime() throws Exception {
        TestRuntime a = new TestRuntime(2);
        try {
            bounce(a, a, a.queue("qa").build(), a.queue("qb").unbound().build());
        } finally {
            a.close();
        }
    }

    private void bounce(TestRuntime a, TestRuntime b, WorkQueue qa, WorkQueue qb) throws Exception {
        {
            int n = 4;
            AtomicInteger[] runs = new AtomicInteger[n];
            AtomicInteger concurrent = new AtomicInteger();
            List<String> overlaps = new CopyOnWriteArrayList<>();
            DelayedWork[] items = new DelayedWork[n];
            for (int i = 0; i < n; i++) {
                AtomicInteger r = runs[i] = new AtomicInteger();
                AtomicInteger inside = new AtomicInteger();
                String name = "it" + i;
                items[i] = new DelayedWork(name, () -> {
                    if (inside.incrementAndGet() != 1) {
                        overlaps.add(name);
                    }
                    r.incrementAndGet();
                    inside.decrementAndGet();
                });
            }
            java.util.concurrent.atomic.AtomicIntegerArray fresh = new java.util.concurrent.atomic.AtomicIntegerArray(n);
            java.util.concurrent.atomic.AtomicIntegerArray refused = new java.util.concurrent.atomic.AtomicIntegerArray(n);
            Thread[] movers = new Thread[2];
            List<Throwable> odd = new CopyOnWriteArrayList<>();
            for (int m = 0; m < movers.length; m++) {
                int seed = m;
                movers[m] = new Thread(() -> {
                    java.util.Random rnd = new java.util.Random(seed);
                    for (int k = 0; k < 20_000; k++) {
                        int idx = rnd.nextInt(n);
                        DelayedWork d = items[idx];
                        WorkQueue target = rnd.nextBoolean() ? qa : qb;
                        try {
                            if (!target.modDelayed(d, Duration.ofNanos(rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(200_000)))) {
                                fresh.incrementAndGet(idx); // idle before: a new instance
                            }
                        } catch (IllegalStateException e) {
                            // "runs on another queue right now": allowed, nothing changes (or a pending instance taken back)
                            refused.incrementAndGet(idx);
                            if (!e.getMessage().contains(d.name())) {
                                odd.add(e);
                            }
                        } catch (Throwable e) {
                            odd.add(e);
                        }
                    }
                });
                movers[m].setDaemon(true);
                movers[m].start();
            }
            for (Thread m : movers) {
                m.join(20_000);
            }
            if (movers[0].isAlive() || movers[1].isAlive()) {
                StringBuilder sb = new StringBuilder("a modDelayed() has not returned in 20 s;");
                for (Thread m : movers) {
                    sb.append("\n mover ").append(m.getName()).append(' ').append(m.getState()).append(" at ")
                            .append(java.util.Arrays.toString(java.util.Arrays.copyOf(m.getStackTrace(), 4)));
                }
                for (DelayedWork d : items) {
                    if (d.isPending()) {
                        sb.append("\n ").append(d.name()).append(" pending=").append(d.isPending()).append(" armed=")
                                .append(d.isTimerArmed()).append(" busy=").append(d.busy());
                    }
                }
                throw new AssertionError(sb.toString());
            }
            for (DelayedWork d : items) {
                d.flush();
            }
            qa.flush();
            qb.flush();
            assertThat(odd).isEmpty();
            assertThat(overlaps).isEmpty();
            // A refused modDelayed that had taken a pending instance back reports it (its javadoc):
            // each report is that refusal, naming the item
            List<Throwable> reported = new java.util.ArrayList<>(a.errors);
            if (b != a) {
                reported.addAll(b.errors);
            }
            assertThat(reported).allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class));
            List<String> reportedWork = new java.util.ArrayList<>(a.errorWork);
            if (b != a) {
                reportedWork.addAll(b.errorWork);
            }
            for (int i = 0; i < n; i++) {
                String name = items[i].name();
                long reports = reportedWork.stream().filter(w -> w.endsWith("/" + name)).count();
                assertThat(items[i].isPending()).as(name).isFalse();
                assertThat(reports).as(name + ": reports vs refusals").isLessThanOrEqualTo(refused.get(i));
                assertThat(runs[i].get() + reports).as(name + ": runs + reports vs modDelayed()==false ("
                        + refused.get(i) + " refusals, " + reports + " reported)").isEqualTo(fresh.get(i));
            }
        }
    }

    /**
     * One item re-armed (modDelayed, one hour) alternately on a queue of runtime A and of runtime
     * B by two threads, while other items sit armed for an hour on both timers, untouched. The
     * bystanders must stay armed and pending, and cancel() of each must return true (Work.cancel:
     * "true if it was pending") and return at all. DEFECT: a bystander is left pending and
     * "armed" on no timer, and cancel() of it spins for ever.
     */
    @org.junit.jupiter.api.RepeatedTest(3)
    void movingOneItemBetweenTwoTimersLeavesTheOtherArmedItemsAlone() throws Exception {
        moveAndCheckBystanders(false);
    }

    /**
     * As above, but two of the six threads flush the moving item (DelayedWork.flush(Duration):
     * fires the armed timer, then waits) instead of re-arming it; the other four re-arm it on
     * A or B. The flush path (fire an armed item now) reads the item's timer too.
     */
    @org.junit.jupiter.api.RepeatedTest(3)
    void flushingAnItemMovedBetweenTwoTimersLeavesTheOtherArmedItemsAlone() throws Exception {
        moveAndCheckBystanders(true);
    }

    /** Control: the same with both queues in one runtime (one timer); passes. */
    @org.junit.jupiter.api.RepeatedTest(3)
    void movingOneItemBetweenTwoQueuesOfOneRuntimeLeavesTheOtherArmedItemsAlone() throws Exception {
        TestRuntime one = new TestRuntime(2);
        moveAndCheckBystanders(true, one, one);
    }

    private void moveAndCheckBystanders(boolean withFlushers) throws Exception {
        moveAndCheckBystanders(withFlushers, new TestRuntime(2), new TestRuntime(2));
    }

    private void moveAndCheckBystanders(boolean withFlushers, TestRuntime a, TestRuntime b) throws Exception {
        StringBuilder bad = new StringBuilder();
        try {
            WorkQueue qa = a.queue("qa").build();
            WorkQueue qb = b.queue("qb").build();
            List<DelayedWork> bystanders = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                DelayedWork x = new DelayedWork("byA" + i, () -> { });
                DelayedWork y = new DelayedWork("byB" + i, () -> { });
                assertThat(qa.queueDelayed(x, Duration.ofHours(1 + i))).isTrue();
                assertThat(qb.queueDelayed(y, Duration.ofHours(1 + i))).isTrue();
                bystanders.add(x);
                bystanders.add(y);
            }
            DelayedWork m = new DelayedWork("mover", () -> { });
            List<Throwable> odd = new CopyOnWriteArrayList<>();
            Thread[] ts = new Thread[6]; // more threads than cores: a mover is preempted inside modDelayed now and then
            for (int k = 0; k < ts.length; k++) {
                WorkQueue target = k % 2 == 0 ? qa : qb;
                boolean flusher = withFlushers && k >= 4;
                ts[k] = new Thread(() -> {
                    for (int i = 0; i < 100_000; i++) {
                        try {
                            if (flusher) {
                                m.flush(Duration.ofMillis(1));
                            } else {
                                target.modDelayed(m, Duration.ofHours(2));
                            }
                        } catch (IllegalStateException e) {
                            // documented: "the item runs on another queue right now; nothing changes"
                            if (!e.getMessage().contains("right now")) {
                                odd.add(e);
                                return;
                            }
                        } catch (Throwable e) {
                            odd.add(e);
                            return;
                        }
                    }
                }, (flusher ? "flusher-" : "mover-") + k + (k % 2 == 0 ? "A" : "B"));
                ts[k].setDaemon(true);
                ts[k].start();
            }
            for (Thread th : ts) {
                th.join(20_000);
            }
            for (Thread th : ts) {
                if (th.isAlive()) {
                    bad.append("\n").append(th.getName()).append( " still in modDelayed/flush after 20 s at ")
                            .append(java.util.Arrays.toString(java.util.Arrays.copyOf(th.getStackTrace(), 3)));
                }
            }
            for (Throwable e : odd) {
                bad.append("\nmodDelayed/flush threw ").append(e);
            }
            for (DelayedWork x : bystanders) {
                java.util.concurrent.FutureTask<Boolean> c = new java.util.concurrent.FutureTask<>(x::cancel);
                Thread th = new Thread(c, "cancel-" + x.name());
                th.setDaemon(true);
                th.start();
                th.join(5_000);
                if (th.isAlive()) {
                    bad.append("\n").append(x.name()).append(".cancel() has not returned in 5 s (pending=")
                            .append(x.isPending()).append(", armed=").append(x.isTimerArmed()).append(')');
                } else if (!c.get()) {
                    bad.append("\n").append(x.name()).append(".cancel() returned false for an item armed for hours");
                }
            }
        } finally {
            for (TestRuntime r : new TestRuntime[] {a, b}) {
                try {
                    r.close();
                } catch (Throwable e) {
                    bad.append("\nclose() threw ").append(e).append(" at ")
                            .append(java.util.Arrays.toString(java.util.Arrays.copyOf(e.getStackTrace(), 3)));
                }
            }
        }
        assertThat(bad.toString()).as("bystanders, movers and close()").isEmpty();
    }
}
