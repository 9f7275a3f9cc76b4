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

    WorkQueue.Builder queue(String name) {
        return rt.queueBuilder(name);
    }

    @Override
    public void close() {
        rt.close();
    }
}
