package org.workqueue4j.jmh;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The j.u.c way to flush a fixed pool the way {@code queue.flush()} flushes a workqueue, without
 * knowing how many tasks were submitted: one barrier task per worker thread. Each barrier task
 * arrives and then holds its worker until every barrier task has arrived; the caller returns when
 * the last one arrived. A worker that takes a barrier task has finished the task it ran before,
 * and while it is held it takes nothing else, so the {@code workers} barriers run on
 * {@code workers} distinct threads, each of which has finished everything it took earlier.
 *
 * <p><b>Why that covers every earlier task, per executor:</b>
 * <ul>
 *   <li>{@link ThreadPoolExecutor} on a {@code LinkedBlockingQueue}: one FIFO queue, so every
 *       task submitted before the barriers is taken before them, by one of the (prestarted,
 *       fixed) core threads; each of those threads has finished it when it takes a barrier.</li>
 *   <li>{@link ForkJoinPool}: two traps. (1) A pool only learns that a task blocks through
 *       {@code ForkJoinPool.managedBlock}, and then compensates: it wakes an idle worker or
 *       starts a spare thread. A barrier that parks without it (a plain latch await) can hang
 *       the pool for good (seen with JDK 17: the worker that took the first barrier was not
 *       told to wake the other one, because it had been polling the same submission queue, and
 *       nothing polls the second barrier); a barrier that parks with it lets a spare thread take
 *       the second barrier while an original worker still runs an earlier task, so the flush
 *       returns early. Hence {@link #forkJoinPool} builds the pool with
 *       {@code maximumPoolSize} = parallelism and a {@code saturate} predicate that accepts: a
 *       blocked barrier makes the pool wake an idle worker, never start a spare, so exactly
 *       {@code workers} threads exist and the barriers hold all of them. (2) External
 *       submissions go to shared submission queues chosen by the submitter's thread probe,
 *       and workers poll each FIFO, but nothing guarantees that every earlier task is in the
 *       queue the barriers went to (the probe moves when a queue's lock is contended), so
 *       "every barrier is running" alone does not prove that every earlier task was taken.
 *       Hence the last barrier to arrive, while every worker is held (nothing can be taken),
 *       checks {@link ForkJoinPool#hasQueuedSubmissions()}: if a task is still queued the round
 *       is released and the flush repeats with a new round of barriers. A task that is not
 *       queued any more was taken by one of the held workers, which finished it. (A repeat
 *       also happens when another thread submits meanwhile; this benchmark has one
 *       submitter.)</li>
 * </ul>
 *
 * <p>Thread-safety: one flushing thread at a time (each benchmark has one submitter).
 */
final class BarrierFlush {
    private final ExecutorService executor;
    private final int workers;
    /** The pool to check for still-queued submissions (see above), or null for a FIFO executor. */
    private final ForkJoinPool recheck;
    /** The current round; written before its barriers are submitted (happens-before their run). */
    private Round round;
    private final Runnable barrier = () -> round.arrive();
    /** Rounds repeated because a task was still queued (FJP); reported in teardown checks. */
    long repeats;

    private final class Round implements ForkJoinPool.ManagedBlocker {
        final AtomicInteger arrived = new AtomicInteger();
        final CountDownLatch released = new CountDownLatch(1);
        /** Written by the last arriver before {@code released} opens; read by the flusher after. */
        boolean clean;

        void arrive() {
            if (arrived.incrementAndGet() == workers) {
                clean = recheck == null || !recheck.hasQueuedSubmissions(); // every worker is held here
                released.countDown();
                return;
            }
            boolean interrupted = false;
            for (;;) {
                try {
                    ForkJoinPool.managedBlock(this); // in a pool: it knows, and wakes an idle worker
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public boolean block() throws InterruptedException {
            released.await();
            return true;
        }

        @Override
        public boolean isReleasable() {
            return released.getCount() == 0;
        }
    }

    private BarrierFlush(ExecutorService executor, int workers, ForkJoinPool recheck) {
        this.executor = executor;
        this.workers = workers;
        this.recheck = recheck;
    }

    /** For a {@code ThreadPoolExecutor} with {@code workers} prestarted core threads and a FIFO queue. */
    static BarrierFlush of(ThreadPoolExecutor tpe, int workers) {
        return new BarrierFlush(tpe, workers, null);
    }

    /**
     * For a pool made by {@link #forkJoinPool}({@code workers}), submitted to from outside.
     */
    static BarrierFlush of(ForkJoinPool fjp, int workers) {
        return new BarrierFlush(fjp, workers, fjp);
    }

    /**
     * A {@code ForkJoinPool} of parallelism {@code workers} that never has more threads (see the
     * class javadoc, trap 1): otherwise as {@code new ForkJoinPool(workers)}.
     */
    static ForkJoinPool forkJoinPool(int workers) {
        return new ForkJoinPool(workers, ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, false,
                workers, workers, 1, pool -> true, 60, TimeUnit.SECONDS);
    }

    /** Returns when every task submitted before the call (by this thread) has finished. */
    void flush() throws InterruptedException {
        for (;;) {
            Round r = new Round();
            round = r; // then the submissions: the executor's queue hand-off publishes it
            for (int i = 0; i < workers; i++) {
                executor.execute(barrier);
            }
            r.released.await();
            if (r.clean) {
                return;
            }
            repeats++;
        }
    }
}
