package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * Issue 13, cold start: the first item's path (the {@code ColdStart} benchmark's sequence:
 * {@code create()}, {@code system()}, one item, its {@code flush()}) loads no class it does not
 * need. Each class from the library jar costs about half a millisecond while the JVM is cold;
 * with validation off (the default), no builder and no lockdep class is needed, nor a class
 * that only a rare path instantiates. Checked in a
 * fresh JVM ({@link ColdStartChild}) with {@code -Xlog:class+load}: the classes named here were
 * all loaded on that path before (commit 617b47f), and must not come back.
 */
class ColdStartClassesTest {
    /** Loaded on the first item's path before, not needed by it. */
    private static final List<String> NOT_ON_THE_PATH = List.of(
            "org.workqueue4j.WorkQueuesConfig$Builder", // defaults() needs no builder
            "org.workqueue4j.WorkQueue$Builder", // nor does a system queue
            "org.workqueue4j.FlushAnnotation", // asked for by a validator only
            "org.workqueue4j.lockdep.LockDependencyValidator", // no validator configured
            "org.workqueue4j.lockdep.DisabledValidator",
            "org.workqueue4j.lockdep.LockClassKey", // lock maps are made when a validator asks
            "org.workqueue4j.lockdep.LockMap",
            // A closed inbox's sentinel: a plain Object now, not an anonymous node subclass.
            "org.workqueue4j.internal.PoolWorkqueue$1",
            // The non-blocking flush's wait for a timer report: only that rare path makes one,
            // and the node's initializer no longer names it (its VarHandle is typed Object[]).
            "org.workqueue4j.internal.WorkNode$AfterFiring",
            // A flushAsync() future: its `new` in FlushColors made the verifier load it (and the
            // JDK's CompletableFuture and CompletionStage, below) to check it against its
            // superclass when the first flush linked FlushColors.
            "org.workqueue4j.internal.WaitRecordingFuture",
            "java.util.concurrent.CompletableFuture",
            "java.util.concurrent.CompletionStage");

    @Test
    void theFirstItemLoadsNoBuilderAndNoLockdepClassWithValidationOff() throws Exception {
        List<String> loaded = libraryClassesLoadedByTheFirstItem();
        assertThat(loaded).as("the child ran the sequence").contains("org.workqueue4j.WorkQueues", "org.workqueue4j.Work");
        assertThat(loaded).doesNotContainAnyElementsOf(NOT_ON_THE_PATH);
    }

    @Test
    void theMonitorLoadsTheRestOfTheFirstItemsPathWhileTheFirstQueueIsBuilt() throws Exception {
        // The first queue starts the monitor; the classes the first queue(), its item and its
        // flush() need are loaded on the monitor's thread while the caller is still busy (the
        // second core is otherwise idle then): by the time the caller queues, none is left.
        List<String> loadedByTheItem = libraryClassesLoaded(ColdStartPreloadChild.class, ColdStartPreloadChild.QUEUEING);
        // Left out: the queue's counters, which the monitor's own tick makes if it happens to
        // sample the first item running (its CPU time): timing, and on the monitor's thread.
        loadedByTheItem.remove("org.workqueue4j.internal.WqStats");
        assertThat(loadedByTheItem).as("library classes the first queue(), its item and its flush() loaded themselves")
                .isEmpty();
    }

    @Test
    void everyClassTheMonitorPreloadsExists() throws Exception {
        // The preload skips a class it cannot load without a word (jdk.jfr may be absent): a
        // renamed class would silently fall back on the caller's thread.
        assertThat(TestHooks.preloadedClasses()).isNotEmpty();
        for (String name : TestHooks.preloadedClasses()) {
            assertThat(Class.forName(name, false, getClass().getClassLoader())).as(name).isNotNull();
        }
    }

    /** The library classes the child loaded up to the first flush's return, in order. */
    private static List<String> libraryClassesLoadedByTheFirstItem() throws Exception {
        return libraryClassesLoaded(ColdStartChild.class, null);
    }

    /**
     * The library classes {@code child} loaded after printing {@code from} (from its start if null)
     * up to the first flush's return, in order; the child's own classes (its lambdas) left out.
     */
    private static List<String> libraryClassesLoaded(Class<?> child, String from) throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xlog:class+load=info", "-cp", System.getProperty("java.class.path"),
                child.getName()).redirectErrorStream(true).start();
        List<String> loaded = new ArrayList<>();
        boolean started = from == null;
        boolean done = false;
        List<String> output = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals(ColdStartChild.DONE)) {
                    done = true;
                } else if (line.equals(from)) {
                    started = true;
                } else if (started && !done && line.contains("[class,load]")) {
                    // [0.123s][info][class,load] org.workqueue4j.Work source: file:/...
                    String[] f = line.substring(line.indexOf("[class,load]") + "[class,load]".length()).trim().split(" ");
                    if ((f[0].startsWith("org.workqueue4j.") && !f[0].startsWith(child.getName()))
                            || (f[0].startsWith("java.util.concurrent.Completion") || f[0].equals("java.util.concurrent.CompletableFuture"))) {
                        loaded.add(f[0]);
                    }
                } else if (!line.contains("[class,load]")) {
                    output.add(line);
                }
            }
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("child JVM ended").isTrue();
        assertThat(p.exitValue()).as("child exit status; its output: " + output).isZero();
        assertThat(started).as("child printed " + from).isTrue();
        assertThat(done).as("child printed " + ColdStartChild.DONE).isTrue();
        return loaded;
    }
}
