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
        ThreadFactory base = Executors.defaultThreadFactory();
        rt = WorkQueues.create(WorkQueuesConfig.builder()
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

    WorkQueue.Builder queue(String name) {
        return rt.queueBuilder(name);
    }

    @Override
    public void close() {
        rt.close();
    }
}
