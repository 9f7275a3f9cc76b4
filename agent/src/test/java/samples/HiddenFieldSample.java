package samples;

import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * Monitors an inner, anonymous or local class reads through fields the compiler made
 * ({@code this$0} for {@code Outer.this}, {@code val$x} for a captured local) are the same locks
 * as the objects they hold: each case shows an order, then its inversion written in such a class.
 * Prints one verdict per case, and the same inversion written in a lambda for reference.
 */
public final class HiddenFieldSample {
    static final class Account {
    }

    static final class Audit {
    }

    private final Audit audit = new Audit();

    synchronized void outerFirst() {
        synchronized (audit) { // HiddenFieldSample -> audit
            audit.hashCode();
        }
    }

    final class Inner {
        void inverted() {
            synchronized (audit) {
                synchronized (HiddenFieldSample.this) { // audit -> the same monitor
                    audit.hashCode();
                }
            }
        }
    }

    public static void main(String[] args) {
        HiddenFieldSample s = new HiddenFieldSample();
        s.outerFirst();
        verdict("inner-outer-this", () -> s.new Inner().inverted());

        Account from = new Account();
        Audit log = new Audit();
        synchronized (from) {
            synchronized (log) {
                log.hashCode();
            }
        }
        verdict("anonymous-captured", new Runnable() {
            @Override
            public void run() {
                synchronized (log) {
                    synchronized (from) {
                        from.hashCode();
                    }
                }
            }
        });
        verdict("lambda-captured", () -> {
            synchronized (log) {
                synchronized (from) {
                    from.hashCode();
                }
            }
        });
    }

    private static void verdict(String what, Runnable r) {
        try {
            r.run();
            System.out.println(what + ": ok");
        } catch (PotentialDeadlockException e) {
            System.out.println(what + ": refused " + e.report().kind());
        }
    }
}
