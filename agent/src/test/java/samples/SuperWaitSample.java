package samples;

import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * A wait written {@code super.wait(..)} (javac: {@code invokespecial}, not
 * {@code invokevirtual}) is the same release and re-acquisition as {@code this.wait(..)}: waiting
 * on this object's monitor while holding an inner lock taken after it re-takes the monitor under
 * that lock. Prints one verdict line per form.
 */
public final class SuperWaitSample {
    private final Object inner = new Object();

    synchronized void viaThis() throws InterruptedException {
        synchronized (inner) {
            this.wait(1); // times out: nobody notifies; the verdict is about the order
        }
    }

    synchronized void viaSuper() throws InterruptedException {
        synchronized (inner) {
            super.wait(1);
        }
    }

    public static void main(String[] args) throws Exception {
        for (String form : new String[] {"this", "super"}) {
            SuperWaitSample s = new SuperWaitSample();
            try {
                if (form.equals("this")) {
                    s.viaThis();
                } else {
                    s.viaSuper();
                }
                System.out.println(form + ": ok");
            } catch (PotentialDeadlockException e) {
                System.out.println(form + ": refused " + e.report().summary());
            }
        }
    }
}
