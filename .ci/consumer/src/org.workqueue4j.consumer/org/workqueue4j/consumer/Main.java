package org.workqueue4j.consumer;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.workqueue4j.DelayedWork;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * What a user's first program does with the jar: a runtime, a queue, a work item queued and
 * flushed, a delayed item, a validated lock. Exits non-zero on any surprise, and says on which
 * path (module or class) the library was loaded, so the script can check it is the one asked for.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        String expected = args.length > 0 ? args[0] : "";
        Module lib = WorkQueue.class.getModule();
        String path = lib.isNamed() ? "module path (" + lib.getName() + ")" : "class path";
        if (expected.equals("module") != lib.isNamed()) {
            throw new AssertionError("library loaded from the " + path + ", expected the " + expected + " path");
        }
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch delayed = new CountDownLatch(1);
        try (WorkQueues rt = WorkQueues.create();
             WorkQueue q = rt.queueBuilder("consumer").build()) {
            Work w = new Work("consumer-work", runs::incrementAndGet);
            q.queue(w);
            q.flush();
            DelayedWork d = new DelayedWork("consumer-delayed", delayed::countDown);
            q.queueDelayed(d, Duration.ofMillis(1));
            if (!delayed.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("delayed work did not run within 30 s");
            }
            ValidatedLock lock = new ValidatedLock("consumer_lock", new LockClassKey("consumer_lock"), rt.validator());
            lock.lock();
            lock.unlock();
        }
        if (runs.get() != 1) {
            throw new AssertionError("work ran " + runs.get() + " times, expected once");
        }
        System.out.println("consumer: ok on the " + path);
    }
}
