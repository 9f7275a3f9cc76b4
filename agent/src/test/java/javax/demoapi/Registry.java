package javax.demoapi;

/**
 * Stands for an application library in a {@code javax.*} package that is not part of the JDK
 * (javax.servlet, javax.inject, javax.mail, ... ship as ordinary jars on the class path).
 * Two synchronized methods of two classes call each other in opposite orders.
 */
public final class Registry {
    private final Listener listener = new Listener(this);
    private int count;

    public synchronized void register() {
        count++;
        listener.changed();
    }

    synchronized int count() {
        return count;
    }

    public Listener listener() {
        return listener;
    }

    public static final class Listener {
        private final Registry owner;
        private int seen;

        Listener(Registry owner) {
            this.owner = owner;
        }

        synchronized void changed() {
            seen++;
        }

        public synchronized int poll() {
            return owner.count() + seen;
        }
    }
}
