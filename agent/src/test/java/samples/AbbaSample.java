package samples;

/**
 * Two synchronized methods of different classes, called in opposite orders by two threads that
 * run one after the other: the program never deadlocks, but the order it shows (Account then
 * Ledger, Ledger then Account) can. Verdict with the agent: a circular dependency is reported.
 */
public final class AbbaSample {

    static final class Account {
        private int balance;

        synchronized void depositAndRecord(Ledger ledger, int amount) {
            balance += amount;
            ledger.record(amount);
        }

        synchronized int balance() {
            return balance;
        }
    }

    static final class Ledger {
        private long total;

        synchronized void record(int amount) {
            total += amount;
        }

        synchronized void audit(Account account) {
            if (account.balance() < 0) {
                throw new IllegalStateException("negative balance");
            }
        }
    }

    public static void main(String[] args) throws InterruptedException {
        Account account = new Account();
        Ledger ledger = new Ledger();
        Thread teller = new Thread(() -> account.depositAndRecord(ledger, 10), "teller");
        teller.start();
        teller.join();
        Thread auditor = new Thread(() -> ledger.audit(account), "auditor");
        auditor.start();
        auditor.join();
        System.out.println("done, balance " + account.balance());
    }
}
