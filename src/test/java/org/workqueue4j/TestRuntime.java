package org.workqueue4j;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/** An isolated 2-CPU runtime for one test, recording its threads and uncaught work errors. */
final class TestRuntime implements AutoCloseable {
    final List<Thread> threads = new CopyOnWriteArrayList<>();
    final List<Throwable> errors = new CopyOnWriteArrayList<>();
    final List<String> errorWork = new CopyOnWriteArrayList<>();
    final WorkQueues rt;

    TestRuntime() {
        this(2);
    }

    TestRuntime(int cpus) {
        this(cpus, b -> { });
    }

    /** With extra settings; the thread factory and handler are this class's. */
    TestRuntime(int cpus, java.util.function.Consumer<WorkQueuesConfig.Builder> tweak) {
        this(cpus, tweak, Executors.defaultThreadFactory());
    }

    final List<String> reports = new CopyOnWriteArrayList<>();

    TestRuntime(int cpus, java.util.function.Consumer<WorkQueuesConfig.Builder> tweak, ThreadFactory base) {
        WorkQueuesConfig.Builder b = WorkQueuesConfig.builder();
        tweak.accept(b);
        rt = WorkQueues.create(b
                .reportListener(reports::add)
                .cpus(cpus)
                .threadFactory(r -> {
                    Thread t = base.newThread(r);
                    threads.add(t);
                    return t;
                })
                .uncaughtWorkHandler((q, w, e) -> {
                    errorWork.add(q.name() + "/" + (w == null ? "?" : w.name()));
                    errors.add(e);
                })
                .build());
    }

    /** Occupies an ordered queue's only slot until {@code release}, so later items stay pending. */
    static void blockOrdered(WorkQueue ordered, java.util.concurrent.CountDownLatch release) {
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        ordered.queue(new Work("gate", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        WorkQueueCoreTest.await(started);
    }

    /** Runs {@code action} on a new thread and returns once that thread is parked in it (or done). */
    static Thread startAndAwaitParked(String name, Runnable action) {
        Thread th = new Thread(action, name);
        th.start();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> th.getState() == Thread.State.WAITING
                        || th.getState() == Thread.State.TIMED_WAITING || th.getState() == Thread.State.TERMINATED);
        return th;
    }

    /**
     * Runs {@code action} on a new thread and returns once that thread has passed one of the
     * engine's test-hook {@code points}, and so is inside the library wait a test means: for a
     * {@code Work.flush()} (or a cancel-and-wait) {@code flush.barrierLinked}, once its barrier is
     * linked behind the item; for a queue flush, drain or destroy {@code flush.waiting}, once the
     * flip covering it is made. A thread's state would not tell: a thread waiting a moment for a
     * pool lock on its way in is WAITING too. Installs the (global) hook until then: only for a
     * test that installs none. Fails if no point is passed within 30 s.
     */
    static Thread startAndAwaitAt(String name, Runnable action, String... points) {
        if (points.length == 0) {
            throw new IllegalArgumentException("no hook point to wait for");
        }
        java.util.Set<String> at = java.util.Set.of(points);
        java.util.concurrent.CountDownLatch passed = new java.util.concurrent.CountDownLatch(1);
        Thread th = new Thread(action, name);
        org.workqueue4j.internal.TestHooks.install((point, subject) -> {
            if (Thread.currentThread() == th && at.contains(point)) {
                passed.countDown();
            }
        });
        try {
            th.start();
            if (!passed.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new AssertionError(name + " passed none of " + at + " within 30 s (state " + th.getState() + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            org.workqueue4j.internal.TestHooks.install(null);
        }
        return th;
    }

    WorkQueue.Builder queue(String name) {
        return rt.queueBuilder(name);
    }

    @Override
    public void close() {
        rt.close();
    }
}
