package org.workqueue4j.jmh;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;

/**
 * Cold start, one fresh JVM per measurement (JMH cannot fork per single shot cheaply enough to
 * include class loading of the library, which is the point): the time from
 * {@code WorkQueues.create()} to the end of the first item, and to the return of the first
 * {@code flush()}, beside a {@code ThreadPoolExecutor}'s first task (construction to the task's
 * end, and to {@code Future.get()}'s return).
 *
 * <pre>
 * java -Dwq.jar=target/workqueue4j-0.1.0-SNAPSHOT.jar -cp jmh/target/benchmarks.jar org.workqueue4j.jmh.ColdStart 30
 * </pre>
 *
 * runs 30 fresh JVMs per side, alternating, and prints the medians and the ratio (target: wq ≤ 2× TPE).
 * {@code -Dwq.jar} puts the library's own jar first on the children's class path (as a Maven
 * dependency is); without it the library's classes load from this shaded jar.
 * {@code ColdStart wq} or {@code ColdStart tpe} is one measurement in this JVM (the child's job).
 *
 * <p>Fair by construction: both children are the same command (same JVM, flags and class path:
 * this shaded jar, already open when {@code main} runs), the clock starts after the JVM's own
 * start-up and before the first library (or {@code ThreadPoolExecutor}) class is touched, so the
 * library's class loading counts; each side runs one user lambda, so each pays the JVM's first
 * lambda bootstrap once; neither side's shutdown is timed. On a machine shared with other work
 * the medians move a lot from run to run; compare the two sides of one run only.
 */
public final class ColdStart {
    private ColdStart() {
    }

    /**
     * Runs the driver (argument: number of JVMs per side) or one measurement ({@code wq}/{@code tpe}).
     *
     * @param args {@code <runs>} or {@code wq} or {@code tpe}
     * @throws Exception if a child JVM cannot be run
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("wq")) {
            long t0 = System.nanoTime();
            long[] end = new long[1];
            try (WorkQueues rt = WorkQueues.create()) {
                WorkQueue q = rt.system();
                q.queue(new Work("first", () -> end[0] = System.nanoTime()));
                q.flush();
                long flushed = System.nanoTime();
                System.out.println("RESULT " + (end[0] - t0) + " " + (flushed - t0));
            }
            return;
        }
        if (args.length == 1 && args[0].equals("tpe")) {
            long t0 = System.nanoTime();
            long[] end = new long[1];
            ThreadPoolExecutor tpe = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
            Future<?> f = tpe.submit(() -> {
                end[0] = System.nanoTime();
            });
            f.get();
            long got = System.nanoTime();
            System.out.println("RESULT " + (end[0] - t0) + " " + (got - t0));
            tpe.shutdown();
            return;
        }
        int runs = args.length == 0 ? 20 : Integer.parseInt(args[0]);
        List<long[]> wq = new ArrayList<>();
        List<long[]> tpe = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            wq.add(child("wq"));
            tpe.add(child("tpe"));
        }
        long wqItem = median(wq, 0);
        long wqFlush = median(wq, 1);
        long tpeTask = median(tpe, 0);
        long tpeGet = median(tpe, 1);
        System.out.printf("cold start, median of %d fresh JVMs each (ms):%n", runs);
        System.out.printf("  workqueue4j  create() -> first item end %.2f   -> first flush() return %.2f%n",
                wqItem / 1e6, wqFlush / 1e6);
        System.out.printf("  TPE          new      -> first task end %.2f   -> Future.get() return  %.2f%n",
                tpeTask / 1e6, tpeGet / 1e6);
        System.out.printf("  ratio wq/TPE: item %.2f, flush %.2f (target <= 2)%n",
                (double) wqItem / tpeTask, (double) wqFlush / tpeGet);
    }

    private static long[] child(String mode) throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        // -Dwq.jar=<the library's own jar>: first on the children's class path, so the library's
        // classes load from the jar users depend on (stored entries), not from this shaded jar
        // (which recompresses them); both sides get the same class path.
        String lib = System.getProperty("wq.jar");
        String cp = (lib == null ? "" : lib + System.getProperty("path.separator")) + System.getProperty("java.class.path");
        Process p = new ProcessBuilder(java, "-cp", cp, ColdStart.class.getName(), mode)
                .redirectErrorStream(true).start();
        long[] r = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    String[] f = line.split(" ");
                    r = new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])};
                }
            }
        }
        if (p.waitFor() != 0 || r == null) {
            throw new IllegalStateException("child '" + mode + "' failed (exit " + p.exitValue() + ")");
        }
        return r;
    }

    private static long median(List<long[]> rs, int i) {
        List<Long> v = new ArrayList<>();
        for (long[] r : rs) {
            v.add(r[i]);
        }
        Collections.sort(v);
        return v.get(v.size() / 2);
    }
}
