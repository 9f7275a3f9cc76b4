package org.workqueue4j;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.workqueue4j.internal.ManualWorkers;
import org.workqueue4j.internal.WorkqueueStruct;
import org.workqueue4j.lockdep.LockDependencyValidator;

/**
 * The system under test of the model-checking tests: a fresh one-CPU runtime whose threads never
 * start ({@link ManualWorkers}), one unbound freezable queue with max_active
 * {@link QueueModelCheckTest#INITIAL_MAX_ACTIVE}, two plain items (0, 1) and one delayed item (2).
 * Items run only in {@link #runOne()}, on the calling thread, through the engine's worker code;
 * the delayed item's deadline passes only in {@link #expire()} (a virtual clock).
 *
 * <p>A queue that returns false waits, before it returns, until the pending instance it collapsed
 * into has landed ({@link ManualWorkers#awaitLanded}): a queue claims PENDING before it inserts,
 * so a concurrent queue can return false ("already pending") for an instance not yet on any list
 * or timer, whose insert may then come after later items (the kernel's behaviour too: the order
 * of items is their inserts'). An expiry that finds the timer not armed waits the same way (another
 * expiry may have just taken it off the timer). The model's queue is atomic; with the wait, the checker compares
 * the engine with it at the insert, the point where the instance becomes runnable.
 *
 * <p>Every operation returns without blocking, so that any interleaving the checker picks can
 * finish: {@link #flush()} is the real queue flush, started with the interrupt status set, so it
 * completes where it has nothing left to wait for and gives up where it would wait (the flush
 * then stays recorded, and the next one waits for it first, as documented); a completed flush
 * checks its contract itself.
 */
final class ModelCheckedQueue {
    /**
     * The library's warnings (setMaxActive clamping, for one) stay unformatted: the model checker
     * would otherwise explore the JDK's logging and time-zone initialisation. Held here so the
     * level setting is not collected; the model-check classes restore it when done
     * ({@link #restoreLogging()}), as later test classes in the JVM expect the library's warnings.
     */
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("org.workqueue4j");
    private static final java.util.logging.Level LEVEL_BEFORE = QUIET.getLevel();

    static {
        quietLogging();
        // The JVM's first flushAsync future is made behind a deep stack probe (WqRuntime.newFuture):
        // thousands of array reads the model checker would count as a livelock. Made here, once,
        // before any scenario; the scenarios' futures then cost one volatile read.
        org.workqueue4j.internal.WqRuntime.newFuture();
    }

    /** Raises the library's logger to SEVERE (see {@link #QUIET}). */
    static void quietLogging() {
        QUIET.setLevel(java.util.logging.Level.SEVERE);
    }

    /** Gives the library's logger back the level it had before {@link #quietLogging()}. */
    static void restoreLogging() {
        QUIET.setLevel(LEVEL_BEFORE);
    }

    final WorkQueues rt;
    final WorkQueue q;
    final WorkqueueStruct wq;
    final Work[] items = new Work[3];
    final DelayedWork delayed;
    /** Per item: successful queues and arms, runs, cancels that returned true. */
    final AtomicIntegerArray queued = new AtomicIntegerArray(3);
    final AtomicIntegerArray runs = new AtomicIntegerArray(3);
    final AtomicIntegerArray cancelled = new AtomicIntegerArray(3);
    /** cancel calls under way per item: one may have taken its instance back before it counts it. */
    final AtomicIntegerArray cancelsInProgress = new AtomicIntegerArray(3);
    /** The item the last runOne ran; written and read by the one thread that runs items. */
    private int lastRun;

    ModelCheckedQueue() {
        rt = WorkQueues.create(WorkQueuesConfig.builder()
                .cpus(1)
                .threadFactory(ManualWorkers.neverStartedThreads())
                .validator(LockDependencyValidator.disabled())
                .uncaughtWorkHandler((queue, work, e) -> {
                    throw new AssertionError("work '" + (work == null ? "?" : work.name()) + "' failed", e);
                })
                .build());
        q = rt.queueBuilder("mc").unbound().freezable().maxActive(QueueModelCheckTest.INITIAL_MAX_ACTIVE).build();
        wq = q.engine();
        // The timer thread starts with the first delayed item: start it here, before the checked
        // operations, as create() once did (a thread made inside an operation is the checker's to run).
        rt.engine().timer().start();
        for (int i = 0; i < 2; i++) {
            int id = i;
            items[i] = new Work("item" + i, () -> ran(id));
        }
        delayed = new DelayedWork("delayed", () -> ran(QueueModel.DELAYED));
        items[QueueModel.DELAYED] = delayed;
        // The pool creates its workers now, outside the explored operations: its first kick
        // creates one, and runOne's manager step a second (the model checker would otherwise
        // meet Thread.start on threads that never start). Then the counters start from zero.
        Work warmUp = new Work("warm-up", () -> { });
        q.queue(warmUp);
        if (!ManualWorkers.runOne(wq) || warmUp.isPending()) {
            throw new AssertionError("warm-up item did not run");
        }
    }

    private void ran(int id) {
        lastRun = id;
        runs.incrementAndGet(id);
    }

    boolean queue(int i) {
        boolean r = q.queue(items[i]);
        if (r) {
            queued.incrementAndGet(i);
        } else {
            ManualWorkers.awaitLanded(wq, items[i].node);
        }
        return r;
    }

    boolean cancel(int i) {
        cancelsInProgress.incrementAndGet(i);
        try {
            boolean r = items[i].cancel();
            if (r) {
                cancelled.incrementAndGet(i);
            }
            return r;
        } finally {
            cancelsInProgress.decrementAndGet(i);
        }
    }

    int runOne() {
        while (true) {
            lastRun = -1;
            if (!ManualWorkers.runOne(wq)) {
                return -1;
            }
            if (lastRun >= 0) {
                return lastRun;
            }
            // Only a flush barrier ran (its target was cancelled): invisible to the model, which has
            // no barriers (they never count toward max_active); the worker takes the next node.
        }
    }

    /** The first flush-contract violation seen where a work flush completed, or null. */
    private final java.util.concurrent.atomic.AtomicReference<String> flushWorkViolation =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * {@code Work.flushAsync()} of plain item {@code i}: links a barrier behind its pending (or
     * running) instance without blocking. Where the future completes (on the thread running the
     * barrier, or here) it checks the contract: every instance of the item queued before the
     * flush began has finished (run or cancelled). Returns whether there was something to wait
     * for, that is, the item was pending or running.
     */
    boolean flushWork(int i) {
        int before = queued.get(i);
        java.util.concurrent.CompletableFuture<Boolean> f = items[i].flushAsync();
        f.thenRun(() -> {
            int finished = cancelsInProgress.get(i) + cancelled.get(i) + runs.get(i);
            if (finished < before) {
                flushWorkViolation.compareAndSet(null, "work flush of item " + i + " completed with " + before
                        + " instances queued before it and only " + finished + " finished");
            }
        });
        return !f.isDone() || f.join();
    }

    void setMaxActive(int n) {
        q.setMaxActive(n);
    }

    void freeze() {
        ManualWorkers.freeze(wq);
    }

    void thaw() {
        ManualWorkers.thaw(wq);
    }

    /**
     * The queue flush, checked against its contract in this very interleaving: if it completes,
     * every plain item queued (queue returned) before it began has finished, by a run or a cancel
     * (cancels under way count: they can hide a violation, never invent one). Where it would
     * have waited it gives up at once (nothing to check). Throws AssertionError on a violation,
     * which the checker reports with the interleaving. Delayed item 2 is left out: an armed timer
     * is not queued work.
     */
    void flush() {
        int[] before = new int[2];
        for (int i = 0; i < 2; i++) {
            before[i] = queued.get(i);
        }
        Thread.currentThread().interrupt();
        try {
            q.flushInterruptibly();
        } catch (InterruptedException e) {
            return; // it would have waited
        } finally {
            Thread.interrupted(); // clear what the completed flush left set
        }
        for (int i = 0; i < 2; i++) {
            int inProgress = cancelsInProgress.get(i);
            int finished = inProgress + cancelled.get(i) + runs.get(i);
            if (finished < before[i]) {
                throw new AssertionError("flush returned with item " + i + " queued " + before[i]
                        + " times before it and only " + finished + " finished");
            }
        }
    }

    boolean queueDelayed() {
        boolean r = q.queueDelayed(delayed, Duration.ofHours(1));
        if (r) {
            queued.incrementAndGet(QueueModel.DELAYED);
        } else {
            ManualWorkers.awaitLanded(wq, delayed.node);
        }
        return r;
    }

    boolean modDelayed() {
        boolean was = q.modDelayed(delayed, Duration.ofHours(1));
        // A re-arm of a pending instance replaces it (one run for both); an idle item is newly armed.
        if (!was) {
            queued.incrementAndGet(QueueModel.DELAYED);
        }
        return was;
    }

    boolean expire() {
        while (true) {
            if (rt.engine().timer().fireNowShallow(delayed.node, true, -1)) { // an expiry: no deep probe, as on the timer thread
                return true;
            }
            // Not armed; or taken off the timer a moment ago by another expiry (inserting it now)
            // or by a modDelayed (arming it again): wait for it to land, and fire it if it landed
            // on the timer (DelayedWork.flush retries the same way).
            ManualWorkers.awaitLanded(wq, delayed.node);
            if (rt.engine().timer().armedQueue(delayed.node) == null) {
                return false;
            }
        }
    }

    /**
     * Every successful queue or arm ended in exactly one run or one cancel that returned true, or
     * is still pending.
     */
    void checkAccounting() {
        String v = flushWorkViolation.get();
        if (v != null) {
            throw new AssertionError(v);
        }
        for (int i = 0; i < 3; i++) {
            int pending = items[i].isPending() ? 1 : 0;
            if (queued.get(i) != runs.get(i) + cancelled.get(i) + pending) {
                throw new AssertionError("item " + i + ": queued " + queued.get(i) + " times, ran " + runs.get(i)
                        + ", cancelled " + cancelled.get(i) + ", pending " + pending);
            }
        }
    }
}
