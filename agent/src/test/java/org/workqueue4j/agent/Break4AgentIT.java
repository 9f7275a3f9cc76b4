package org.workqueue4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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
                // LockdepReport.classes(): the class being acquired first (ledger, refused under THROW), then the held one
                .contains("conditional-construction: refused CIRCULAR samples.FactoryLockSample.ledger"
                        + " -> samples.FactoryLockSample$Vault.lock");
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

    // The same for include=: a glob (include=samples.*, as many tools spell package filters)
    // is no package prefix; it is accepted and instruments nothing, silently.
    @Test
    void anIncludeThatIsAGlobIsRefusedOrMatchesThePackage() throws Exception {
        SampleRun r = SampleRun.run("samples.AbbaSample", "include=samples.*,stats=true", List.of());
        boolean refused = r.exitCode != 0 && r.stderr.contains("samples.*");
        boolean seen = r.stderr.contains(CIRCULAR);
        assertThat(refused || seen)
                .as("expected include=samples.* to be refused at start-up naming it, or to instrument package"
                        + " samples (the ABBA reported); actual:\n" + r)
                .isTrue();
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

    // README rule 1 again, for a lock built by code the agent does not instrument and first
    // taken with a timed tryLock (its call site is not searched for the field it reads).
    @Test
    void aLockFirstTakenWithATimedTryLockIsNamedAfterItsField() throws Exception {
        SampleRun r = SampleRun.run("samples.TimedTryLockSample", "policy=THROW,exclude=samples.excluded", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout.lines().toList())
                .as("expected the cycle to name the field class samples.TimedTryLockSample.store; actual:\n" + r)
                .contains("timed-trylock-field: refused CIRCULAR samples.TimedTryLockSample.store"
                        + " -> samples.TimedTryLockSample.index");
    }

    // A timed tryLock with no time to wait does not wait at all: recorded as a trylock (no
    // dependency, never refused), as ValidatedLock records it; a positive time is still validated
    // as a blocking acquisition.
    @Test
    void aZeroTimeTryLockInTheReverseOrderIsATrylock() throws Exception {
        SampleRun r = SampleRun.run("samples.ZeroTimeTryLockSample", "policy=THROW", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).as(r.toString()).contains("zero-time poll: taken")
                .contains("timed attempt: refused CIRCULAR");
    }

    // A class with one method near the 64 KB limit: the instrumentation of that method no longer
    // fits, but the class's other methods (an ABBA) must still be seen.
    @Test
    void aMethodNearThe64KbLimitDoesNotHideTheRestOfItsClass() throws Exception {
        SampleRun r = SampleRun.run("samples.BigMethodSample", "policy=WARN", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).contains("done, count 2202");
        assertThat(r.stderr)
                .as("expected the LEFT/RIGHT ABBA of leftThenRight/rightThenLeft to be reported; actual:\n" + r)
                .contains(CIRCULAR)
                .contains("samples.BigMethodSample.rightThenLeft(BigMethodSample.java:");
    }

    // Behaviour preservation and held-lock balance: a StackOverflowError thrown through
    // synchronized methods must reach the caller as a StackOverflowError (the JVM releases an
    // ACC_SYNCHRONIZED method's monitor on any exit), and main, which holds nothing afterwards,
    // must not be reported as holding the class monitor. Intermittent: the error has to strike
    // inside the rewritten method's exit path.
    @Test
    void aStackOverflowThroughSynchronizedMethodsStaysAStackOverflowAndLeavesNothingHeld() throws Exception {
        SampleRun plain = SampleRun.run("samples.DeepRecursionSample", null, List.of("-Xss512k"));
        SampleRun r = SampleRun.run("samples.DeepRecursionSample", "policy=WARN", List.of("-Xss512k"));
        assertThat(plain.stdout).doesNotContain("IllegalMonitorStateException");
        assertThat(r.stdout)
                .as("expected only StackOverflowError, as without the agent; actual:\n" + r)
                .isEqualTo(plain.stdout);
        assertThat(r.stderr)
                .as("expected no report (main holds no monitor after the overflow); actual:\n" + r)
                .doesNotContain("WARNING");
    }

    // Behaviour preservation: a StackOverflowError inside a synchronized block. javac's
    // catch-any handler of a block covers itself (it retries monitorexit); with a hook call
    // before that monitorexit needing more stack than is left, the handler overflows again and
    // again: the thread spins at the block's closing line forever. Without the agent every
    // round ends with the StackOverflowError. Intermittent (JIT-dependent).
    @Test
    void aStackOverflowThroughASynchronizedBlockDoesNotSpinForever() throws Exception {
        SampleRun plain = SampleRun.run("samples.BlockOverflowSample", null, List.of());
        SampleRun r = SampleRun.run("samples.BlockOverflowSample", "policy=WARN", List.of());
        String dots = "rounds " + ".".repeat(200);
        assertThat(plain.stdout).as(plain.toString()).contains(dots);
        assertThat(r.stdout)
                .as("expected 200 rounds each ending in a StackOverflowError, then done; actual:\n" + r)
                .contains(dots)
                .contains("done")
                .doesNotContain("still running");
    }

    // A class with a synchronized method, instrumented as it loaded, is retransformed by the
    // program's own tooling (profiler, mocking library, debugger hot swap): without the agent it
    // works; with it, the re-run transformer hands back the original ACC_SYNCHRONIZED flag.
    @Test
    void aClassWithASynchronizedMethodCanStillBeRetransformed() throws Exception {
        List<String> jvm = List.of("-Djdk.attach.allowAttachSelf=true");
        SampleRun plain = SampleRun.run("samples.RetransformSample", null, jvm);
        SampleRun r = SampleRun.run("samples.RetransformSample", "", jvm);
        assertThat(plain.stdout).as(plain.toString()).contains("retransformed");
        assertThat(r.stdout)
                .as("expected the retransformation to succeed as without the agent; actual:\n" + r)
                .contains("retransformed")
                .doesNotContain("retransform failed");
    }

    // Behaviour preservation: removing ACC_SYNCHRONIZED (README: Modifier.isSynchronized reads
    // false) also changes the default serialVersionUID of a Serializable class, so data
    // serialized by a JVM without the agent no longer deserializes in one with it.
    @Test
    void dataSerializedWithoutTheAgentStillDeserializesWithIt() throws Exception {
        Path file = Files.createTempFile("cart", ".ser");
        try {
            SampleRun writer = SampleRun.run("samples.SerialSample", null, List.of(), "write", file.toString());
            assertThat(writer.stdout).as(writer.toString()).contains("written");
            SampleRun reader = SampleRun.run("samples.SerialSample", "", List.of(), "read", file.toString());
            assertThat(reader.stdout)
                    .as("expected the same serialVersionUID and a successful read; without the agent:\n"
                            + writer.stdout + "with it:\n" + reader)
                    .contains("read, hits 2")
                    .contains(writer.stdout.lines().findFirst().orElseThrow());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    // README: include= names "package prefixes to instrument"; the default is "every class
    // outside the JDK". javax.* packages that ship as class-path jars (javax.servlet,
    // javax.inject, ...) are not the JDK, yet an explicit include of one is silently ignored.
    @Test
    void anExplicitlyIncludedJavaxLibraryOnTheClassPathIsInstrumented() throws Exception {
        SampleRun r = SampleRun.run("samples.JavaxLibrarySample", "include=javax.demoapi,policy=WARN", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).contains("poll 2");
        assertThat(r.stderr)
                .as("expected the Registry/Listener ABBA to be reported (or the include refused at start-up);"
                        + " actual:\n" + r)
                .contains(CIRCULAR)
                .contains("javax.demoapi.Registry$Listener");
    }

    // Bytecode shapes: a synchronized method whose dead parameter slot is reused for an int
    // (valid bytecode, as optimizers and shrinkers emit it). The rewritten method's catch-any
    // handler declares the parameters' types for the whole body.
    @Test
    void aSynchronizedMethodThatReusesAParameterSlotStillVerifies() throws Exception {
        Path dir = SlotReuseClasses.writeReusedParameter(Files.createTempDirectory("reused-slot"));
        String plain = SampleRun.runWith(dir, "samples.ReusedSlotSample", null).output();
        String with = SampleRun.runWith(dir, "samples.ReusedSlotSample", "").output();
        assertThat(plain).contains("reused: f=3 g=4");
        assertThat(with)
                .as("expected the class to verify and run as without the agent (reused: f=3 g=4); actual:\n" + with)
                .contains("reused: f=3 g=4");
    }

    // As above at a third of the limit: a 23 KB method whose loop and branch span it. The class
    // is left uninstrumented ("LimitExceededException: Too many operations" while ASM widens the
    // jumps), so the ABBA of its two small methods is not seen.
    @Test
    void aMethodWithABranchSpanning23KbDoesNotHideTheRestOfItsClass() throws Exception {
        SampleRun r = SampleRun.run("samples.FarBranchSample", "policy=WARN", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).contains("done, count 1602");
        assertThat(r.stderr)
                .as("expected the LEFT/RIGHT ABBA of leftThenRight/rightThenLeft to be reported; actual:\n" + r)
                .contains(CIRCULAR)
                .contains("samples.FarBranchSample.rightThenLeft(FarBranchSample.java:");
    }

    // ---- what held (regression checks)

    @Test
    void synchronizedShapesBehaveAsWithoutTheAgentAndAreSilent() throws Exception {
        SampleRun plain = SampleRun.run("samples.ShapesSample", null, List.of());
        SampleRun r = SampleRun.run("samples.ShapesSample", "policy=WARN,stats=true", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).as(r.toString()).isEqualTo(plain.stdout);
        assertThat(r.stderr).as(r.toString()).doesNotContain("WARNING").doesNotContain("uninstrumented");
        assertThat(r.stats()[0]).as("classes seen").isGreaterThan(5);
    }

    @Test
    void failedInterruptedAndWaitingAcquisitionsKeepTheHeldLocksBalanced() throws Exception {
        SampleRun plain = SampleRun.run("samples.JucBookkeepingSample", null, List.of());
        SampleRun r = SampleRun.run("samples.JucBookkeepingSample", "policy=WARN,stats=true", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).as(r.toString()).isEqualTo(plain.stdout);
        assertThat(r.stderr).as(r.toString()).doesNotContain("WARNING");
        assertThat(r.stats()[1]).as("edges: b -> a, b -> rw, b -> mon").isEqualTo(3);
    }

    @Test
    void aThreeClassRingClosedByALateLoadedClassIsReported() throws Exception {
        SampleRun r = SampleRun.run("samples.CycleSample", "policy=WARN", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stderr).as(r.toString())
                .contains(CIRCULAR)
                .contains("samples.CycleSample$Alpha --> samples.CycleSample$Beta --> samples.CycleGamma")
                .contains("samples.CycleGamma.toAlpha(CycleSample.java:59)");
    }

    @Test
    void aTryLockOnAStripeOfTheSameClassIsNotRefusedUnderThrow() throws Exception {
        SampleRun r = SampleRun.run("samples.TryLockThrowSample", "policy=THROW", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).as(r.toString()).contains("trylock: taken").contains("stripe 1 held after: false, hold count 0");
    }

    @Test
    void aRealAbbaRaceIsRefusedBeforeBlockingUnderThrow() throws Exception {
        for (String kind : List.of("monitor", "lock")) {
            SampleRun r = SampleRun.run("samples.RaceAbbaSample", "policy=THROW", List.of(), kind);
            assertThat(r.stdout).as(kind + ": " + r).contains("ended, refused 1, finished 1");
        }
    }
}
