package samples;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Null locks and conditions in places the README's promise covers ("a null receiver takes the
 * original call: the same NullPointerException"). Prints, per case, the exception's class,
 * message and top frame. Expected: the same output with and without the agent.
 * Argument {@code new}: the call is an argument of a constructor ({@code new Box(lock.tryLock())},
 * an uninitialized object on the stack); {@code ref}: a method reference {@code Lock::unlock}
 * applied to null; {@code plain}: the same calls as statements (control).
 */
public final class NullPathSample {
    static final class Box {
        final Object v;

        Box(Object v) {
            this.v = v;
        }
    }

    private ReentrantLock lock; // never set
    private Condition cond; // never set

    static Object wrap(int i, Object o) {
        return o;
    }

    public static void main(String[] args) throws Exception {
        NullPathSample s = new NullPathSample();
        switch (args[0]) {
            case "new":
                try {
                    Object o = wrap(1, new Box(s.lock.tryLock()));
                    System.out.println(o);
                } catch (RuntimeException e) {
                    print("trylock-in-new", e);
                }
                try {
                    Object o = wrap(2, new Box(s.cond.awaitNanos(1L)));
                    System.out.println(o);
                } catch (RuntimeException e) {
                    print("awaitnanos-in-new", e);
                }
                break;
            case "ref":
                try {
                    Consumer<Lock> unlock = Lock::unlock;
                    unlock.accept(null);
                } catch (RuntimeException e) {
                    print("unlock-ref", e);
                }
                break;
            default:
                try {
                    Object o = s.lock.tryLock();
                    System.out.println(o);
                } catch (RuntimeException e) {
                    print("trylock", e);
                }
                try {
                    Object o = s.cond.awaitNanos(1L);
                    System.out.println(o);
                } catch (RuntimeException e) {
                    print("awaitnanos", e);
                }
        }
    }

    private static void print(String scenario, Throwable e) {
        StackTraceElement top = e.getStackTrace()[0];
        System.out.println(scenario + ": " + e.getClass().getName() + ": " + e.getMessage());
        System.out.println(scenario + " top frame: " + top);
    }
}
