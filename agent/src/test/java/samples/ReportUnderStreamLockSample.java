package samples;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Two reports at once, one of them made by a thread that holds standard error's lock: a
 * {@code toString()} called by {@code System.err.printf} takes two monitors in the order that
 * closes a cycle, while another thread is writing its own report and waits for that lock. The
 * program never deadlocks without the agent; with it, the agent's report writer must not make
 * it deadlock (it used to hold a lock of its own while waiting for the stream's). Prints "done".
 */
public final class ReportUnderStreamLockSample {
    static final class A {
    }

    static final class B {
    }

    static final class C {
    }

    static final class D {
    }

    static final A a = new A();
    static final B b = new B();
    static final C c = new C();
    static final D d = new D();

    static void nest(Object outer, Object inner) {
        synchronized (outer) {
            synchronized (inner) {
                inner.hashCode();
            }
        }
    }

    public static void main(String[] args) throws Exception {
        nest(a, b);
        nest(c, d);
        CountDownLatch inToString = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            try {
                inToString.await();
            } catch (InterruptedException e) {
                return;
            }
            nest(d, c); // a report, written while main holds standard error's lock
        }, "other");
        other.start();
        Object formatted = new Object() {
            @Override
            public String toString() {
                inToString.countDown();
                // Give the other thread time to reach the stream (not needed for correctness:
                // the program ends either way; only the deadlock it checks needs that order).
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (other.isAlive() && other.getState() == Thread.State.RUNNABLE && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                nest(b, a); // a report, made holding standard error's lock
                return "formatted";
            }
        };
        System.err.printf("%s%n", formatted);
        other.join();
        System.out.println("done");
    }
}
