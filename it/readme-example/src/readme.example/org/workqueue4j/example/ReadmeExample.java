package org.workqueue4j.example;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.workqueue4j.DelayedWork;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;

/** The README's "Twenty lines" with a stub cache and journal; prints what ran and exits 0 or 1. */
public final class ReadmeExample {
    private ReadmeExample() {
    }

    /**
     * Runs the example.
     *
     * @param args unused
     */
    public static void main(String[] args) {
        AtomicInteger reloads = new AtomicInteger();
        AtomicInteger expired = new AtomicInteger();
        List<Integer> journal = new CopyOnWriteArrayList<>();
        List<Integer> burst = List.of(1, 2, 3, 4, 5);
        try (WorkQueues rt = WorkQueues.create();
             WorkQueue q = rt.queueBuilder("cache-refresh").build()) {
            Work refresh = new Work("refresh", reloads::incrementAndGet);

            for (Integer e : burst) {
                q.queue(refresh);
            }
            q.flush();

            DelayedWork expire = new DelayedWork("expire", expired::incrementAndGet);
            q.queueDelayed(expire, Duration.ofSeconds(30));
            q.modDelayed(expire, Duration.ofSeconds(5));
            expire.cancelSync();

            WorkQueue log = rt.queueBuilder("journal").ordered().build();
            log.queue(new Work("append-1", () -> journal.add(1)));
            log.queue(new Work("append-2", () -> journal.add(2)));
            log.drain();
        }
        boolean ok = reloads.get() >= 1 && reloads.get() <= burst.size() && expired.get() == 0
                && journal.equals(List.of(1, 2));
        System.out.println((ok ? "OK" : "FAILED") + ": reloads=" + reloads + " expired=" + expired + " journal=" + journal
                + " jdk.jfr present=" + ModuleLayer.boot().findModule("jdk.jfr").isPresent());
        System.exit(ok ? 0 : 1);
    }
}
