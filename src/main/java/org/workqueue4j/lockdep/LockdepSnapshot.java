package org.workqueue4j.lockdep;

import java.util.List;

/**
 * A consistent copy of the validator's state, as data and as text: the lock classes with their
 * dependency counts ({@code /proc/lockdep}), the validated chains ({@code /proc/lockdep_chains})
 * and every registered thread's held locks ({@code debug_show_all_locks()}). Taken under the
 * graph lock by {@link Lockdep#snapshot()}; other threads' held stacks are read racily (each
 * entry is a recent value, as for the kernel's own dump).
 *
 * @param classes the live lock classes
 * @param chains the validated chains
 * @param threads the threads the validator knows, with what they hold
 * @param stats the counters
 */
public record LockdepSnapshot(List<ClassInfo> classes, List<ChainInfo> chains, List<ThreadLocks> threads,
                              LockdepStats stats) {

    /**
     * One lock class.
     *
     * @param name the class name (with "/subclass" when nested)
     * @param forwardDeps how many classes were taken while this one was held (direct edges out)
     * @param backwardDeps how many classes were held when this one was taken (direct edges in)
     * @param after the names of the classes taken while this one was held
     */
    public record ClassInfo(String name, int forwardDeps, int backwardDeps, List<String> after) {
    }

    /**
     * One validated chain: the held classes in acquisition order.
     *
     * @param classes the class names, each with its mode in the kernel's notation ("(M){+.+.}" style is in the text)
     * @param at where the top lock was taken
     */
    public record ChainInfo(List<String> classes, String at) {
    }

    /**
     * One thread's held locks.
     *
     * @param thread the thread's name
     * @param alive whether it is still running
     * @param held one {@code "(class){+.+.}, at: frame"} line per held lock, outermost first
     */
    public record ThreadLocks(String thread, boolean alive, List<String> held) {
    }

    /**
     * Returns the snapshot in the kernel's text layouts, one section after the other.
     *
     * @return the text
     */
    public String text() {
        StringBuilder sb = new StringBuilder("all lock classes:\n");
        for (ClassInfo c : classes) {
            sb.append(String.format("%-40s FD:%5d BD:%5d%n", c.name(), c.forwardDeps(), c.backwardDeps()));
            for (String a : c.after()) {
                sb.append(" -> ").append(a).append('\n');
            }
        }
        sb.append("\nlock chains:\n");
        for (ChainInfo ch : chains) {
            sb.append("chain, at: ").append(ch.at()).append('\n');
            for (String c : ch.classes()) {
                sb.append("  ").append(c).append('\n');
            }
        }
        sb.append("\nShowing all locks held in the system:\n");
        for (ThreadLocks t : threads) {
            if (t.held().isEmpty()) {
                continue;
            }
            sb.append(t.held().size()).append(t.held().size() == 1 ? " lock held by " : " locks held by ")
                    .append(t.thread()).append(t.alive() ? "" : " (ended)").append(":\n");
            for (int i = 0; i < t.held().size(); i++) {
                sb.append(" #").append(i).append(": ").append(t.held().get(i)).append('\n');
            }
        }
        sb.append("\n").append(stats).append('\n');
        return sb.toString();
    }

    @Override
    public String toString() {
        return text();
    }
}
