package samples;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Exceptions a program may rely on (logs, tests, error handling): a null lock, a wait on a null
 * monitor, a wait without holding the monitor, an unlock of a lock not held. Prints, per case,
 * the exception's class, message, and the top stack frame. Expected: the same output with and
 * without the agent.
 */
public final class NullLockSample {
    private ReentrantLock lock; // never set
    private Object monitor; // never set
    private final ReentrantLock free = new ReentrantLock();
    private final Object plain = new Object();

    public static void main(String[] args) {
        NullLockSample s = new NullLockSample();
        try {
            s.lock.lock();
        } catch (RuntimeException e) {
            print("null-lock", e);
        }
        try {
            s.monitor.wait();
        } catch (RuntimeException | InterruptedException e) {
            print("null-wait", e);
        }
        try {
            s.plain.wait(5);
        } catch (RuntimeException | InterruptedException e) {
            print("wait-not-owner", e);
        }
        try {
            s.free.unlock();
        } catch (RuntimeException e) {
            print("unlock-not-held", e);
        }
    }

    private static void print(String scenario, Throwable e) {
        StackTraceElement top = e.getStackTrace()[0];
        System.out.println(scenario + ": " + e.getClass().getName() + ": " + e.getMessage());
        System.out.println(scenario + " top frame: " + top.getClassName() + "." + top.getMethodName());
    }
}
