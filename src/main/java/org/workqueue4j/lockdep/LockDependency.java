package org.workqueue4j.lockdep;

import java.util.List;

/**
 * An edge {@code from -> to} of the dependency graph (the kernel's {@code lock_list}): {@code to}
 * was acquired while {@code from} was held. Carries the stack trace of the first such
 * acquisition and the dependency-type bits, all four kinds seen so far OR-ed together.
 */
final class LockDependency {

    /** Shared (reader) holder, recursive-reader acquirer: {@code -(SR)->}. */
    static final int SR = 1;
    /** Exclusive holder, recursive-reader acquirer: {@code -(ER)->}. */
    static final int ER = 2;
    /** Shared holder, non-recursive acquirer: {@code -(SN)->}. */
    static final int SN = 4;
    /** Exclusive holder, non-recursive acquirer: {@code -(EN)->}. */
    static final int EN = 8;

    final LockClass from;
    final LockClass to;
    final List<String> trace;
    /** Dependency bits; guarded by the graph lock. */
    int dep;

    LockDependency(LockClass from, LockClass to, int dep, List<String> trace) {
        this.from = from;
        this.to = to;
        this.dep = dep;
        this.trace = trace;
    }

    /** The kernel's {@code calc_dep()}: the bit for a holder in {@code held} mode acquiring in {@code next} mode. */
    static int calcDep(AcquireMode held, AcquireMode next) {
        boolean shared = held.isRead();
        boolean recursive = next == AcquireMode.RECURSIVE_READ;
        if (shared) {
            return recursive ? SR : SN;
        }
        return recursive ? ER : EN;
    }

    @Override
    public String toString() {
        return from + " -(" + dep + ")-> " + to;
    }
}
