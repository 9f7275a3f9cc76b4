package org.workqueue4j.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The future of a queue's {@code flushAsync()}: a thread that blocks on it ({@code get},
 * {@code join}) waits for the queue's items as a {@code flush()} does, so that wait is first
 * recorded for the validator as the flush records its own (WorkqueueStruct.annotateAsyncGet):
 * under THROW a predicted deadlock is refused before the thread blocks. Not recorded: a wait from
 * one of the queue's own items (see annotateAsyncGet), a timed get with no time to wait, and
 * waits on dependent futures ({@code thenRun}, …), which are plain ones.
 *
 * @param <T> the result type
 */
final class WaitRecordingFuture<T> extends CompletableFuture<T> {
    private final WorkqueueStruct wq;

    private WaitRecordingFuture(WorkqueueStruct wq) {
        this.wq = wq;
    }

    /**
     * {@return a new future for {@code wq}'s flushAsync()} Typed as its superclass so that
     * verifying a caller needs neither this class nor CompletableFuture loaded (a subclass passed
     * where CompletableFuture is expected makes the verifier load both, from the runtime image,
     * when FlushColors is linked on the first flush's path).
     */
    static CompletableFuture<Void> forQueue(WorkqueueStruct wq) {
        return new WaitRecordingFuture<>(wq);
    }

    private void recordWait() {
        if (!isDone()) {
            wq.annotateAsyncGet();
        }
    }

    @Override
    public T get() throws InterruptedException, ExecutionException {
        recordWait();
        return super.get();
    }

    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        if (timeout > 0) { // no time to wait: no wait to record
            recordWait();
        }
        return super.get(timeout, unit);
    }

    @Override
    public T join() {
        recordWait();
        return super.join();
    }

    /** Dependents are plain futures: only a wait on this one is a wait for the queue. */
    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CompletableFuture<>();
    }
}
