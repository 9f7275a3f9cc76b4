package samples;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * Bytecode shapes of synchronized code the agent rewrites; each prints a result line. Expected:
 * the same stdout with and without the agent, and no report (every monitor order here is one
 * order).
 */
public final class ShapesSample {

    static int counter;

    static synchronized long wide(long a, double b, int c, long d) {
        a = a + c;
        return a + (long) b + d;
    }

    static synchronized double dbl(double x, long y) {
        if (x > 1) {
            return x * y;
        }
        return -x;
    }

    static synchronized int loopAtStart(int n) {
        while (n > 10) {
            n -= 3;
        }
        return n;
    }

    synchronized String params(String s, Object o, int[] arr, long[][] grid, CharSequence cs) {
        s = s + arr.length;
        o = cs;
        return s + o + grid.length;
    }

    static synchronized int recurse(int n) {
        return n == 0 ? 0 : 1 + recurse(n - 1);
    }

    static synchronized void thrower(int n) {
        if (n > 0) {
            throw new IllegalArgumentException("bad " + n);
        }
        counter++;
    }

    synchronized int tryFinally(int n) {
        int r = 0;
        try {
            if (n < 0) {
                throw new IllegalStateException("neg");
            }
            r = n;
            return r;
        } catch (IllegalStateException e) {
            r = -1;
            return r;
        } finally {
            counter += r;
        }
    }

    synchronized int switchy(String k) {
        switch (k) {
            case "a":
                return 1;
            case "b":
                return 2;
            default:
                return 3;
        }
    }

    private final Object inner = new Object();

    int nestedSame() {
        synchronized (this) {
            synchronized (this) {
                synchronized (inner) {
                    synchronized (this) {
                        return 7;
                    }
                }
            }
        }
    }

    static final Object STATIC_LOCK = new Object();
    static int initValue;

    static {
        synchronized (STATIC_LOCK) {
            initValue = 5;
        }
    }

    final int ctorValue;

    ShapesSample() {
        synchronized (STATIC_LOCK) {
            ctorValue = 9;
        }
    }

    interface Defaulted {
        default int viaDefault() {
            synchronized (this) {
                return 11;
            }
        }
    }

    static final class Impl implements Defaulted {
    }

    enum Color {
        RED;

        synchronized int ord() {
            synchronized (STATIC_LOCK) {
                return ordinal() + 20;
            }
        }
    }

    record Point(int x, int y) {
        synchronized int sum() {
            return x + y;
        }
    }

    static int monitorOnNull() {
        Object o = null;
        try {
            synchronized (o) {
                return 1;
            }
        } catch (NullPointerException e) {
            return -1;
        }
    }

    static String stackShape() {
        try {
            thrower(3);
            return "no throw";
        } catch (IllegalArgumentException e) {
            StringBuilder b = new StringBuilder(e.getMessage());
            for (StackTraceElement el : e.getStackTrace()) {
                if (el.getClassName().startsWith("samples.")) {
                    b.append(" | ").append(el);
                }
            }
            return b.toString();
        }
    }

    static String notifyWithoutMonitor() {
        Object o = new Object();
        try {
            o.notify();
            return "no throw";
        } catch (IllegalMonitorStateException e) {
            return "IMSE " + e.getMessage();
        }
    }

    synchronized boolean holds() {
        return Thread.holdsLock(this);
    }

    public static void main(String[] args) throws Exception {
        ShapesSample s = new ShapesSample();
        List<String> out = new ArrayList<>();
        out.add("wide " + wide(1L, 2.5, 3, 4L));
        out.add("dbl " + dbl(2.0, 3L) + " " + dbl(0.5, 3L));
        out.add("loopAtStart " + loopAtStart(100));
        out.add("params " + s.params("p", "x", new int[3], new long[2][2], "cs"));
        out.add("recurse " + recurse(200));
        out.add("stack " + stackShape());
        out.add("tryFinally " + s.tryFinally(4) + " " + s.tryFinally(-4) + " counter " + counter);
        out.add("switchy " + s.switchy("a") + s.switchy("b") + s.switchy("z"));
        out.add("nestedSame " + s.nestedSame());
        out.add("static init " + initValue + " ctor " + s.ctorValue);
        out.add("default " + new Impl().viaDefault());
        out.add("enum " + Color.RED.ord());
        out.add("record " + new Point(2, 3).sum());
        IntSupplier lambda = () -> {
            synchronized (STATIC_LOCK) {
                return 31;
            }
        };
        out.add("lambda " + lambda.getAsInt());
        Runnable anon = new Runnable() {
            @Override
            public void run() {
                synchronized (this) {
                    counter += 100;
                }
            }
        };
        anon.run();
        out.add("anon counter " + counter);
        out.add("monitorOnNull " + monitorOnNull());
        out.add("notify " + notifyWithoutMonitor());
        out.add("holds " + s.holds() + " after " + Thread.holdsLock(s));
        Method m = ShapesSample.class.getDeclaredMethod("recurse", int.class);
        out.add("reflect invoke " + m.invoke(null, 3));
        out.forEach(System.out::println);
    }
}
