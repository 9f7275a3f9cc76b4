package org.workqueue4j;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.ValidatedLock;
import org.workqueue4j.lockdep.ValidatedReadWriteLock;

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
        // This class's own string concatenations (an invokedynamic, unlike the library's, which is
        // compiled inline) link the JDK's StringConcatFactory on first use: here, at a normal
        // depth, not inside an operation at the end of a stack (on JDK 25 nothing links it earlier).
        String linked = "mode " + args.length;
        if (linked.isEmpty()) {
            throw new AssertionError(linked);
        }
        if (args.length > 0 && args[0].equals("lockdep")) {
            lockdep();
            return;
        }
        if (args.length > 0 && args[0].equals("lockdep-cycle")) {
            lockdepCycle();
            return;
        }
        if (args.length > 0 && args[0].equals("more")) {
            more();
            return;
        }
        if (args.length > 0 && args[0].equals("log")) {
            log();
            return;
        }
        if (args.length > 0 && args[0].equals("work")) {
            firstItem();
            return;
        }
        if (args.length > 0 && args[0].equals("contended")) {
            contended();
            return;
        }
        try (WorkQueues rt = WorkQueues.create()) {
            WorkQueue q = rt.queueBuilder("first-use").build();
            Work w = new Work("w", () -> { });
            DelayedWork d = new DelayedWork("d", () -> { });
            Runnable task = () -> { }; // made here: a lambda's first linkage at the end of a stack fails in the JDK
            java.util.concurrent.ExecutorService executor = q.asExecutorService();
            java.util.concurrent.ScheduledExecutorService scheduled = q.asScheduledExecutorService();
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
                    i -> rt.dump(),
                    i -> executor.execute(task),
                    i -> scheduled.schedule(task, 1, java.util.concurrent.TimeUnit.HOURS).cancel(false));
            runDeep(ops, unexpected);
            d.cancel();
            AtomicInteger ran = new AtomicInteger();
            Work after = new Work("after", ran::incrementAndGet);
            try {
                q.queue(after);
                q.flush();
            } catch (Throwable e) {
                unexpected.compareAndSet(null, e);
            }
            finish(unexpected, ran.get(), 1);
        }
    }

    /**
     * The validated locks' first uses at the end of a stack, on a validator built at a normal
     * depth: plain, nested, try, interruptible, read-write and condition waits, each with locks
     * of its own (an overflow delivered as lock() returns leaves that lock held by its ended
     * thread, as a plain ReentrantLock's would be); then locks of the same validator still work.
     */
    private static void lockdep() throws Exception {
        Lockdep v = Lockdep.builder().build();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        List<IntConsumer> ops = new java.util.ArrayList<>();
        for (int op = 0; op < 5; op++) {
            ValidatedLock a = new ValidatedLock("a" + op, new LockClassKey("a" + op), v);
            ValidatedLock b = new ValidatedLock("b" + op, new LockClassKey("b" + op), v);
            ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw" + op, new LockClassKey("rw" + op), v).build();
            java.util.concurrent.locks.Condition c = a.newCondition();
            ops.add(List.<IntConsumer>of(
                    i -> {
                        a.lock();
                        try {
                            b.lock();
                            b.unlock();
                        } finally {
                            a.unlock();
                        }
                    },
                    i -> {
                        if (b.tryLock()) {
                            b.unlock();
                        }
                    },
                    i -> {
                        try {
                            a.lockInterruptibly();
                            a.unlock();
                        } catch (InterruptedException e) {
                            unexpected.compareAndSet(null, e);
                        }
                    },
                    i -> {
                        rw.readLock().lock();
                        rw.readLock().unlock();
                        rw.writeLock().lock();
                        rw.writeLock().unlock();
                    },
                    i -> {
                        a.lock();
                        try {
                            c.await(0, java.util.concurrent.TimeUnit.NANOSECONDS);
                        } catch (InterruptedException e) {
                            unexpected.compareAndSet(null, e);
                        } finally {
                            a.unlock();
                        }
                    }).get(op));
        }
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().validator(v).build())) {
            WorkQueue q = rt.queueBuilder("validated").build();
            Work w = new Work("w", () -> { });
            ops.add(i -> { // an item's first validated flush makes its lock map (its function's class key)
                q.queue(w);
                w.flush();
            });
            runDeep(ops, unexpected);
        }
        ValidatedLock a = new ValidatedLock("after-a", new LockClassKey("after-a"), v);
        ValidatedLock b = new ValidatedLock("after-b", new LockClassKey("after-b"), v);
        try {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
        } catch (Throwable e) {
            unexpected.compareAndSet(null, e);
        }
        finish(unexpected, 1, 1);
    }

    /**
     * A cycle met first at the end of a stack: with a -> b learnt, b -> a is taken at every depth
     * on a fresh thread; the validator (WARN_ONCE) must have reported it once, and its graph lock
     * must be free.
     */
    private static void lockdepCycle() throws Exception {
        Lockdep v = Lockdep.builder().build();
        ValidatedLock a = new ValidatedLock("a", new LockClassKey("a"), v);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("b"), v);
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        runDeep(List.of(i -> {
            b.lock();
            try {
                a.lock();
                a.unlock();
            } finally {
                b.unlock();
            }
        }), unexpected);
        java.lang.reflect.Field f = Lockdep.class.getDeclaredField("graphLock");
        f.setAccessible(true);
        java.util.concurrent.locks.ReentrantLock graphLock = (java.util.concurrent.locks.ReentrantLock) f.get(v);
        boolean free = graphLock.tryLock(5, java.util.concurrent.TimeUnit.SECONDS);
        if (!free) {
            unexpected.compareAndSet(null, new AssertionError("the validator's graph lock was left held"));
        }
        finish(unexpected, v.reports().size(), 1);
    }

    /**
     * The operations the main mode leaves out (disable/enable, timed and async waits, queueOn,
     * setMaxActive, freeze/thaw, destroy, the executor views' submit, cancel and shutdown), each
     * first used at the end of a stack; then the library still works.
     */
    private static void more() throws Exception {
        try (WorkQueues rt = WorkQueues.create()) {
            WorkQueue q = rt.queueBuilder("first-use-more").freezable().build();
            Work w = new Work("w", () -> { });
            DelayedWork d = new DelayedWork("d", () -> { });
            java.util.concurrent.ExecutorService ex = q.asExecutorService();
            java.util.concurrent.ScheduledExecutorService sx = q.asScheduledExecutorService();
            java.util.concurrent.ExecutorService owning = rt.queueBuilder("owned").buildExecutorService();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            Runnable nothing = () -> { }; // linked here: a lambda's first linkage at the end of a stack is the JDK's to fail
            nothing.run();
            List<IntConsumer> ops = List.of(
                    i -> q.queueOn(0, w),
                    i -> disableEnable(w, false),
                    i -> disableEnable(w, true),
                    i -> w.flushAsync(),
                    i -> flushTimed(w),
                    i -> cancelTimed(w),
                    i -> drainTimed(q),
                    i -> q.setMaxActive(4),
                    i -> rt.freeze(),
                    i -> rt.thaw(),
                    i -> ex.submit(nothing).cancel(true),
                    i -> sx.schedule(nothing, 1, java.util.concurrent.TimeUnit.HOURS).cancel(false),
                    i -> owning.submit(nothing),
                    i -> rt.queueBuilder("made-" + i).build().destroy());
            String only = System.getProperty("firstuse.only");
            runDeep(only == null ? ops : List.of(ops.get(Integer.parseInt(only))), unexpected);
            rt.thaw();
            for (Work u; (u = undo.poll()) != null; ) {
                u.enable();
            }
            AtomicInteger ran = new AtomicInteger();
            try {
                ex.submit(ran::incrementAndGet).get();
                sx.schedule(ran::incrementAndGet, 1, java.util.concurrent.TimeUnit.MILLISECONDS).get();
                owning.submit(ran::incrementAndGet).get();
                Work after = new Work("after", ran::incrementAndGet);
                q.queue(after);
                q.flush();
                owning.shutdown();
                if (!owning.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new AssertionError("the owning view did not terminate");
                }
            } catch (Throwable e) {
                unexpected.compareAndSet(null, e);
            }
            finish(unexpected, ran.get(), 4);
        }
    }

    /**
     * The library's first log record of the JVM written at the end of a stack: a destroy that
     * reports an armed item to the default uncaught-work handler, which logs it, at every depth
     * (nothing of the library has logged before). Then the logger still works: a record made at
     * a normal depth reaches it, not System.err as "logging failed" (records the logger could
     * not take during the sweep may have gone there: not lost, and not looked at).
     */
    private static void log() throws Exception {
        java.io.ByteArrayOutputStream errBytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream err = System.err;
        System.setErr(new java.io.PrintStream(errBytes, true, "UTF-8"));
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        try (WorkQueues rt = WorkQueues.create()) {
            runDeep(List.of(i -> {
                WorkQueue q = rt.queueBuilder("logs-" + i).build();
                q.queueDelayed(new DelayedWork("armed-" + i, () -> { }), Duration.ofHours(1));
                q.destroy(); // reports the armed item: the default handler logs it
            }), unexpected);
            // A record the logger could not take during the sweep went to System.err (not lost);
            // what matters is that logging works from here on.
            errBytes.reset();
            try {
                org.workqueue4j.internal.Log.get(); // poisoned, it throws NoClassDefFoundError
                WorkQueue q = rt.queueBuilder("logs-after").build();
                q.queueDelayed(new DelayedWork("armed-after", () -> { }), Duration.ofHours(1));
                q.destroy();
            } catch (Throwable e) {
                unexpected.compareAndSet(null, e);
            }
        } finally {
            System.setErr(err);
        }
        String written = errBytes.toString("UTF-8");
        if (written.contains("logging failed")) {
            unexpected.compareAndSet(null, new AssertionError("a record went to System.err: "
                    + written.substring(written.indexOf("logging failed"), Math.min(written.length(), written.indexOf("logging failed") + 300))));
        }
        finish(unexpected, 1, 1);
    }

    /** Disables (or disableSync) and enables again; an overflow between them leaves it disabled, undone here. */
    private static void disableEnable(Work w, boolean sync) {
        boolean disabled = false;
        try {
            if (sync) {
                w.disableSync();
            } else {
                w.disable();
            }
            disabled = true;
            w.enable();
            disabled = false;
        } finally {
            if (disabled) {
                undo.add(w);
            }
        }
    }

    /** Items an overflow left disabled between the two calls (enabled again on a normal stack). */
    private static final java.util.concurrent.ConcurrentLinkedQueue<Work> undo = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private static void flushTimed(Work w) {
        try {
            w.flush(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void cancelTimed(Work w) {
        try {
            w.cancelSync(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void drainTimed(WorkQueue q) {
        try {
            q.drain(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs each of {@code ops} at every depth of a fresh thread's stack, in turn. */
    /**
     * The JVM's first {@code new Work} and {@code new DelayedWork} made at the end of a stack,
     * before any runtime exists (an item held in a static field, made by a deep caller); then
     * items made at a normal depth run on a runtime built afterwards.
     */
    private static void firstItem() throws Exception {
        Runnable body = () -> { }; // linked here: a lambda's first linkage at the end of a stack fails in the JDK
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        runDeep(List.of(
                i -> new Work("deep", body).isPending(),
                i -> new DelayedWork("deep-d", body).isTimerArmed()), unexpected);
        AtomicInteger ran = new AtomicInteger();
        try (WorkQueues rt = WorkQueues.create()) {
            WorkQueue q = rt.queueBuilder("after").build();
            q.queue(new Work("after", ran::incrementAndGet));
            q.queueDelayed(new DelayedWork("after-d", ran::incrementAndGet), Duration.ZERO);
            q.flush();
        } catch (Throwable e) {
            unexpected.compareAndSet(null, e);
        }
        finish(unexpected, ran.get(), 2);
    }

    /**
     * The JVM's first contended acquisition of a {@code java.util.concurrent} lock, at the end of
     * a stack, after a runtime is built: the engine's locks are the JDK's, and a caller's
     * {@code queue()} that meets a worker holding its pool lock enqueues a node of the JDK's
     * AbstractQueuedSynchronizer, whose classes the first such wait initializes. A lock held by
     * another thread stands in for the busy pool lock, which a test cannot hold at will; the
     * timed tryLock waits in the same queue as a contended lock().
     */
    private static void contended() throws Exception {
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        java.util.concurrent.locks.ReentrantLock busy = new java.util.concurrent.locks.ReentrantLock();
        // Spun on, not a latch: a latch's wait would itself initialize the JDK's node classes.
        java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        Thread holder = new Thread(() -> {
            busy.lock();
            try {
                held.set(true);
                while (!done.get()) {
                    Thread.onSpinWait();
                }
            } finally {
                busy.unlock();
            }
        }, "holder");
        AtomicInteger ran = new AtomicInteger();
        try (WorkQueues rt = WorkQueues.create()) {
            WorkQueue q = rt.queueBuilder("contended").build();
            holder.start();
            while (!held.get()) {
                Thread.onSpinWait();
            }
            runDeep(List.of(i -> {
                try {
                    if (busy.tryLock(1, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                        busy.unlock();
                        unexpected.compareAndSet(null, new AssertionError("the busy lock was free"));
                    }
                } catch (InterruptedException e) {
                    unexpected.compareAndSet(null, e);
                }
            }), unexpected);
            try {
                // At a normal depth: a contended wait of the JDK's locks still works (an engine
                // lock's would throw NoClassDefFoundError if the overflow had marked the JDK's
                // node classes failed), and so does the queue.
                if (busy.tryLock(1, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    unexpected.compareAndSet(null, new AssertionError("the busy lock was free"));
                }
                q.queue(new Work("after", ran::incrementAndGet));
                q.flush();
            } catch (Throwable e) {
                unexpected.compareAndSet(null, e);
            }
        } finally {
            done.set(true);
            holder.join();
        }
        finish(unexpected, ran.get(), 1);
    }

    private static void runDeep(List<IntConsumer> ops, AtomicReference<Throwable> unexpected) throws InterruptedException {
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
    }

    /** Prints {@link #OK}, or what failed and exits 1. */
    private static void finish(AtomicReference<Throwable> unexpected, int ran, int expected) {
        if (unexpected.get() != null || ran != expected) {
            System.out.println("FAILED: ran " + ran + " of " + expected + ", first unexpected throwable: " + unexpected.get());
            if (unexpected.get() != null) {
                unexpected.get().printStackTrace(System.out);
            }
            System.exit(1);
        }
        System.out.println(OK);
    }
}
