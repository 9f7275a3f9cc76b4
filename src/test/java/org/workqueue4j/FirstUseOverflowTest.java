package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
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
 * {@code NoClassDefFoundError: Could not initialize class org.workqueue4j.internal.Worker}.
 */
class FirstUseOverflowTest {
    @Test
    @DisplayName("an overflow at a queue's first use of the engine classes leaves the library usable")
    void anOverflowAtTheFirstUseLeavesTheLibraryUsable() throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xss1m", "-cp", System.getProperty("java.class.path"),
                FirstUseOverflowChild.class.getName()).redirectErrorStream(true).start();
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
