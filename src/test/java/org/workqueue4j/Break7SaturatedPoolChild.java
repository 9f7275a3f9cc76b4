package org.workqueue4j;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * Child JVM of {@link Break7FlushHandOffSaturatedPoolTest}, run with the common pool's
 * parallelism set to 2 (so {@code CompletableFuture.defaultExecutor()} is the common pool, as on
 * any machine with 3 or more CPUs). Prints {@link #OK} or a line starting with {@code FAIL}.
 */
public final class Break7SaturatedPoolChild {
    static final String OK = "BREAK7-CHILD-OK";

    public static void main(String[] args) throws Exception {
        System.out.println("commonPoolParallelism=" + ForkJoinPool.getCommonPoolParallelism());
        // The application's own use of the common pool: two tasks in blocking calls (I/O, a latch).
        CountDownLatch poolBusy = new CountDownLatch(2);
        CountDownLatch poolRelease = new CountDownLatch(1);
        for (int i = 0; i < 2; i++) {
            ForkJoinPool.commonPool().execute(() -> {
                poolBusy.countDown();
                try {
                    poolRelease.await(40, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        if (!poolBusy.await(10, TimeUnit.SECONDS)) {
            System.out.println("FAIL setup: common pool tasks did not start");
            System.exit(2);
        }
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).build());
        try {
            WorkQueue q = rt.queueBuilder("q").build();
            CountDownLatch atFlip = new CountDownLatch(1);
            CountDownLatch goFlip = new CountDownLatch(1);
            org.workqueue4j.internal.TestHooks.install((point, subject) -> {
                if (point.equals("flush.flip") && Thread.currentThread().getName().equals("interruptible-flusher")) {
                    atFlip.countDown();
                    try {
                        goFlip.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            Thread b = new Thread(() -> {
                try {
                    q.flushInterruptibly();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "interruptible-flusher");
            CompletableFuture<Void> f;
            try {
                b.start();
                if (!atFlip.await(10, TimeUnit.SECONDS)) {
                    System.out.println("FAIL setup: the flusher did not reach the flip");
                    System.exit(2);
                }
                f = q.flushAsync(); // registered while B holds the flip mutex: B flips for it and finishes it
            } finally {
                org.workqueue4j.internal.TestHooks.install(null);
                goFlip.countDown();
            }
            b.join(10_000);
            q.flush(); // the queue is empty: every flush condition holds; this thread ends nothing more
            boolean done;
            try {
                f.get(5, TimeUnit.SECONDS);
                done = true;
            } catch (java.util.concurrent.TimeoutException e) {
                done = false;
            }
            poolRelease.countDown();
            if (!done) {
                System.out.println("FAIL: flushAsync() of an empty queue, its flush finished (flushInterruptibly()"
                        + " returned, flush() returned), not complete 5 s later: completion handed to the saturated"
                        + " common pool; completes after the pool frees: " + waitDone(f));
                System.exit(1);
            }
            System.out.println(OK);
        } finally {
            poolRelease.countDown();
            rt.close();
        }
        System.exit(0);
    }

    private static boolean waitDone(CompletableFuture<Void> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
