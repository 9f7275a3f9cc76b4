package org.workqueue4j.agent;

import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepStats;

/**
 * The entry point of {@code -javaagent:workqueue4j-agent.jar[=options]}: turns lock dependency
 * validation on for the whole JVM. See {@link AgentOptions} for the options and the README's
 * "Validating an unmodified application" section for what is seen and how lock classes are named.
 *
 * <p>Start-up: parse the options, build the JVM-wide {@link Lockdep} (reports go to the
 * {@code out=} sink), open {@code java.util.concurrent.locks} to the agent (to tell a read
 * lock and a write lock of one {@code ReentrantReadWriteLock} apart from two locks, and to find
 * the lock of a {@code Condition}), then register the class transformer. Classes loaded from
 * then on are instrumented as they load. When attached to a running JVM ({@code agentmain}),
 * already-loaded application classes are retransformed too, except their synchronized methods
 * (see {@link LockTransformer}).
 */
public final class LockdepAgent {
    private static volatile Lockdep validator;
    private static volatile FlushAnnotation flush = FlushAnnotation.SKIP_NEVER_USED;

    private LockdepAgent() {
    }

    /**
     * Called by the JVM for {@code -javaagent:}.
     *
     * @param args the option string (see {@link AgentOptions}); may be null
     * @param inst the instrumentation service
     * @throws IllegalArgumentException on a bad option (the JVM then does not start)
     */
    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    /**
     * Called when the agent is attached to a running JVM.
     *
     * @param args the option string (see {@link AgentOptions}); may be null
     * @param inst the instrumentation service
     * @throws IllegalArgumentException on a bad option
     */
    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    private static synchronized void start(String args, Instrumentation inst, boolean attached) {
        if (validator != null) {
            System.err.println("workqueue4j-agent: already running; options '" + args + "' ignored");
            return;
        }
        AgentOptions options = AgentOptions.parse(args);
        ReportSink sink = new ReportSink(options.out);
        flush = options.flush;
        validator = Lockdep.builder().policy(options.policy).quiet().listener(r -> sink.write(r.text())).build();
        openLocksPackage(inst, sink);
        LockTransformer transformer = new LockTransformer(options, sink::write, inst);
        inst.addTransformer(transformer, true);
        // Attached late: every loaded class the options instrument. At start-up too, the patched
        // library classes already loaded: the validator's builder above loads lockdep.Frames (it
        // initializes the classes a first lock operation would), before this transformer existed.
        retransformLoaded(inst, options, sink, !attached);
        if (options.stats) {
            Lockdep v = validator;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> sink.write(summary(v)), "workqueue4j-agent-stats"));
        }
    }

    /** The validator, for {@link Hooks}; set before any class is instrumented. */
    static Lockdep validator() {
        Lockdep v = validator;
        if (v == null) {
            throw new IllegalStateException("workqueue4j-agent: hooks called before the agent started");
        }
        return v;
    }

    static FlushAnnotation flushAnnotation() {
        return flush;
    }

    /** One line of counters, printed at exit with {@code stats=true}. */
    static String summary(Lockdep v) {
        LockdepStats s = v.stats();
        return "workqueue4j-agent: classes=" + s.classes() + " edges=" + s.edges() + " chains=" + s.chains()
                + " chainHits=" + s.chainHits() + " chainMisses=" + s.chainMisses() + " reports=" + v.reportCount()
                + " sites=" + Sites.count();
    }

    private static void openLocksPackage(Instrumentation inst, ReportSink sink) {
        Module base = Object.class.getModule();
        Module agent = LockdepAgent.class.getModule();
        try {
            inst.redefineModule(base, Set.of(), Map.of(), Map.of("java.util.concurrent.locks", Set.of(agent)),
                    Set.of(), Map.of());
        } catch (RuntimeException e) {
            sink.write("workqueue4j-agent: cannot open java.util.concurrent.locks (" + e
                    + "); read/write pairs and conditions are tracked per object");
        }
    }

    /**
     * Retransforms the loaded classes the options instrument and the patched library classes
     * ({@link LibraryPatch}), or with {@code patchedOnly} the patched library classes alone.
     */
    private static void retransformLoaded(Instrumentation inst, AgentOptions options, ReportSink sink, boolean patchedOnly) {
        List<Class<?>> targets = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            String internalName = c.getName().replace('.', '/');
            // The two patched library classes too (LibraryPatch): the instrumentation options
            // exclude the library, but a WorkQueuesConfig loaded before the attach must still
            // hand the runtimes built after it the agent's validator and flush policy.
            boolean patched = internalName.equals(LibraryPatch.CONFIG) || internalName.equals(LibraryPatch.FRAMES);
            if (c.getClassLoader() != null && !c.isArray() && inst.isModifiableClass(c)
                    && (patched || (!patchedOnly && options.instruments(internalName)))) {
                targets.add(c);
            }
        }
        if (targets.isEmpty()) {
            return;
        }
        try {
            inst.retransformClasses(targets.toArray(new Class<?>[0]));
        } catch (Exception | LinkageError e) {
            sink.write("workqueue4j-agent: retransforming loaded classes failed: " + e);
        }
    }
}
