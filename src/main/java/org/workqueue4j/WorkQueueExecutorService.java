package org.workqueue4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * {@link java.util.concurrent.ExecutorService} over a {@link WorkQueue}: each task is a one-shot
 * {@link Work}. {@code shutdown} refuses new tasks; once the last task finished the queue is
 * destroyed (unless it is a system queue) and the service is terminated. {@code shutdownNow}
 * cancels the pending items (returning their tasks) and interrupts the running ones.
 * {@code Future.cancel} cancels the item too, so a cancelled task never occupies the queue.
 */
final class WorkQueueExecutorService extends AbstractExecutorService {
    private final WorkQueue queue;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition terminatedCond = lock.newCondition();
    /** Tasks accepted and not yet finished or cancelled; guarded by lock. */
    private final Set<TaskWork> live = ConcurrentHashMap.newKeySet();
    private boolean shutdown;
    private boolean terminated;
    /** shutdownNow was called; volatile: execute rechecks it after queueing, lock-free. */
    private volatile boolean stopping;

    WorkQueueExecutorService(WorkQueue queue) {
        this.queue = queue;
    }

    /**
     * The one-shot item of one task; tracks the thread running it for shutdownNow. {@code runner}
     * is set and cleared, and interrupted, under the item's monitor: an interrupt is thus either
     * delivered while the task runs (and cleared before the worker moves on) or not at all, never
     * to the next item the worker runs.
     */
    private final class TaskWork extends Work {
        final Runnable task;
        private @Nullable Thread runner; // guarded by this

        TaskWork(Runnable task) {
            super(String.valueOf(task), task);
            this.task = task;
        }

        @Override
        protected void execute() {
            synchronized (this) {
                runner = Thread.currentThread();
            }
            try {
                super.execute();
            } finally {
                synchronized (this) {
                    runner = null;
                }
                Thread.interrupted(); // an interrupt aimed at this task must not leak to the next item
                finished(this);
            }
        }

        synchronized void interruptIfRunning() {
            if (runner != null) {
                runner.interrupt();
            }
        }
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
        return new CancellableTask<>(Executors2.callable(runnable, value));
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
        return new CancellableTask<>(callable);
    }

    /** A FutureTask whose cancel also takes its item off the queue. */
    private final class CancellableTask<T> extends FutureTask<T> {
        volatile @Nullable TaskWork work;

        CancellableTask(Callable<T> c) {
            super(c);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean r = super.cancel(mayInterruptIfRunning);
            TaskWork w = work;
            if (r && w != null && w.cancel()) {
                finished(w);
            }
            return r;
        }
    }

    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        TaskWork w = new TaskWork(command);
        if (command instanceof CancellableTask<?> ct) {
            ct.work = w;
        }
        lock.lock();
        try {
            if (shutdown) {
                throw new RejectedExecutionException("executor of queue '" + queue.name() + "' is shut down");
            }
            live.add(w);
        } finally {
            lock.unlock();
        }
        try {
            queue.queue(w);
        } catch (IllegalStateException e) {
            finished(w);
            throw new RejectedExecutionException(e.getMessage(), e);
        }
        // A shutdownNow that ran between the check above and the queue missed this item (it was
        // not pending yet): take it back, as ThreadPoolExecutor's recheck does.
        if (stopping && w.cancel()) {
            finished(w);
            throw new RejectedExecutionException("executor of queue '" + queue.name() + "' is shut down");
        }
    }

    private void finished(TaskWork w) {
        lock.lock();
        try {
            if (live.remove(w) && shutdown && live.isEmpty()) {
                terminate();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Lock held. The queue is destroyed from a system queue's worker: never from its own item. */
    private void terminate() {
        if (terminated) {
            return;
        }
        if (!queue.isSystem() && !queue.isDestroyed()) {
            WorkQueue sys = queue.runtime().systemUnbound();
            if (sys != queue && !queue.runtime().isClosing()) {
                try {
                    sys.queue(new Work("destroy/" + queue.name(), () -> {
                        queue.destroy();
                        markTerminated();
                    }));
                    return;
                } catch (IllegalStateException closing) {
                    // runtime closing: it destroys the queue itself
                }
            }
        }
        markTerminated();
    }

    private void markTerminated() {
        lock.lock();
        try {
            terminated = true;
            terminatedCond.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void shutdown() {
        lock.lock();
        try {
            if (shutdown) {
                return;
            }
            shutdown = true;
            if (live.isEmpty()) {
                terminate();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Runnable> shutdownNow() {
        stopping = true;
        shutdown();
        List<Runnable> never = new ArrayList<>();
        for (TaskWork w : live) {
            if (w.cancel()) {
                never.add(w.task);
                finished(w);
            } else {
                w.interruptIfRunning();
            }
        }
        return never;
    }

    @Override
    public boolean isShutdown() {
        lock.lock();
        try {
            return shutdown;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isTerminated() {
        lock.lock();
        try {
            return terminated;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            while (!terminated) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = terminatedCond.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Executors.callable without the import clash. */
    private static final class Executors2 {
        static <T> Callable<T> callable(Runnable r, T v) {
            return java.util.concurrent.Executors.callable(r, v);
        }
    }
}
