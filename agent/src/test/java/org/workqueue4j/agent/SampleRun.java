package org.workqueue4j.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one unmodified sample program in a forked JVM, with or without the packaged agent, and
 * keeps its exit code and output. A run that does not end within a minute is killed and fails
 * the test (a sample that deadlocks is a wrong verdict, not a slow one).
 */
final class SampleRun {
    private static final Path JAR = Path.of(System.getProperty("agent.jar", "target/workqueue4j-agent.jar"));
    private static final String CLASSPATH = System.getProperty("samples.classpath", "target/test-classes");
    private static final Pattern STATS = Pattern.compile("workqueue4j-agent: classes=(\\d+) edges=(\\d+) chains=(\\d+)"
            + " chainHits=(\\d+) chainMisses=(\\d+) reports=(\\d+)");

    final int exitCode;
    final String stdout;
    final String stderr;

    private SampleRun(int exitCode, String stdout, String stderr) {
        this.exitCode = exitCode;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * @param agentOptions null to run without the agent, else the option string ("" for none)
     * @param jvmArgs extra JVM options (heap size)
     */
    static SampleRun run(String mainClass, String agentOptions, List<String> jvmArgs, String... args)
            throws IOException, InterruptedException {
        return run(mainClass, agentOptions, jvmArgs, CLASSPATH, args);
    }

    /**
     * As {@link #run(String, String, List, String...)} with the library on the application's own
     * class path too (from the agent jar, as an application that uses it would have it), loaded
     * before any agent attaches.
     */
    static SampleRun runWithLibrary(String mainClass, List<String> jvmArgs, String... args)
            throws IOException, InterruptedException {
        return run(mainClass, null, jvmArgs, CLASSPATH + java.io.File.pathSeparator + agentJar(), args);
    }

    /**
     * Runs {@code mainClass} on the samples' class path plus {@code extraDir} (classes a test
     * generated), with the agent when {@code agentOptions} is non-null.
     */
    static SampleRun runWith(Path extraDir, String mainClass, String agentOptions) throws IOException, InterruptedException {
        return run(mainClass, agentOptions, List.of(), CLASSPATH + java.io.File.pathSeparator + extraDir, new String[0]);
    }

    private static SampleRun run(String mainClass, String agentOptions, List<String> jvmArgs, String classpath,
                                 String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        if (agentOptions != null) {
            cmd.add("-javaagent:" + agentJar() + (agentOptions.isEmpty() ? "" : "=" + agentOptions));
        }
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("sample-out", ".txt");
        Path err = Files.createTempFile("sample-err", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(mainClass + " did not end within 60 s (deadlocked?); stderr:\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new SampleRun(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Returns the program's standard output, then its standard error. */
    String output() {
        return stdout + stderr;
    }

    /** Returns the absolute path of the packaged agent jar. */
    static String agentJar() {
        return JAR.toAbsolutePath().toString();
    }

    /** Returns the {@code stats=true} counters printed at exit: classes, edges, chains, hits, misses, reports. */
    long[] stats() {
        Matcher m = STATS.matcher(stderr);
        if (!m.find()) {
            throw new AssertionError("no agent statistics line in stderr:\n" + stderr);
        }
        long[] v = new long[6];
        for (int i = 0; i < v.length; i++) {
            v[i] = Long.parseLong(m.group(i + 1));
        }
        return v;
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
}
