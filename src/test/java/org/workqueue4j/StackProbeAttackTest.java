package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.internal.PoolLock;

/**
 * A StackOverflowError that strikes inside the JDK's lock acquisition ({@code ReentrantLock}'s
 * reserved-stack section) is delivered after the lock was taken, before the caller's
 * {@code try}: every engine lock a caller's thread takes must be preceded by the stack probe
 * (WorkerPool.stackProbe), not only queue()'s. Each operation is run at every depth of a
 * thread's stack, on fresh threads of several stack sizes (each shifts where the overflow
 * strikes); afterwards the thread must hold no engine lock and must have returned at all (an
 * item left half-claimed makes the next attempt spin for ever), and the runtime must work.
 *
 * <p>On the code before the probes were added to these paths (the probe was only on queue()'s
 * pool-lock acquisitions), this class failed 3 of 5: {@code flushLeavesNoLockHeld} found a pool
 * lock held (FlushColors.markAndAdvance), {@code drainLeavesNoLockHeld} hung (a drain's flush
 * waiting behind a leaked pool lock; with the probes alone it still hung, on a pwq inbox that a
 * throw inside closeInbox left counted closed for good), {@code modDelayedLeavesNoItemHalfClaimed}
 * hung in Pending.grab (an overflow in the TIMER clear after TimerQueue.cancel had taken the
 * node off the heap: PENDING and TIMER set, on no heap or list). In a first, 40-sweep
 * experiment {@code setMaxActive} left the queue mutex and a pool lock held in 3 of 40 sweeps;
 * it and the item flush/cancel probe held in the recorded run and stay as guards.
 * {@code delayedPathsLeaveNoItemHalfClaimed} (ErrorSafetyTest's by-hand delayed probe, here with
 * the culprit named) hung in Pending.grab after an overflow struck the release of a slow-path
 * claim ({@code clearState(PENDING)} in claimAndInsert's catch), until that claim and
 * Pending.grab were preceded by the stack probe too. {@code executorExecuteLeavesNoLockHeld}
 * found no lock held but an executor view that never terminated after shutdown (a task left
 * counted live, never queued, by an overflow in its accounting or in the catch that undoes it),
 * until WorkQueueExecutorService.enqueue probed the stack first. {@code disableEnableLeaveTheItemUsable}
 * and {@code flushAsyncLeavesNoLockHeld} held as written; with the probes taken out of Pending
 * and FlushColors again both failed, 2 runs of 2. {@code dumpsLeaveNoLockHeld} found a pool lock
 * left held by {@code dump()} (1 run of 2) until the dumps' pool locks were probed too.
 *
 * <p>{@code executorQueriesAndCancelLeaveNoLockHeld} and
 * {@code executorShutdownLeavesNoLockHeldAndTerminates} (the executor view's caller-side
 * operations) failed as first written: the view's lock held by an ended thread, and about 930
 * of 7680 views that never terminated after a struck shutdown/shutdownNow (a task taken back
 * but still counted live, or {@code terminating} set with nothing queued to finish it). With a
 * probe in front of every acquisition of the view's lock no lock was left held, but 196 views
 * still never terminated and {@code executorExecuteLeavesNoLockHeld} failed too: a probe on the
 * commit or undo path (finished, markTerminated) threw after the change it was to commit. They
 * pass since the view probes once at each operation's entry, finishes the tasks a struck taker
 * left TAKEN on the next shutdown or shutdownNow, and lets a struck termination be retried.
 */
@Timeout(120)
class StackProbeAttackTest {
    /** Sweeps per operation; each runs the operation once per frame of a fresh thread's stack. */
    private static final int SWEEPS = 60;
    private static final Duration BOUND = Duration.ofSeconds(20);
    private static final long LOCK_BOUND_S = 5;

    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        assertTimeoutPreemptively(BOUND, t::close, "close() blocked: a lock or a claim was left behind");
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside a queue flush leaves no engine lock held")
    void flushLeavesNoLockHeld() throws InterruptedException {
        WorkQueue q = t.queue("soe-flush").build();
        Work w = new Work("w", () -> { });
        q.queue(w);
        q.flush();
        attack(q, i -> {
            if ((i & 7) == 0) {
                q.queue(w); // something in flight now and then: the flip marks a colour
            }
            q.flush();
        });
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside the runtime's dumps leaves no engine lock held")
    void dumpsLeaveNoLockHeld() throws InterruptedException {
        WorkQueue q = t.queue("soe-dump").build();
        Work w = new Work("w", () -> { });
        attack(q, i -> {
            if ((i & 7) == 0) {
                q.queue(w); // something in a pool now and then: the dump looks at it
            }
            if ((i & 1) == 0) {
                t.rt.dump();
            } else {
                t.rt.dumpData();
            }
        });
    }

    /*
     * A managed wait inside an item (WorkQueues.managedBlock here; an item's flush or any
     * library wait takes the same path) tells its pool the worker sleeps: Worker.sleeping()
     * takes the pool lock on the worker, at whatever depth the item's code is. Each sweep runs
     * one item on a worker of its own stack size that makes the wait at every depth, then looks
     * at the locks the worker holds.
     */
    @Test
    @DisplayName("a StackOverflowError anywhere inside an item's managed wait leaves its pool's lock free")
    void managedWaitInsideAnItemLeavesThePoolLockFree() throws Exception {
        List<String> leaks = new ArrayList<>();
        for (int s = 0; s < SWEEPS; s++) {
            long stack = 192 * 1024 + s * 1032L;
            java.util.concurrent.ThreadFactory small = r -> {
                Thread th = new Thread(null, r, "small-stack", stack);
                th.setDaemon(true);
                return th;
            };
            try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).threadFactory(small).build())) {
                WorkQueue q = rt.queueBuilder("managed").build();
                Map<String, EngineLock> locks = engineLocks(rt, q);
                List<String> held = new java.util.concurrent.CopyOnWriteArrayList<>();
                java.util.concurrent.ForkJoinPool.ManagedBlocker blocker = new java.util.concurrent.ForkJoinPool.ManagedBlocker() {
                    @Override
                    public boolean block() {
                        return true;
                    }

                    @Override
                    public boolean isReleasable() {
                        return false;
                    }
                };
                Work deep = new Work("deep", () -> {
                    descend(i -> {
                        try {
                            WorkQueues.managedBlock(blocker);
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                    }, new int[1], last);
                    locks.forEach((name, l) -> {
                        while (l.isHeldByCurrentThread()) {
                            held.add(name);
                            l.unlock(); // so that the queue goes on and close() returns
                        }
                    });
                });
                assertThat(q.queue(deep)).isTrue();
                assertThat(deep.flush(BOUND)).as("sweep " + s + ": the item ended").isTrue();
                if (!held.isEmpty()) {
                    leaks.add("sweep " + s + ": " + held);
                }
                AtomicInteger ran = new AtomicInteger();
                Work after = new Work("after", ran::incrementAndGet);
                assertThat(q.queue(after)).isTrue();
                assertThat(after.flush(BOUND)).isTrue();
                assertThat(ran).hasValue(1);
            }
        }
        assertThat(leaks).as("pool locks a StackOverflowError left held by the worker (released by the item afterwards)").isEmpty();
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside drain() leaves no engine lock held")
    void drainLeavesNoLockHeld() throws InterruptedException {
        WorkQueue q = t.queue("soe-drain").build();
        q.drain();
        attack(q, i -> q.drain());
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside setMaxActive leaves no engine lock held")
    void setMaxActiveLeavesNoLockHeld() throws InterruptedException {
        WorkQueue q = t.queue("soe-max-active").build();
        q.setMaxActive(2);
        attack(q, i -> q.setMaxActive(1 + (i & 1)));
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside modDelayed leaves the item neither half-claimed nor a lock held")
    void modDelayedLeavesNoItemHalfClaimed() throws InterruptedException {
        WorkQueue q = t.queue("soe-mod-delayed").build();
        AtomicInteger runs = new AtomicInteger();
        DelayedWork d = new DelayedWork("d", runs::incrementAndGet);
        q.queueDelayed(d, Duration.ofHours(1));
        q.modDelayed(d, Duration.ofHours(2));
        attack(q, i -> q.modDelayed(d, Duration.ofHours(1)));
        ErrorSafetyTest.assertDelayedItemRecovers(q, d, runs, BOUND);
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside queueDelayed, modDelayed or cancel, in turn, leaves no item half-claimed")
    void delayedPathsLeaveNoItemHalfClaimed() throws InterruptedException {
        WorkQueue q = t.queue("soe-rotation").build();
        DelayedWork d = new DelayedWork("d", () -> { });
        q.queueDelayed(d, Duration.ofHours(1));
        q.modDelayed(d, Duration.ofHours(2));
        d.cancel();
        attack(q, i -> {
            switch (i % 3) {
                case 0 -> q.queueDelayed(d, Duration.ofHours(1));
                case 1 -> q.modDelayed(d, Duration.ofHours(1));
                default -> d.cancel();
            }
        });
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside a lazy holder's first get() leaves its mutex free")
    void lazyHolderCreationLeavesNoMutexHeld() throws Exception {
        WorkQueue q = t.queue("soe-lazy").build();
        java.util.function.Supplier<WorkQueue> factory = () -> q; // linked here, not at the end of a stack
        List<LazyQueueHolder> holders = new ArrayList<>(); // written by each sweep's thread, read after its join
        new LazyQueueHolder(LazyQueueHolder.Strategy.MUTEX, factory).get(); // links get() and its lock
        attack(q, i -> {
            LazyQueueHolder h = new LazyQueueHolder(LazyQueueHolder.Strategy.MUTEX, factory);
            holders.add(h);
            h.get();
        });
        List<Integer> stuck = new ArrayList<>();
        for (int i = 0; i < holders.size(); i++) {
            if (((ReentrantLock) field(holders.get(i), "mutex")).isLocked()) {
                stuck.add(i); // its thread has ended: every later first get() would wait for good
            }
        }
        assertThat(stuck).as("holders whose mutex a StackOverflowError left held, of " + holders.size()).isEmpty();
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside an executor's execute leaves its lock and the queue's free")
    void executorExecuteLeavesNoLockHeld() throws InterruptedException {
        WorkQueue q = t.queue("soe-executor").build();
        java.util.concurrent.ExecutorService ex = q.asExecutorService();
        ex.execute(() -> { });
        q.flush();
        extraLocks.put("executor lock", EngineLock.of(field(ex, "lock")));
        AtomicInteger runs = new AtomicInteger();
        Runnable task = runs::incrementAndGet; // linked here: a call site linked at the end of the stack fails for good
        attack(q, i -> ex.execute(task));
        ex.shutdown();
        assertThat(ex.awaitTermination(BOUND.toSeconds(), TimeUnit.SECONDS)).as("the executor terminated").isTrue();
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside an executor's run-state queries and Future.cancel leaves its lock free and lets it terminate")
    void executorQueriesAndCancelLeaveNoLockHeld() throws InterruptedException {
        WorkQueue q = t.queue("soe-executor-cancel").build();
        java.util.concurrent.ScheduledExecutorService ex = q.asScheduledExecutorService();
        Runnable task = () -> { }; // linked here
        ex.schedule(task, 1, TimeUnit.HOURS).cancel(false);
        ex.isTerminated();
        ex.awaitTermination(0, TimeUnit.NANOSECONDS);
        extraLocks.put("executor lock", EngineLock.of(field(ex, "lock")));
        attack(q, i -> {
            try {
                switch (i % 3) {
                    case 0 -> ex.isTerminated();
                    case 1 -> ex.awaitTermination(0, TimeUnit.NANOSECONDS);
                    default -> ex.schedule(task, 1, TimeUnit.HOURS).cancel(false);
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        ex.shutdownNow(); // returns what a struck cancel left waiting
        assertThat(ex.awaitTermination(BOUND.toSeconds(), TimeUnit.SECONDS))
                .as("terminated: no task left taken back but counted live").isTrue();
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside an executor's shutdown, shutdownNow or awaitTermination leaves its lock free and lets it terminate")
    void executorShutdownLeavesNoLockHeldAndTerminates() throws InterruptedException {
        WorkQueue q = t.queue("soe-executor-shutdown").build();
        Runnable task = () -> { }; // linked here
        java.util.function.IntFunction<java.util.concurrent.ScheduledExecutorService> view = i -> {
            java.util.concurrent.ScheduledExecutorService v = q.asScheduledExecutorService();
            if ((i & 1) == 0) {
                v.schedule(task, 1, TimeUnit.HOURS); // something for shutdownNow to take back
                v.scheduleAtFixedRate(task, 1, 1, TimeUnit.HOURS); // and for shutdown to cancel
            }
            return v;
        };
        for (int i = 0; i < 4; i++) { // links every path below
            java.util.concurrent.ScheduledExecutorService v = view.apply(i);
            v.shutdown();
            v.awaitTermination(0, TimeUnit.NANOSECONDS);
            v.shutdownNow();
            v.isTerminated();
        }
        // A fresh view per attempt (a run state changes once), made at a shallow depth before
        // each sweep: the deepest PER_SWEEP attempts, where the overflow strikes, each get one.
        int perSweep = 128;
        List<java.util.concurrent.ScheduledExecutorService> views = new ArrayList<>();
        List<java.util.concurrent.ScheduledExecutorService> sweepViews = new ArrayList<>();
        attack(q, i -> {
            if (i >= sweepViews.size()) {
                return;
            }
            java.util.concurrent.ScheduledExecutorService v = sweepViews.get(i);
            try {
                switch (i % 3) {
                    case 0 -> v.shutdown();
                    case 1 -> v.shutdownNow();
                    default -> {
                        v.shutdown();
                        v.awaitTermination(0, TimeUnit.NANOSECONDS);
                    }
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }, () -> {
            sweepViews.clear();
            for (int i = 0; i < perSweep; i++) {
                sweepViews.add(view.apply(i));
            }
            views.addAll(sweepViews);
        });
        List<String> stuck = new ArrayList<>();
        List<Integer> live = new ArrayList<>();
        for (int i = 0; i < views.size(); i++) {
            java.util.concurrent.ScheduledExecutorService v = views.get(i);
            if (((ReentrantLock) field(v, "lock")).isLocked()) {
                stuck.add(i + ": lock held by an ended thread");
            } else {
                v.shutdownNow(); // what a struck call left behind, as a user would retry
                live.add(i);
            }
        }
        long deadline = System.nanoTime() + BOUND.toNanos();
        for (int i : live) {
            if (!views.get(i).awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                stuck.add(i + ": never terminates (" + views.get(i) + ")");
            }
        }
        assertThat(stuck).as("views a StackOverflowError left locked or unable to terminate, of " + views.size()).isEmpty();
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside disable, enable and queue, in turn, leaves the item usable")
    void disableEnableLeaveTheItemUsable() throws InterruptedException {
        WorkQueue q = t.queue("soe-disable").build();
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        q.queue(w);
        w.flush();
        w.disable();
        w.enable();
        attack(q, i -> {
            switch (i % 3) {
                case 0 -> w.disable();
                case 1 -> w.enable();
                default -> q.queue(w);
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            while (w.disableDepth() > 0) {
                w.enable();
            }
            w.cancelSync();
            assertThat(w.isPending()).isFalse();
            int before = runs.get();
            assertThat(q.queue(w)).isTrue();
            w.flush();
            assertThat(runs.get()).isEqualTo(before + 1);
        }, "the item was left disabled or in transit");
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside flushAsync leaves later flushes working")
    void flushAsyncLeavesNoLockHeld() throws InterruptedException {
        WorkQueue q = t.queue("soe-flush-async").build();
        Work w = new Work("w", () -> { });
        q.queue(w);
        q.flushAsync().join();
        attack(q, i -> {
            if ((i & 7) == 0) {
                q.queue(w);
            }
            q.flushAsync();
        });
        assertThat(q.flushAsync()).as("a later async flush completes").succeedsWithin(BOUND);
    }

    @Test
    @DisplayName("a StackOverflowError anywhere inside an item's flush or cancelSync leaves no engine lock held")
    void itemFlushAndCancelLeaveNoLockHeld() throws InterruptedException {
        WorkQueue q = t.queue("soe-item").build();
        Work w = new Work("w", () -> { });
        q.queue(w);
        w.flush();
        attack(q, i -> {
            switch (i % 3) {
                case 0 -> w.flush();
                case 1 -> w.cancelSync();
                default -> w.busy();
            }
        });
    }

    /**
     * Runs {@code op} at every depth on SWEEPS fresh threads, each with its own stack size;
     * fails if a sweep leaves an engine lock held by its thread or does not return, then
     * checks that another thread's flush and a new item still work.
     */
    /** Locks of the object under attack beyond the engine's (an executor's). */
    private final Map<String, EngineLock> extraLocks = new LinkedHashMap<>();

    private void attack(WorkQueue q, IntConsumer op) throws InterruptedException {
        attack(q, op, () -> { });
    }

    /** As {@link #attack(WorkQueue, IntConsumer)}, running {@code beforeSweep} on the test's thread before each sweep. */
    private void attack(WorkQueue q, IntConsumer op, Runnable beforeSweep) throws InterruptedException {
        Map<String, EngineLock> locks = engineLocks(t.rt, q);
        locks.putAll(extraLocks);
        List<String> leaks = new ArrayList<>();
        for (int s = 0; s < SWEEPS; s++) {
            beforeSweep.run();
            long stack = 192 * 1024 + s * 1032L; // not a multiple of the page: the overflow point moves
            List<String> held = sweep(locks, op, stack);
            if (!held.isEmpty()) {
                leaks.add("sweep " + s + ": " + held);
            }
        }
        assertThat(leaks).as("engine locks a StackOverflowError left held (released by the test afterwards)").isEmpty();
        assertTimeoutPreemptively(BOUND, () -> {
            Thread other = new Thread(q::flush, "other-flusher");
            other.start();
            other.join();
            AtomicInteger ran = new AtomicInteger();
            Work after = new Work("after", ran::incrementAndGet);
            assertThat(q.queue(after)).isTrue();
            after.flush();
            assertThat(ran).hasValue(1);
        }, "the queue does not work after the overflows");
    }

    /** The last overflow an attempt died of, over all sweeps (the one before a stuck attempt names the culprit). */
    private static final AtomicReference<StackOverflowError> last = new AtomicReference<>();

    /** One sweep on a fresh thread of {@code stackSize}; returns the locks it still held after it (then released). */
    private static List<String> sweep(Map<String, EngineLock> locks, IntConsumer op, long stackSize)
            throws InterruptedException {
        List<String> held = new ArrayList<>();
        int[] attempts = {0};
        Thread th = new Thread(null, () -> {
            descend(op, attempts, last);
            locks.forEach((name, l) -> {
                while (l.isHeldByCurrentThread()) {
                    held.add(name);
                    l.unlock(); // so that the next sweeps (and close) are not blocked by this one
                }
                // An overflow between the acquisition's CAS and its owner store leaves the lock
                // taken with no owner: nobody can release it. Workers hold pool locks briefly only.
                try {
                    if (l.tryLock(LOCK_BOUND_S, TimeUnit.SECONDS)) {
                        l.unlock();
                    } else {
                        held.add(name + " (locked by no live holder for " + LOCK_BOUND_S + " s)");
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
        }, "soe-prober", stackSize);
        th.start();
        th.join(BOUND.toMillis());
        if (th.isAlive()) {
            StackOverflowError e = last.get();
            throw new AssertionError("a sweep did not return (stuck at " + Arrays.stream(th.getStackTrace())
                    .filter(f -> !f.getMethodName().equals("descend")).map(String::valueOf).toList()
                    + "); the overflow before it struck at "
                    + (e == null ? "?" : Arrays.toString(Arrays.copyOf(e.getStackTrace(), 10))));
        }
        return held;
    }

    /** Overflows the stack, then runs {@code op} once per frame on the way back (shared with the other every-depth tests). */
    static void descend(IntConsumer op, int[] attempts, AtomicReference<StackOverflowError> last) {
        try {
            descend(op, attempts, last);
        } catch (StackOverflowError deepest) {
            // the bottom: try the operation in every frame on the way back
        }
        try {
            op.accept(attempts[0]++);
        } catch (StackOverflowError struck) {
            last.set(struck);
        }
    }

    /** An engine lock as the sweeps use it: a {@code ReentrantLock} or a pool's {@code PoolLock}. */
    interface EngineLock {
        boolean isHeldByCurrentThread();

        void unlock();

        /** Takes and keeps the lock if it is free within {@code seconds}. */
        boolean tryLock(long seconds, TimeUnit unit) throws InterruptedException;

        static EngineLock of(Object lock) {
            if (lock instanceof ReentrantLock l) {
                return new EngineLock() {
                    public boolean isHeldByCurrentThread() {
                        return l.isHeldByCurrentThread();
                    }

                    public void unlock() {
                        l.unlock();
                    }

                    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
                        return l.tryLock(time, unit);
                    }
                };
            }
            PoolLock p = (PoolLock) lock;
            return new EngineLock() {
                public boolean isHeldByCurrentThread() {
                    return p.isHeldByCurrentThread();
                }

                public void unlock() {
                    p.unlock();
                }

                public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
                    long deadline = System.nanoTime() + unit.toNanos(time);
                    while (!p.tryLock()) { // a pool lock has no timed wait: poll it
                        if (System.nanoTime() - deadline >= 0) {
                            return false;
                        }
                        Thread.yield();
                    }
                    return true;
                }
            };
        }
    }

    /** The engine's locks a caller's thread takes: every pool's, the timer's, the queue's mutexes. */
    static Map<String, EngineLock> engineLocks(WorkQueues rt, WorkQueue q) {
        Map<String, EngineLock> m = new LinkedHashMap<>();
        Object engine = rt.engine();
        for (Object pool : (Object[]) field(engine, "allPools")) {
            m.put(String.valueOf(pool), EngineLock.of(field(pool, "lock")));
        }
        Object timer = field(engine, "timer");
        if (timer != null) {
            m.put("timer", EngineLock.of(field(timer, "lock")));
        }
        Object wq = q.engine();
        m.put(q.name() + " mutex", EngineLock.of(field(wq, "mutex")));
        m.put(q.name() + " flip mutex", EngineLock.of(field(field(wq, "flushColors"), "flipMutex")));
        return m;
    }

    /** A field of {@code o} or of one of its superclasses, read by reflection. */
    static Object field(Object o, String name) {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("no field " + name + " in " + o.getClass());
    }
}
