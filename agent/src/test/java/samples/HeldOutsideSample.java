package samples;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.lockdep.PotentialDeadlockException;
import samples.outside.Outside;

/**
 * A lock the thread already holds, taken where the agent does not look (a JDK class, or one
 * excluded from instrumentation), entered again by instrumented code: a re-entry, which cannot
 * wait, so it closes no cycle. Each case first shows the order outer -&gt; other, then, with the
 * outer lock held from outside, takes other and re-enters outer. Prints one verdict per case.
 */
public final class HeldOutsideSample {
    static final class Other {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Other afterLock = new Other();

    public static void main(String[] args) {
        List<Integer> list = Collections.synchronizedList(new ArrayList<>(List.of(1)));
        Other other = new Other();
        verdict("jdk-monitor", () -> {
            synchronized (list) {
                synchronized (other) {
                    other.hashCode();
                }
            }
            list.forEach(x -> { // Collections.synchronizedList: forEach holds the list's monitor
                synchronized (other) {
                    synchronized (list) {
                        list.size();
                    }
                }
            });
        });
        Object box = new Object();
        Other other2 = new Other();
        verdict("excluded-monitor", () -> {
            synchronized (box) {
                synchronized (other2) {
                    other2.hashCode();
                }
            }
            Outside.withMonitor(box, () -> {
                synchronized (other2) {
                    synchronized (box) {
                        box.hashCode();
                    }
                }
            });
        });
        HeldOutsideSample s = new HeldOutsideSample();
        verdict("excluded-lock", () -> {
            s.lock.lock();
            try {
                synchronized (s.afterLock) {
                    s.afterLock.hashCode();
                }
            } finally {
                s.lock.unlock();
            }
            Outside.withLock(s.lock, () -> {
                synchronized (s.afterLock) {
                    s.lock.lock();
                    s.lock.unlock();
                }
            });
        });
    }

    private static void verdict(String what, Runnable r) {
        try {
            r.run();
            System.out.println(what + ": ok");
        } catch (PotentialDeadlockException e) {
            System.out.println(what + ": refused " + e.report().summary());
        }
    }
}
