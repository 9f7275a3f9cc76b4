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

/**
 * Issue 13, cold start: the first item's path (the {@code ColdStart} benchmark's sequence:
 * {@code create()}, {@code system()}, one item, its {@code flush()}) loads no class it does not
 * need. Each class from the library jar costs about half a millisecond while the JVM is cold;
 * with validation off (the default), no builder and no lockdep class is needed. Checked in a
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
            "org.workqueue4j.lockdep.LockMap");

    @Test
    void theFirstItemLoadsNoBuilderAndNoLockdepClassWithValidationOff() throws Exception {
        List<String> loaded = libraryClassesLoadedByTheFirstItem();
        assertThat(loaded).as("the child ran the sequence").contains("org.workqueue4j.WorkQueues", "org.workqueue4j.Work");
        assertThat(loaded).doesNotContainAnyElementsOf(NOT_ON_THE_PATH);
    }

    /** The library classes the child loaded up to the first flush's return, in order. */
    private static List<String> libraryClassesLoadedByTheFirstItem() throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xlog:class+load=info", "-cp", System.getProperty("java.class.path"),
                ColdStartChild.class.getName()).redirectErrorStream(true).start();
        List<String> loaded = new ArrayList<>();
        boolean done = false;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals(ColdStartChild.DONE)) {
                    done = true;
                } else if (!done && line.contains("[class,load]")) {
                    // [0.123s][info][class,load] org.workqueue4j.Work source: file:/...
                    String[] f = line.substring(line.indexOf("[class,load]") + "[class,load]".length()).trim().split(" ");
                    if (f[0].startsWith("org.workqueue4j.") && !f[0].equals(ColdStartChild.class.getName())) {
                        loaded.add(f[0]);
                    }
                }
            }
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("child JVM ended").isTrue();
        assertThat(p.exitValue()).as("child exit status").isZero();
        assertThat(done).as("child printed " + ColdStartChild.DONE).isTrue();
        return loaded;
    }
}
