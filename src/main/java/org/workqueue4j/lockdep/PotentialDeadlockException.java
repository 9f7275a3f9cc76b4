package org.workqueue4j.lockdep;

import java.util.Objects;

/**
 * Thrown by {@link LockDependencyValidator#acquire} under {@link ReportPolicy#THROW} when the
 * acquisition could deadlock. It is thrown before the caller blocks; the lock is not taken.
 *
 * <p>Its report is immutable; as any exception, publish it safely before another thread reads it.
 */
public class PotentialDeadlockException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient LockdepReport report;

    /**
     * Creates the exception for a report.
     *
     * @param report the report; not null
     */
    public PotentialDeadlockException(LockdepReport report) {
        super(Objects.requireNonNull(report, "report").title() + ": " + report.summary());
        this.report = report;
    }

    /** {@return the report, whose {@link LockdepReport#text()} is the full kernel-style splat} */
    public LockdepReport report() {
        return report;
    }
}
