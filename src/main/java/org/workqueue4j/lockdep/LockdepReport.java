package org.workqueue4j.lockdep;

import java.util.List;
import java.util.Objects;

/**
 * One problem found by {@link Lockdep}: what kind, which lock classes, which locks the thread
 * held, and the full report text in the kernel's layout ({@link #text()}).
 *
 * <p>Immutable; safe to share between threads.
 */
public final class LockdepReport {

    /**
     * The kind of problem.
     *
     * <p>Immutable; safe to share between threads.
     */
    public enum Kind {
        /** "possible circular locking dependency detected": a strong cycle in the graph. */
        CIRCULAR,
        /** "possible recursive locking detected": a class acquired while already held. */
        RECURSIVE,
        /** "bad unlock balance detected": release of a lock the thread does not hold (double unlock). */
        RELEASE_NOT_HELD,
        /** A lock (re-)initialized while some thread holds it. */
        INIT_HELD,
        /** A capacity limit (classes, edges, chains, held-lock depth) was hit; validation is off. */
        CAPACITY,
        /**
         * "BUG: workqueue leaked lock or atomic": a work item returned holding validated locks.
         * The worker releases them after the report (see {@link LockDependencyValidator#checkLeaks}).
         */
        LEAKED_LOCK,
        /** "is exiting with locks still held!": a thread ended holding validated locks, which stay locked. */
        HELD_AT_EXIT,
        /** A failed {@code lockdep_assert_held*()} ({@link LockDependencyValidator#assertHeld}). */
        ASSERTION,
        /**
         * "WARNING: Nested lock was not taken": a lock taken under a nest lock
         * ({@code lockNestLock}, {@link LockDependencyValidator#acquireNested}) that the thread
         * does not hold. The acquisition is then validated as a plain one.
         */
        NEST_LOCK_NOT_HELD
    }

    private final Kind kind;
    private final String title;
    private final List<String> classes;
    private final List<String> heldLocks;
    private final String threadName;
    private final String text;
    private final boolean deferred;
    /** One identity per element of {@link #classes} (the class's, not its name's), for {@link #signature()}. */
    private final List<String> identities;
    /** What else tells this problem from another of the same kind and classes, for {@link #signature()}. */
    private final String detail;

    LockdepReport(Kind kind, String title, List<String> classes, List<String> identities, List<String> heldLocks,
                  String threadName, String text) {
        this(kind, title, classes, identities, heldLocks, threadName, text, false);
    }

    LockdepReport(Kind kind, String title, List<String> classes, List<String> identities, List<String> heldLocks,
                  String threadName, String text, boolean deferred) {
        this(kind, title, classes, identities, heldLocks, threadName, text, deferred, "");
    }

    /**
     * @param detail what else makes this problem distinct, for {@link #signature()} (an
     *               assertion's expectation, a leak's site: the item's class and its queue's);
     *               empty if nothing
     */
    LockdepReport(Kind kind, String title, List<String> classes, List<String> identities, List<String> heldLocks,
                  String threadName, String text, boolean deferred, String detail) {
        this.detail = Objects.requireNonNull(detail);
        if (identities.size() != classes.size()) {
            throw new IllegalArgumentException("one identity per class: " + identities + " for " + classes);
        }
        this.deferred = deferred;
        this.kind = Objects.requireNonNull(kind);
        this.title = title;
        this.identities = List.copyOf(identities);
        this.classes = List.copyOf(classes);
        this.heldLocks = List.copyOf(heldLocks);
        this.threadName = threadName;
        this.text = text;
    }

    /** {@return the kind of problem} */
    public Kind kind() {
        return kind;
    }

    /** {@return the warning line, e.g. {@code "WARNING: possible circular locking dependency detected"}} */
    public String title() {
        return title;
    }

    /**
     * Returns the lock classes involved. For {@link Kind#CIRCULAR}: the cycle, starting with the
     * class being acquired and ending with the held class it would wait on (the dependency
     * chain {@code next -> ... -> prev}). For {@link Kind#RECURSIVE}: the held class and the
     * class being acquired. Otherwise the single class concerned (empty for CAPACITY).
     *
     * <p>A class prints as its key's name, with {@code /subclass} for a subclass; a key whose
     * name another live key had first prints as {@code name#n} (the kernel's name version:
     * {@code M}, then {@code M#2}), so that classes of one name can be told apart.
     *
     * @return the class names, in the order described above
     */
    public List<String> classes() {
        return classes;
    }

    /** {@return the locks the reporting thread held, one {@code "(class){+.+.}, at: frame"} each} */
    public List<String> heldLocks() {
        return heldLocks;
    }

    /** {@return the name of the thread that triggered the report} */
    public String threadName() {
        return threadName;
    }

    /**
     * Returns whether this report comes from a latent wait added when its queue was first used
     * ({@code FlushAnnotation.DEFER_UNTIL_USED}): the thread, the held locks and the stacks are
     * those of the original flush, drain or destroy. Such a report is never thrown.
     *
     * @return true for a deferred report
     */
    public boolean deferred() {
        return deferred;
    }

    /** {@return the full report in the kernel's layout} */
    public String text() {
        return text;
    }

    /** {@return a one-line summary: the kind and the classes} */
    public String summary() {
        return kind + " " + String.join(" -> ", classes);
    }

    /**
     * Identity used by {@link ReportPolicy#WARN} to report each distinct problem once. Built
     * from the classes themselves, not their names: two classes of one name (two keys named
     * alike, two queues of one name) are two problems, as in the kernel, whose classes are per
     * key. A cycle is the same cycle from whichever of its edges it is met: its classes are
     * rotated to start at the smallest identity. An assertion's expectation and a leak's site
     * (the identities of the item's class and its queue's) are part of it: a failed
     * {@code assertNotHeld()} after a failed {@code assertHeld()} of the same class, or an item
     * of another class or queue leaking the same lock, is another problem (the kernel prints each {@code lockdep_assert_held*()} warning and each leak).
     */
    String signature() {
        List<String> c = identities;
        if (kind == Kind.CIRCULAR && !c.isEmpty()) {
            int min = 0;
            for (int i = 1; i < c.size(); i++) {
                if (c.get(i).compareTo(c.get(min)) < 0) {
                    min = i;
                }
            }
            java.util.List<String> rotated = new java.util.ArrayList<>(c.subList(min, c.size()));
            rotated.addAll(c.subList(0, min));
            c = rotated;
        }
        return kind + ":" + detail + "\u0000" + String.join("\u0000", c);
    }

    @Override
    public String toString() {
        return text;
    }
}
