package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A StackOverflowError that strikes a class's first initialization marks the class erroneous for
 * the JVM's life (JVMS §5.5): every later use throws {@code NoClassDefFoundError}. A caller's
 * first {@code queue()} after the runtime is built initialized {@code Worker} (its
 * {@code ThreadLocal} of the current worker, asked for to pick the caller's CPU): at the end of a
 * caller's stack, the overflow struck there, and no queue of any runtime in the JVM could be used
 * again. The engine classes an operation on a built runtime initializes on the caller's thread
 * now run no static initializer code. Checked in a fresh JVM ({@link FirstUseOverflowChild}), as
 * this one has initialized every class long before. Failed before the fix with the child's
 * {@code NoClassDefFoundError: Could not initialize class org.workqueue4j.internal.Worker}. The
 * lock validator's first uses likewise (its classes, and its first report).
 */
class FirstUseOverflowTest {
    @Test
    @DisplayName("an overflow at a queue's first use of the engine classes leaves the library usable")
    void anOverflowAtTheFirstUseLeavesTheLibraryUsable() throws Exception {
        runChild();
    }

    /*
     * The same for the lock validator: a validated lock's first lock() on a thread initialized
     * HeldLocks (its VarHandles), then Frames; at the end of a stack the overflow struck there,
     * and every validated lock of the JVM threw NoClassDefFoundError from then on. Lockdep's
     * builder initializes them now. Failed before with "Could not initialize class
     * org.workqueue4j.lockdep.HeldLocks" in the child.
     */
    @Test
    @DisplayName("an overflow at a validated lock's first use of the validator's classes leaves every validated lock usable")
    void anOverflowAtAValidatedLocksFirstUseLeavesTheValidatorUsable() throws Exception {
        runChild("lockdep");
    }

    /*
     * A lock-order cycle met first at the end of a stack (a -> b learnt, then b -> a at every
     * depth): the validator's slow path learnt b -> a and cached the chain, then the report's
     * first use of its classes overflowed, and the report was lost for good, every later b -> a
     * being a cache hit. Failed before with "ran 0 of 1" (no report; 118 cache misses and both
     * edges learnt in the run looked at). The slow path now probes the stack deep enough for the
     * check and its report before it changes anything (and a report that still cannot be
     * formatted is made short); the graph lock is taken behind the engine's stack probe.
     */
    @Test
    @DisplayName("a lock-order cycle first met at the end of a stack is still reported")
    void aCycleFirstMetAtTheEndOfAStackIsStillReported() throws Exception {
        runChild("lockdep-cycle");
    }

    /*
     * The operations the first child leaves out (disable/enable, timed and async waits, queueOn,
     * setMaxActive, freeze/thaw, destroy, the executor views), first used at the end of a stack.
     * Hung before (the child killed after 100 s): flushAsync's first CompletableFuture failed
     * its class initialization and ForkJoinPool's, for the JVM's life; every Condition wait of
     * the JVM then threw out with its lock released (the timer thread logged
     * IllegalMonitorStateException on every tick). Building a runtime initializes both now.
     */
    @Test
    @DisplayName("an overflow at the first use of the other operations and of the executor views leaves the library usable")
    void anOverflowAtTheFirstUseOfTheOtherOperationsLeavesTheLibraryUsable() throws Exception {
        runChild("more");
    }

    /*
     * The library's first log record written at the end of a stack (the default uncaught-work
     * handler logging an armed item that a destroy reports): the logger's holder looks up the
     * JDK's LoggerFinder and sets up java.util.logging in its class initialization, far deeper
     * than the caller; the overflow struck there and marked the holder failed for the JVM's life,
     * every later record going to System.err as "logging failed (NoClassDefFoundError ...)".
     */
    @Test
    @DisplayName("an overflow at the library's first log record leaves the logger usable")
    void anOverflowAtTheFirstLogRecordLeavesTheLoggerUsable() throws Exception {
        runChild("log");
    }

    /*
     * The JVM's first Work and DelayedWork made by a caller at the end of its stack, before any
     * runtime exists: the overflow must not strike inside an engine class's initialization.
     */
    @Test
    @DisplayName("an overflow at the JVM's first new Work leaves the library usable")
    void anOverflowAtTheFirstNewWorkLeavesTheLibraryUsable() throws Exception {
        runChild("work");
    }

    /*
     * The JVM's first contended wait on a java.util.concurrent lock, at the end of a stack, once
     * a runtime is built (a caller's queue() meeting a worker that holds its pool lock): the
     * wait's first node initialized the JDK's AbstractQueuedSynchronizer node classes there, the
     * overflow marked them failed, and every contended lock of the JVM, the engine's included,
     * threw NoClassDefFoundError from then on. Building a runtime (or a validator) initializes
     * them now.
     */
    @Test
    @DisplayName("an overflow at the JVM's first contended lock wait leaves every lock usable")
    void anOverflowAtTheFirstContendedLockWaitLeavesTheLocksUsable() throws Exception {
        runChild("contended");
    }

    private static void runChild(String... args) throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xss1m", "-XX:MaxJavaStackTraceDepth=64", "-cp", System.getProperty("java.class.path"),
                FirstUseOverflowChild.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("child JVM ended").isTrue();
        String output = out.toString(StandardCharsets.UTF_8);
        assertThat(output).as("child output").contains(FirstUseOverflowChild.OK);
        assertThat(p.exitValue()).as("child exit status; its output: " + output).isZero();
    }
}
