package samples;

import org.workqueue4j.WorkQueuesConfig;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;

/**
 * Reads the agent's structured reports through the library's public API: under the agent, the
 * default config's validator is the agent's {@link Lockdep}. Takes two monitors in both orders,
 * then prints each report's kind and classes.
 */
public final class ReportsApiSample {
    private final Object index = new Object();
    private final Object journal = new Object();

    public static void main(String[] args) {
        ReportsApiSample s = new ReportsApiSample();
        synchronized (s.index) {
            synchronized (s.journal) {
                System.out.println("index then journal");
            }
        }
        synchronized (s.journal) {
            synchronized (s.index) {
                System.out.println("journal then index");
            }
        }
        LockDependencyValidator v = WorkQueuesConfig.defaults().validator();
        if (v instanceof Lockdep) {
            for (LockdepReport r : ((Lockdep) v).reports()) {
                System.out.println("report: " + r.summary() + " held " + r.heldLocks());
            }
        } else {
            System.out.println("no lockdep: " + v);
        }
    }
}
