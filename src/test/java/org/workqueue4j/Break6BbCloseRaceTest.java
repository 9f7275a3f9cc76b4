package org.workqueue4j;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class Break6BbCloseRaceTest {

    @Test
    void closeRacingQueueingOperations() throws Exception {
        for (int round = 0; round < 30; round++) {
            oneRound(round);
        }
    }

    private void oneRound(int round) throws Exception {
        Map<String, AtomicInteger> reports = new ConcurrentHashMap<>();
        List<Thread> made = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).closeTimeout(Duration.ofSeconds(10))
                .threadFactory(r -> { Thread t = new Thread(r); made.add(t); return t; })
                .uncaughtWorkHandler((q, w, e) -> reports.computeIfAbsent(w == null ? "?" : w.name(), k -> new AtomicInteger()).incrementAndGet())
                .build());
        WorkQueue pc = rt.queueBuilder("pc").build();
        WorkQueue ub = rt.queueBuilder("ub").unbound().build();
        WorkQueue ord = rt.queueBuilder("ord").ordered().build();
        WorkQueue frz = rt.queueBuilder("frz").freezable().build();
        WorkQueue[] qs = {pc, ub, ord, frz};
        int producers = 3;
        List<String> violations = new CopyOnWriteArrayList<>();
        Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        Map<String, Integer> expectRun = new ConcurrentHashMap<>();
        Map<String, Integer> expectReport = new ConcurrentHashMap<>();
        List<Work> all = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ths = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int pp = p;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 400; i++) {
                    String name = "p" + pp + "-" + i;
                    WorkQueue q = qs[i % qs.length];
                    int kind = (i / qs.length) % 5;
                    AtomicInteger r = new AtomicInteger();
                    runs.put(name, r);
                    try {
                        if (kind == 0) {
                            Work w = new Work(name, r::incrementAndGet);
                            all.add(w);
                            if (q.queue(w)) expectRun.put(name, 1);
                        } else if (kind == 1) {
                            DelayedWork d = new DelayedWork(name, r::incrementAndGet);
                            all.add(d);
                            if (q.queueDelayed(d, Duration.ofHours(1))) expectReport.put(name, 1);
                        } else if (kind == 2) {
                            DelayedWork d = new DelayedWork(name, r::incrementAndGet);
                            all.add(d);
                            if (q.queueDelayed(d, Duration.ZERO)) expectRun.put(name, 1);
                        } else if (kind == 3) {
                            DelayedWork d = new DelayedWork(name, r::incrementAndGet);
                            all.add(d);
                            q.modDelayed(d, Duration.ofHours(2));
                            expectReport.put(name, 1);
                        } else {
                            DelayedWork d = new DelayedWork(name, r::incrementAndGet);
                            all.add(d);
                            q.modDelayed(d, Duration.ZERO);
                            expectRun.put(name, 1);
                        }
                    } catch (IllegalStateException e) {
                        // refused: after close began; nothing accepted
                    } catch (Throwable e) {
                        violations.add(name + " threw " + e);
                    }
                }
            });
            ths.add(th);
            th.start();
        }
        Thread freezer = new Thread(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            for (int i = 0; i < 20; i++) {
                rt.freeze();
                rt.thaw();
            }
        });
        freezer.start();
        go.countDown();
        Thread.sleep(round % 5); // vary where close lands (not synchronisation)
        rt.close();
        for (Thread th : ths) th.join(30000);
        freezer.join(30000);
        for (Work w : all) {
            String n = w.name();
            int ran = runs.get(n).get();
            int rep = reports.getOrDefault(n, new AtomicInteger()).get();
            int er = expectRun.getOrDefault(n, 0), erp = expectReport.getOrDefault(n, 0);
            // an accepted delayed item armed for an hour is reported; an accepted immediate one runs
            if (ran + rep != er + erp) {
                violations.add(n + ": accepted(run " + er + ", report " + erp + ") but ran " + ran + " reported " + rep
                        + " pending=" + w.isPending());
            }
            if (w.isPending()) violations.add(n + " pending after close");
        }
        for (Thread t : made) {
            if (t.isAlive()) violations.add("alive after close: " + t.getName() + " " + t.getState());
        }
        assertEquals(List.of(), violations.subList(0, Math.min(10, violations.size())), "round " + round);
    }
}
