package org.workqueue4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Unmodified sample programs (package {@code samples}) run in forked JVMs with the packaged
 * agent, each checking one thing the README promises about what the agent sees, how it names
 * lock classes, and that the program behaves as it does without the agent.
 */
class Break4AgentIT {
    private static final String CIRCULAR = "WARNING: possible circular locking dependency detected";

    // README rule 1: "a lock read from a field (synchronized (this.cache), ...) is of class Owner.field".
    // One field, read in the superclass and from a subclass method, is one lock: the ABBA
    // between it and a Journal must be reported.
    @Test
    void anInheritedFieldReadFromASubclassIsTheSameLockClass() throws Exception {
        SampleRun r = SampleRun.run("samples.InheritedFieldSample", "policy=WARN,stats=true", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).contains("done, entries 2");
        assertThat(r.stderr)
                .as("expected a circular report between the field Base.guard and Journal (the same monitor taken"
                        + " in both orders); actual output:\n" + r)
                .contains(CIRCULAR)
                .contains("samples.InheritedFieldSample$Journal");
    }

    // README rule 1 before rule 3: a lock read from a field is of class Owner.field, whatever
    // built it. Two fields filled by one factory method are two classes; a field filled by a
    // conditional expression is still its field's class.
    @Test
    void aLockReadFromAFieldIsNamedAfterTheFieldWhoeverConstructedIt() throws Exception {
        SampleRun r = SampleRun.run("samples.FactoryLockSample", "policy=THROW", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        List<String> lines = r.stdout.lines().toList();
        assertThat(lines)
                .as("expected two distinct fields (accounts, audit) nested without a report; actual:\n" + r)
                .contains("factory-fields-nested: ok");
        assertThat(lines)
                .as("expected the cycle to name the field class samples.FactoryLockSample$Vault.lock; actual:\n" + r)
                .contains("conditional-construction: refused CIRCULAR samples.FactoryLockSample$Vault.lock"
                        + " -> samples.FactoryLockSample.ledger");
    }

    // Synchronized methods of any class file the JVM loads must keep loading: a class compiled
    // for Java 1.4 (major 48, as old library jars on class paths are) with a static synchronized method.
    @Test
    void aJava14ClassFileWithAStaticSynchronizedMethodStillLoads() throws Exception {
        SampleRun plain = SampleRun.run("samples.OldClassFileSample", null, List.of(), "48");
        SampleRun r = SampleRun.run("samples.OldClassFileSample", "", List.of(), "48");
        assertThat(plain.stdout).contains("legacy 48: next=1 bump=1");
        assertThat(r.stdout)
                .as("expected the class to load and run as without the agent (" + plain.stdout.strip()
                        + "); actual:\n" + r)
                .contains("legacy 48: next=1 bump=1");
    }

    // README: stats takes `true`; a malformed option must stop the JVM naming it, as
    // policy=LOUD does, not be read silently as false.
    @Test
    void aStatsValueThatIsNotABooleanIsRefused() throws Exception {
        SampleRun r = SampleRun.run("samples.Hello", "stats=yes", List.of());
        assertThat(r.exitCode)
                .as("expected stats=yes to be refused at start-up (non-zero exit, message naming it); actual:\n" + r)
                .isNotZero();
        assertThat(r.stderr).contains("stats=yes");
    }

    // Held-lock bookkeeping: the lock-guard idiom releases through a method reference
    // (l::unlock). Main never holds two locks; a report naming 'stock' as held by main is false.
    @Test
    void aLockReleasedThroughAMethodReferenceIsNotHeldForever() throws Exception {
        SampleRun r = SampleRun.run("samples.LockGuardSample", "policy=WARN", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).contains("stock held after the guard: false").contains("done, level 3");
        assertThat(r.stderr)
                .as("expected no report (main holds one lock at a time; the JVM says stock is free);"
                        + " actual:\n" + r)
                .doesNotContain("WARNING");
    }

    // Behaviour preservation: a null lock or monitor throws the same NullPointerException
    // (message and throwing frame) with and without the agent.
    @Test
    void exceptionsOfNullLocksAndMonitorsAreUnchanged() throws Exception {
        SampleRun plain = SampleRun.run("samples.NullLockSample", null, List.of());
        SampleRun r = SampleRun.run("samples.NullLockSample", "", List.of());
        assertThat(plain.exitCode).as(plain.toString()).isZero();
        assertThat(r.stdout)
                .as("expected the same exceptions as without the agent:\n" + plain.stdout + "actual:\n" + r.stdout)
                .isEqualTo(plain.stdout);
    }
}
