package samples;

import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectOutput;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Serializable classes of many shapes, each with a synchronized method and no declared (valid)
 * serialVersionUID. Prints "name suid" per class: the default serialVersionUID the JDK computes.
 * Expected: the same output with and without the agent. {@code misdeclared} prints the classes
 * whose serialVersionUID field does not count (not static final long), {@code shapes} the others.
 */
public final class SerialShapesSample {

    // ---- shapes: every member kind ObjectStreamClass hashes

    static class Plain implements Serializable {
        static final List<String> NAMES = new ArrayList<>();
        static int counter;
        private static int hidden;
        private transient int cache;
        protected volatile long stamp;
        public final String name;
        int pkg;
        private int priv;

        static {
            NAMES.add("x");
        }

        Plain() {
            this("p");
        }

        protected Plain(String name) {
            this.name = name;
        }

        private Plain(int i) {
            this(String.valueOf(i));
        }

        public synchronized int touch() {
            return ++pkg + priv + cache + hidden;
        }

        protected static synchronized void bump() {
            counter++;
        }

        final strictfp double half(double d) {
            return d / 2;
        }

        private void secret() {
        }

        native synchronized void nat();

        void varargs(String... s) {
        }
    }

    final class Inner implements Serializable, Cloneable, Runnable {
        int v;

        public synchronized void run() {
            v++;
        }
    }

    static final class WithLambdas implements Serializable {
        int v;

        synchronized Supplier<Integer> supplier() {
            return () -> v;
        }

        Runnable serializableRunnable() {
            return (Runnable & Serializable) () -> v++;
        }
    }

    static final class Bridged implements Comparable<Bridged>, Serializable {
        int v;

        @Override
        public synchronized int compareTo(Bridged o) {
            return Integer.compare(v, o.v);
        }
    }

    protected abstract static class Abstract implements Serializable {
        abstract void work();

        synchronized void locked() {
        }
    }

    static final class Concrete extends Abstract {
        @Override
        synchronized void work() {
        }
    }

    static class Ext implements Externalizable {
        public Ext() {
        }

        public synchronized void writeExternal(ObjectOutput out) throws IOException {
        }

        public void readExternal(ObjectInput in) {
        }
    }

    static class NotSerializableBase {
        synchronized void base() {
        }
    }

    interface Marker extends Serializable {
    }

    static class ViaUserInterface extends NotSerializableBase implements Marker {
        synchronized void own() {
        }
    }

    static class ViaUserSuperclass extends Plain {
        private static final Object GUARD = new Object();

        synchronized void sub() {
        }
    }

    static class StaticOnly implements Serializable {
        static synchronized int next() {
            return 1;
        }
    }

    // ---- misdeclared: a serialVersionUID field the JDK ignores (it computes the default one)

    static class NonFinalSuid implements Serializable {
        static long serialVersionUID = 7L;

        synchronized void m() {
        }
    }

    static class IntSuid implements Serializable {
        private static final int serialVersionUID = 7;

        synchronized void m() {
        }
    }

    static class InstanceSuid implements Serializable {
        private final long serialVersionUID = 7L;

        synchronized void m() {
        }
    }

    public static void main(String[] args) {
        List<Class<?>> classes = new ArrayList<>();
        if (args.length == 0 || args[0].equals("shapes")) {
            Serializable anonymous = new Serializable() {
                int v;

                synchronized void m() {
                    v++;
                }
            };
            class Local implements Serializable {
                synchronized void m() {
                }
            }
            classes.addAll(List.of(Plain.class, Inner.class, WithLambdas.class, Bridged.class, Abstract.class,
                    Concrete.class, Ext.class, ViaUserInterface.class, ViaUserSuperclass.class, StaticOnly.class,
                    anonymous.getClass(), Local.class));
        } else {
            classes.addAll(List.of(NonFinalSuid.class, IntSuid.class, InstanceSuid.class));
        }
        for (Class<?> c : classes) {
            ObjectStreamClass d = ObjectStreamClass.lookup(c);
            System.out.println(c.getName() + " " + (d == null ? "not serializable" : d.getSerialVersionUID()));
        }
    }
}
