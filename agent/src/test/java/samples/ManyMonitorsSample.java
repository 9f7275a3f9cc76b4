package samples;

import java.util.ArrayList;
import java.util.List;

/**
 * 10^4 distinct account objects, each locked inside the bank's monitor, always in the same
 * order (bank, then account), by two threads, several rounds, with fresh account objects in
 * every round. Verdict with the agent: silent, and the validator's state does not grow with
 * the number of objects (the accounts are one lock class).
 */
public final class ManyMonitorsSample {
    static final class Account {
        long balance;
    }

    private final Object bank = new Object();

    void settle(List<Account> accounts) {
        for (Account a : accounts) {
            synchronized (bank) {
                synchronized (a) {
                    a.balance++;
                }
            }
        }
    }

    public static void main(String[] args) throws InterruptedException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        ManyMonitorsSample s = new ManyMonitorsSample();
        for (int r = 0; r < rounds; r++) {
            List<Account> accounts = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                accounts.add(new Account());
            }
            Thread a = new Thread(() -> s.settle(accounts), "settle-a");
            Thread b = new Thread(() -> s.settle(accounts), "settle-b");
            a.start();
            b.start();
            a.join();
            b.join();
        }
        System.out.println("done, " + n + " accounts x " + rounds + " rounds");
    }
}
