package samples;

import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.lang.reflect.Modifier;

/**
 * A serializable class whose {@code serialVersionUID} field does not count (an instance field:
 * the JDK computes the default identifier, which hashes the synchronized modifier). Its
 * synchronized methods keep their flag under the agent, and their monitor is still validated:
 * {@code Account.transfer} takes the account then LEDGER, main takes LEDGER then the account (an
 * ABBA, one thread, no deadlock; reported). {@code Account.fail} leaves by an exception; the
 * monitor it held is released and no longer counted as held. Prints the serialVersionUID and the
 * modifier, the same with and without the agent.
 */
public final class MisdeclaredSuidSample {
    static final Object LEDGER = new Object();

    static final class Account implements Serializable {
        private final long serialVersionUID = 7L; // not static: the JDK ignores it

        synchronized void transfer() {
            synchronized (LEDGER) {
                System.out.println("account then ledger");
            }
        }

        synchronized void fail() {
            throw new IllegalStateException("refused");
        }

        long declared() {
            return serialVersionUID;
        }
    }

    public static void main(String[] args) throws Exception {
        Account a = new Account();
        System.out.println("suid " + ObjectStreamClass.lookup(Account.class).getSerialVersionUID()
                + ", synchronized " + Modifier.isSynchronized(Account.class.getDeclaredMethod("transfer").getModifiers())
                + ", field " + a.declared());
        try {
            a.fail();
        } catch (IllegalStateException e) {
            System.out.println("fail: " + e.getMessage() + ", holds account after: " + Thread.holdsLock(a));
        }
        a.transfer();
        synchronized (LEDGER) {
            synchronized (a) {
                System.out.println("ledger then account");
            }
        }
    }
}
