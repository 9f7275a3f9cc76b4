package samples;

import java.util.concurrent.locks.ReentrantLock;

import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * Locks read from fields (README rule 1: class Owner.field) that were not constructed straight
 * into the field: built by a factory method, or by a conditional expression. Run under
 * policy=THROW; one line per scenario, "ok" or "refused SUMMARY".
 */
public final class FactoryLockSample {

    private static ReentrantLock newLock() {
        return new ReentrantLock();
    }

    // two fields, two classes (FactoryLockSample.accounts, FactoryLockSample.audit): nesting is fine
    private final ReentrantLock accounts = newLock();
    private final ReentrantLock audit = newLock();

    void nestedFactoryLocks() {
        accounts.lock();
        try {
            audit.lock();
            try {
                report("factory-fields-nested", null);
            } finally {
                audit.unlock();
            }
        } catch (PotentialDeadlockException e) {
            report("factory-fields-nested", e);
        } finally {
            accounts.unlock();
        }
    }

    static final class Vault {
        final ReentrantLock lock;

        Vault(boolean fair) {
            lock = fair ? new ReentrantLock(true) : new ReentrantLock();
        }
    }

    private final Object ledger = new Object();

    // ledger -> Vault.lock, then Vault.lock -> ledger (a fair vault): the cycle must name Vault.lock
    void conditionalConstruction() {
        Vault v = new Vault(true);
        synchronized (ledger) {
            v.lock.lock();
            v.lock.unlock();
        }
        v.lock.lock();
        try {
            synchronized (ledger) {
                report("conditional-construction", null);
            }
        } catch (PotentialDeadlockException e) {
            report("conditional-construction", e);
        } finally {
            v.lock.unlock();
        }
    }

    private static void report(String scenario, PotentialDeadlockException e) {
        System.out.println(scenario + ": " + (e == null ? "ok" : "refused " + e.report().summary()));
    }

    public static void main(String[] args) {
        FactoryLockSample s = new FactoryLockSample();
        s.nestedFactoryLocks();
        s.conditionalConstruction();
    }
}
