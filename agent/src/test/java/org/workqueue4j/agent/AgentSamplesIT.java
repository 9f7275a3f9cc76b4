package org.workqueue4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Unmodified sample programs (package {@code samples}, compiled without any reference to the
 * agent) run in a forked JVM with {@code -javaagent:workqueue4j-agent.jar}; each has a known
 * verdict. Silent verdicts also check, through the exit statistics, that the agent did see the
 * program's locks (a silent run that saw nothing would prove nothing).
 */
class AgentSamplesIT {
    private static final String CIRCULAR = "WARNING: possible circular locking dependency detected";

    @Test
    void abbaBetweenSynchronizedMethodsOfTwoClassesIsReportedThoughItNeverDeadlocks() throws Exception {
        SampleRun r = SampleRun.run("samples.AbbaSample", "stats=true", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).contains("done, balance 10");
        assertThat(r.stderr).as(r.toString())
                .contains(CIRCULAR)
                .contains("(samples.AbbaSample$Account)")
                .contains("(samples.AbbaSample$Ledger)")
                // the source lines of the synchronized methods, through the instrumented code
                .contains("samples.AbbaSample$Ledger.audit(AbbaSample.java:31)")
                .contains("samples.AbbaSample$Ledger.record(AbbaSample.java:27)")
                .doesNotContain("org.workqueue4j.agent.Hooks");
        assertThat(r.stats()[5]).isEqualTo(1);
    }

    @Test
    void reportsGoToTheOutFileWhenOneIsGiven() throws Exception {
        Path file = Files.createTempFile("lockdep-reports", ".txt");
        try {
            SampleRun r = SampleRun.run("samples.AbbaSample", "out=" + file, List.of());
            assertThat(r.exitCode).as(r.toString()).isZero();
            assertThat(r.stderr).doesNotContain(CIRCULAR);
            assertThat(Files.readString(file)).contains(CIRCULAR).contains("(samples.AbbaSample$Ledger)");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void withoutTheAgentTheSameProgramIsSilent() throws Exception {
        SampleRun r = SampleRun.run("samples.AbbaSample", null, List.of());
        assertThat(r.exitCode).isZero();
        assertThat(r.stderr).doesNotContain(CIRCULAR);
    }

    @Test
    void flushInsideAMonitorTheQueuesItemsTakeThrowsBeforeBlockingUnderThrow() throws Exception {
        SampleRun r = secondFlushRefused("samples.FlushUnderMonitorSample", "cache-refresh");
        assertThat(r.stderr).as(r.toString())
                .contains("samples.FlushUnderMonitorSample.refreshWhileLocked(FlushUnderMonitorSample.java:29)");
    }

    @Test
    void aRuntimeConfiguredThroughTheBuilderIsValidatedToo() throws Exception {
        secondFlushRefused("samples.BuiltConfigSample", "app-refresh");
    }

    @Test
    void aLateAttachValidatesARuntimeBuiltAfterItWhenTheLibraryWasLoadedBefore() throws Exception {
        // WorkQueuesConfig is loaded before the attach: its default resolutions must be patched
        // by retransformation, or every runtime built after the attach has no validator.
        SampleRun r = SampleRun.runWithLibrary("samples.AttachConfigSample", List.of("-Djdk.attach.allowAttachSelf=true"),
                SampleRun.agentJar(), "policy=THROW");
        assertThat(r.stdout).as(r.toString()).contains("attached").contains("first refresh done")
                .doesNotContain("second refresh done");
        assertThat(r.stderr).as(r.toString())
                .doesNotContain("deadlocked")
                .contains(CIRCULAR)
                .contains("(samples.BuiltConfigSample.cacheLock)")
                .contains("Exception in thread \"main\" org.workqueue4j.lockdep.PotentialDeadlockException");
    }

    /** Runs a sample whose second flush, under the monitor its queue's item takes, must throw before blocking. */
    private static SampleRun secondFlushRefused(String sample, String queue) throws Exception {
        SampleRun r = SampleRun.run(sample, "policy=THROW", List.of());
        assertThat(r.stdout).contains("first refresh done").doesNotContain("second refresh done");
        assertThat(r.exitCode).as(r.toString()).isNotZero();
        assertThat(r.stderr).as(r.toString())
                .contains(CIRCULAR)
                .contains("(" + sample + ".cacheLock)")
                .contains("((wq_completion)" + queue + ")")
                .contains("Exception in thread \"main\" org.workqueue4j.lockdep.PotentialDeadlockException");
        return r;
    }

    @Test
    void readWriteLockUsedSafelyIsSilent() throws Exception {
        SampleRun r = SampleRun.run("samples.ReadWriteSample", "stats=true,policy=WARN", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stderr).as(r.toString()).doesNotContain("WARNING");
        long[] s = r.stats();
        assertThat(s[0]).as("classes: the read/write lock and the stats lock").isEqualTo(2);
        assertThat(s[1]).as("edges: rw -> stats").isEqualTo(1);
        assertThat(s[5]).as("reports").isZero();
    }

    @Test
    void waitNotifyAndConditionHandshakesAreSilent() throws Exception {
        SampleRun r = SampleRun.run("samples.WaitNotifySample", "stats=true,policy=WARN", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).contains("done, sums 19900 19900, logged 800");
        assertThat(r.stderr).as(r.toString()).doesNotContain("WARNING");
        long[] s = r.stats();
        assertThat(s[0]).as("classes: Mailbox, Slot.lock, LOG").isEqualTo(3);
        assertThat(s[1]).as("edges: Mailbox -> LOG, Slot.lock -> LOG").isEqualTo(2);
        assertThat(s[5]).as("reports").isZero();
    }

    @Test
    void tenThousandMonitorsOfOneClassInAFixedOrderAreSilentWithBoundedState() throws Exception {
        List<String> smallHeap = List.of("-Xmx48m");
        SampleRun few = SampleRun.run("samples.ManyMonitorsSample", "stats=true,policy=WARN", smallHeap, "10", "2");
        SampleRun many = SampleRun.run("samples.ManyMonitorsSample", "stats=true,policy=WARN", smallHeap, "10000", "20");
        assertThat(many.exitCode).as(many.toString()).isZero();
        assertThat(many.stdout).contains("done, 10000 accounts x 20 rounds");
        assertThat(many.stderr).as(many.toString()).doesNotContain("WARNING");
        long[] f = few.stats();
        long[] m = many.stats();
        // classes, edges and chains of 2x10 objects and of 20x10^4 objects are the same
        assertThat(new long[] {m[0], m[1], m[2]}).isEqualTo(new long[] {f[0], f[1], f[2]});
        assertThat(m[0]).as("classes: the bank field and Account").isEqualTo(2);
        assertThat(m[3]).as("chain-cache hits: the fast path served the repeats").isGreaterThan(390_000);
        assertThat(m[5]).as("reports").isZero();
    }

    @Test
    void eachRuleHasItsVerdictUnderThrow() throws Exception {
        SampleRun r = SampleRun.run("samples.RulesSample", "policy=THROW", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout.lines()).as(r.toString()).containsExactly(
                "exit-by-exception: ok",
                "upgrade: refused RECURSIVE samples.RulesSample.rw -> samples.RulesSample.rw",
                "trylock: ok",
                "merged: refused RECURSIVE samples.bucket -> samples.bucket",
                "split: ok",
                "method-then-block: ok",
                "block-then-method: refused CIRCULAR samples.RulesSample -> samples.RulesSample.journal",
                "wait-under-inner-lock: refused CIRCULAR samples.RulesSample.waitOuter -> samples.RulesSample.waitInner",
                "monitor-of-a-lock: ok");
        // the refused re-acquisition after the wait is not followed by a bad-unlock report
        assertThat(r.stderr).as(r.toString()).doesNotContain("bad unlock balance");
    }

    @Test
    void aBadOptionStopsTheJvmNamingIt() throws Exception {
        SampleRun r = SampleRun.run("samples.Hello", "policy=LOUD", List.of("-XX:-CreateCoredumpOnCrash"));
        assertThat(r.exitCode).as(r.toString()).isNotZero();
        assertThat(r.stdout).doesNotContain("hello");
        assertThat(r.stderr).contains("workqueue4j-agent: option policy=LOUD is not one of [WARN_ONCE, WARN, THROW]");
    }

    @Test
    void attachingToARunningJvmRetransformsTheClassesAlreadyLoaded() throws Exception {
        SampleRun r = SampleRun.run("samples.AttachSample", null, List.of("-Djdk.attach.allowAttachSelf=true"),
                SampleRun.agentJar(), "stats=true");
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout).contains("attached");
        assertThat(r.stderr).as(r.toString())
                .contains(CIRCULAR)
                .contains("(samples.AttachSample$Orders.left)")
                .contains("(samples.AttachSample$Orders.right)")
                .contains("samples.AttachSample$Orders.rightThenLeft(AttachSample.java:");
    }

    @Test
    void theFlushOptionDecidesWhetherFlushingANeverUsedQueueIsAnnotated() throws Exception {
        SampleRun skip = SampleRun.run("samples.FlushPolicySample", "stats=true", List.of());
        SampleRun always = SampleRun.run("samples.FlushPolicySample", "stats=true,flush=ALWAYS", List.of());
        assertThat(skip.stdout).contains("flushed");
        assertThat(always.stdout).contains("flushed");
        assertThat(skip.stats()[1]).as("edges with flush=SKIP_NEVER_USED: " + skip).isZero();
        assertThat(always.stats()[1]).as("edges with flush=ALWAYS (registry -> queue): " + always).isEqualTo(1);
    }

    @Test
    void theStructuredReportsAreTheDefaultConfigsValidators() throws Exception {
        SampleRun r = SampleRun.run("samples.ReportsApiSample", "policy=WARN", List.of());
        assertThat(r.exitCode).as(r.toString()).isZero();
        assertThat(r.stdout.lines().filter(l -> l.startsWith("report: ")))
                .as(r.toString())
                .singleElement().asString()
                .startsWith("report: CIRCULAR samples.ReportsApiSample.index -> samples.ReportsApiSample.journal held [")
                .contains("(samples.ReportsApiSample.journal){+.+.}, at: samples.ReportsApiSample.main(ReportsApiSample.java:24)");
    }
}
