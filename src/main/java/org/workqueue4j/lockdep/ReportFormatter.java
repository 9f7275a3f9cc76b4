package org.workqueue4j.lockdep;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds {@link LockdepReport}s in the layout of the kernel's {@code print_circular_bug()},
 * {@code print_deadlock_bug()} and friends. Called with the graph lock held (for the chain
 * frames), never on the fast path.
 */
final class ReportFormatter {

    private static final String USAGE = "{+.+.}";

    private final DependencyGraph graph;
    private final HeldLocks held;
    private final int depth;
    private final String thread;

    ReportFormatter(DependencyGraph graph, HeldLocks held, int depth) {
        this(graph, held, depth, held.trace != null ? held.threadName : Thread.currentThread().getName());
    }

    /** A replayed latent wait: report the original waiter's stack, not the current one. */
    private boolean deferred() {
        return held.trace != null;
    }

    private String caller() {
        List<String> t = held.trace;
        return t != null ? (t.isEmpty() ? "?" : t.get(0)) : Frames.caller();
    }

    private List<String> capture() {
        List<String> t = held.trace;
        return t != null ? t : Frames.capture();
    }

    private StringBuilder deferredHeader(String title) {
        StringBuilder sb = header(title);
        if (deferred()) {
            sb.append("(deferred: ").append(thread).append(" flushed, drained or destroyed this queue while it had never\n")
                    .append(" been used; the dependency was kept latent and added when the queue was first queued to.\n")
                    .append(" The stacks below are those of that earlier call.)\n");
        }
        return sb;
    }

    ReportFormatter(DependencyGraph graph, HeldLocks held, int depth, String thread) {
        this.graph = graph;
        this.held = held;
        this.depth = depth;
        this.thread = thread;
    }

    /** The kernel's process_one_work leak check: entries {@code from..depth-1} were leaked. */
    LockdepReport leaked(int from, String function, String queue) {
        String title = "BUG: workqueue leaked lock or atomic: " + thread;
        StringBuilder sb = header(title);
        sb.append("     last function: ").append(function).append(" (queue '").append(queue).append("')\n");
        List<String> classes = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = from; i < depth; i++) {
            classes.add(held.classes[i].name);
            ids.add(held.classes[i].identity());
        }
        List<String> heldLines = heldLocks(sb);
        sb.append("\nthe leaked locks (#").append(from).append(" and above) are released by the worker now.\n");
        backtrace(sb);
        // What tells this leak from another of the same locks: the item's class (its function's
        // key) and its queue's (per queue object, so two queues of one name differ), the entries
        // the leaked ones were taken under; not the item's name, which an executor view makes
        // anew for every task (one leaking task would be a new report, kept, at each submission).
        String site = (from >= 1 ? held.classes[from - 1].identity() : "") + "\u0000"
                + (from >= 2 ? held.classes[from - 2].identity() : "");
        return new LockdepReport(LockdepReport.Kind.LEAKED_LOCK, title, classes, ids, heldLines, thread, sb.toString(),
                false, site);
    }

    /** A failed lockdep_assert_held*(). */
    LockdepReport assertion(LockMap map, LockAssertion expected) {
        String title = "WARNING: lock assertion failed: " + className(map) + " expected " + expected;
        StringBuilder sb = header(title);
        sb.append(thread).append(" at: ").append(Frames.caller()).append('\n');
        List<String> heldLines = heldLocks(sb);
        backtrace(sb);
        return new LockdepReport(LockdepReport.Kind.ASSERTION, title, List.of(className(map)), List.of(identity(map)),
                heldLines, thread, sb.toString(), false, expected.name());
    }

    /** The kernel's print_lock_nested_lock_not_held(): {@code map} taken under {@code nest}, which is not held. */
    LockdepReport nestLockNotHeld(LockMap map, LockMap nest) {
        String title = "WARNING: Nested lock was not taken";
        StringBuilder sb = header(title);
        sb.append(thread).append(" is trying to lock:\n");
        sb.append(lock(className(map), Frames.caller())).append("\n\n");
        sb.append("but this task is not holding:\n");
        sb.append(className(nest)).append("\n\nother info that might help us debug this:\n");
        List<String> heldLines = heldLocks(sb);
        backtrace(sb);
        return new LockdepReport(LockdepReport.Kind.NEST_LOCK_NOT_HELD, title, List.of(className(map), className(nest)),
                List.of(identity(map), identity(nest)), heldLines, thread, sb.toString());
    }

    /** The kernel's debug_check_no_locks_held() at exit, for a thread that ended (no backtrace: it is gone). */
    LockdepReport heldAtExit() {
        String title = "WARNING: " + thread + " is exiting with locks still held!";
        StringBuilder sb = header(title);
        List<String> classes = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            classes.add(held.classes[i].name);
            ids.add(held.classes[i].identity());
        }
        List<String> heldLines = heldLocks(sb);
        sb.append("\nthese locks stay locked: a java.util.concurrent lock is not released when its owner ends.\n");
        return new LockdepReport(LockdepReport.Kind.HELD_AT_EXIT, title, classes, ids, heldLines, thread, sb.toString());
    }

    LockdepReport circular(LockClass next, AcquireMode mode, DependencyGraph.Violation v) {
        String title = "WARNING: possible circular locking dependency detected";
        LockClass prev = held.classes[v.heldIndex];
        List<LockDependency> path = v.path;
        StringBuilder sb = deferredHeader(title);
        sb.append(thread).append(" is trying to acquire lock:\n");
        sb.append(lock(next.name, caller())).append("\n\n");
        sb.append("but task is already holding lock:\n");
        sb.append(lock(prev.name, heldAt(v.heldIndex))).append("\n\n");
        sb.append("which lock already depends on the new lock.\n\n");
        sb.append("the existing dependency chain (in reverse order) is:\n");
        for (int j = path.size(); j >= 1; j--) {
            LockDependency e = path.get(j - 1);
            sb.append("\n-> #").append(j).append(" (").append(e.to.name).append("):\n");
            trace(sb, e.trace);
        }
        sb.append("\n-> #0 (").append(next.name).append("):\n");
        trace(sb, capture());
        sb.append("\nother info that might help us debug this:\n\n");
        LockClass parent = path.get(path.size() - 1).from;
        if (parent != next) {
            sb.append("Chain exists of:\n  ").append(next.name).append(" --> ").append(parent.name)
                    .append(" --> ").append(prev.name).append("\n\n");
        }
        sb.append(" Possible unsafe locking scenario:\n\n");
        sb.append("       CPU0                    CPU1\n");
        sb.append("       ----                    ----\n");
        sb.append("  ").append(op(held.modes[v.heldIndex])).append('(').append(prev.name).append(");\n");
        sb.append("                               lock(").append(parent.name).append(");\n");
        sb.append("                               lock(").append(prev.name).append(");\n");
        sb.append("  ").append(op(mode)).append('(').append(next.name).append(");\n");
        sb.append("\n *** DEADLOCK ***\n\n");
        List<String> heldLines = heldLocks(sb);
        backtrace(sb, capture());
        List<String> cycle = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        cycle.add(next.name);
        ids.add(next.identity());
        for (LockDependency e : path) {
            cycle.add(e.to.name);
            ids.add(e.to.identity());
        }
        return new LockdepReport(LockdepReport.Kind.CIRCULAR, title, cycle, ids, heldLines, thread, sb.toString(), deferred());
    }

    LockdepReport recursive(LockClass next, AcquireMode mode, DependencyGraph.Violation v) {
        String title = "WARNING: possible recursive locking detected";
        LockClass prev = held.classes[v.heldIndex];
        StringBuilder sb = deferredHeader(title);
        sb.append(thread).append(" is trying to acquire lock:\n");
        sb.append(lock(next.name, caller())).append("\n\n");
        sb.append("but task is already holding lock:\n");
        sb.append(lock(prev.name, heldAt(v.heldIndex))).append("\n\n");
        sb.append("other info that might help us debug this:\n");
        sb.append(" Possible unsafe locking scenario:\n\n");
        sb.append("       CPU0\n");
        sb.append("       ----\n");
        sb.append("  ").append(op(held.modes[v.heldIndex])).append('(').append(prev.name).append(");\n");
        sb.append("  ").append(op(mode)).append('(').append(next.name).append(");\n");
        sb.append("\n *** DEADLOCK ***\n\n");
        sb.append(" May be due to missing lock nesting notation\n\n");
        List<String> heldLines = heldLocks(sb);
        backtrace(sb, capture());
        return new LockdepReport(LockdepReport.Kind.RECURSIVE, title, List.of(prev.name, next.name),
                List.of(prev.identity(), next.identity()), heldLines, thread, sb.toString(), deferred());
    }

    LockdepReport releaseNotHeld(LockMap map) {
        String title = "WARNING: bad unlock balance detected!";
        StringBuilder sb = header(title);
        sb.append(thread).append(" is trying to release lock (").append(className(map)).append(") at:\n");
        sb.append(Frames.caller()).append('\n');
        sb.append("but there are no more locks to release!\n\n");
        sb.append("other info that might help us debug this:\n");
        List<String> heldLines = heldLocks(sb);
        backtrace(sb);
        return new LockdepReport(LockdepReport.Kind.RELEASE_NOT_HELD, title, List.of(className(map)),
                List.of(identity(map)), heldLines, thread, sb.toString());
    }

    LockdepReport initHeld(LockMap map, String holder) {
        String title = "WARNING: held lock re-initialized!";
        StringBuilder sb = header(title);
        sb.append(thread).append(" is initializing lock (").append(className(map)).append(") at:\n");
        sb.append(Frames.caller()).append('\n');
        sb.append("but the lock is still held by ").append(holder).append(":\n");
        sb.append(" (").append(className(map)).append(')').append(USAGE).append("\n\n");
        sb.append("other info that might help us debug this:\n");
        List<String> heldLines = heldLocks(sb);
        backtrace(sb);
        return new LockdepReport(LockdepReport.Kind.INIT_HELD, title, List.of(className(map)),
                List.of(identity(map)), heldLines, thread, sb.toString());
    }

    /**
     * The kernel's "BUG: held lock freed!" ({@code print_freed_lock_bug()}): the classes of
     * {@code map}'s key were freed ({@link Lockdep#unregisterKey}) while {@code holder} holds a
     * lock of that key. Of kind {@link LockdepReport.Kind#INIT_HELD}, a held lock whose
     * identity goes away; the validator turns itself off after it.
     */
    LockdepReport heldKeyUnregistered(LockMap map, String holder) {
        String title = "BUG: held lock freed!";
        StringBuilder sb = header(title);
        sb.append(thread).append(" is freeing the lock class of key ").append(map.key().name())
                .append(" (unregisterKey) at:\n");
        sb.append(Frames.caller()).append('\n');
        sb.append("but lock (").append(className(map)).append(") of that class is still held by ").append(holder).append(".\n");
        sb.append("turning off the locking correctness validator.\n\n");
        sb.append("other info that might help us debug this:\n");
        List<String> heldLines = heldLocks(sb);
        backtrace(sb);
        return new LockdepReport(LockdepReport.Kind.INIT_HELD, title, List.of(className(map)),
                List.of(identity(map)), heldLines, thread, sb.toString());
    }

    /**
     * The short report of a violation whose full report could not be formatted ({@code why}):
     * its kind and the class being acquired, with no traces.
     */
    static LockdepReport unformatted(LockdepReport.Kind kind, LockClass next, Throwable why) {
        String title = kind == LockdepReport.Kind.CIRCULAR ? "WARNING: possible circular locking dependency detected"
                : kind == LockdepReport.Kind.RECURSIVE ? "WARNING: possible recursive locking detected"
                : "BUG: lockdep capacity exceeded";
        String thread = Thread.currentThread().getName();
        return new LockdepReport(kind, title, List.of(next.name), List.of(next.identity()), List.of(), thread,
                title + "\n" + thread + " is trying to acquire lock (" + next.name + "); the full report could not be made ("
                        + why.getClass().getName() + ")\n");
    }

    LockdepReport capacity(String limit, long value) {
        String title = "BUG: " + limit + " too low!";
        StringBuilder sb = new StringBuilder();
        sb.append(title).append('\n');
        sb.append("turning off the locking correctness validator.\n");
        sb.append("(limit: ").append(value).append("; raise it with Lockdep.builder())\n");
        List<String> heldLines = heldLocks(sb);
        backtrace(sb);
        return new LockdepReport(LockdepReport.Kind.CAPACITY, title, List.of(), List.of(), heldLines, thread, sb.toString());
    }

    private static StringBuilder header(String title) {
        StringBuilder sb = new StringBuilder();
        sb.append("=".repeat(title.length())).append('\n');
        sb.append(title).append('\n');
        sb.append("-".repeat(title.length())).append('\n');
        return sb;
    }

    private static String lock(String name, String at) {
        return " (" + name + ")" + USAGE + ", at: " + at;
    }

    private static String op(AcquireMode mode) {
        return mode.isRead() ? "rlock" : "lock";
    }

    private String heldAt(int i) {
        DependencyGraph.Chain ch = graph.chainInfo.get(held.keys[i]);
        return ch == null ? "?" : ch.at;
    }

    /** The printed name of {@code map}'s class, as its class prints ({@link LockClass#printName}). */
    private String className(LockMap map) {
        return graph.nameOf(map.key(), map.subclass());
    }

    /** {@code map}'s class's {@link LockClass#identity()}, whether or not the class exists. */
    private static String identity(LockMap map) {
        return LockClass.identity(map.key(), map.subclass());
    }

    /** The held-lock lines of {@code held[0..depth)}, without the heading. */
    List<String> heldLines() {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < depth; i++) {
            LockClass c = held.classes[i]; // another thread's stack may be changing: skip a torn entry
            if (c != null) {
                lines.add(lock(c.name, heldAt(i)).substring(1));
            }
        }
        return lines;
    }

    private List<String> heldLocks(StringBuilder sb) {
        List<String> lines = new ArrayList<>();
        if (depth == 0) {
            sb.append("no locks held by ").append(thread).append(".\n");
        } else {
            sb.append(depth).append(depth == 1 ? " lock" : " locks").append(" held by ").append(thread).append(":\n");
            for (int i = 0; i < depth; i++) {
                String line = lock(held.classes[i].name, heldAt(i)).substring(1);
                lines.add(line);
                sb.append(" #").append(i).append(": ").append(line).append('\n');
            }
        }
        return lines;
    }

    private static void trace(StringBuilder sb, List<String> frames) {
        for (String f : frames) {
            sb.append("       ").append(f).append('\n');
        }
    }

    private static void backtrace(StringBuilder sb) {
        backtrace(sb, Frames.capture());
    }

    private static void backtrace(StringBuilder sb, List<String> frames) {
        sb.append("\nstack backtrace:\n");
        for (String f : frames) {
            sb.append(' ').append(f).append('\n');
        }
    }
}
