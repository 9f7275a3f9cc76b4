package org.workqueue4j.agent;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.lockdep.ReportPolicy;

/**
 * The agent's options, parsed from the {@code -javaagent:workqueue4j-agent.jar=OPTIONS} string:
 * {@code key=value} pairs separated by {@code ,}; list values separated by {@code :}.
 *
 * <pre>
 *   include=com.acme:org.example   package prefixes to instrument (default: every class outside the JDK and the library;
 *                                  com.acme.* means com.acme; an include under javax or com.sun is honoured)
 *   exclude=com.acme.generated     package prefixes not to instrument (default: none)
 *   policy=WARN_ONCE|WARN|THROW    report policy of the validator (default WARN_ONCE)
 *   flush=SKIP_NEVER_USED|ALWAYS   flush-annotation policy of the default runtime config (default SKIP_NEVER_USED)
 *   out=stderr|PATH                where reports go: standard error (default) or appended to a file
 *   stats=true|false               print the validator's counters when the JVM exits (default false)
 * </pre>
 */
final class AgentOptions {

    /**
     * Package prefixes never instrumented, in internal form: the JDK, the library's engine and
     * validator, and the agent itself. (Classes directly in {@code org.workqueue4j}, the
     * library's API, are excluded by {@link #instruments}; other {@code org.workqueue4j.*}
     * packages, such as benchmarks and examples, are application code.)
     */
    static final List<String> ALWAYS_EXCLUDED = List.of(
            "java/", "javax/", "jdk/", "sun/", "com/sun/",
            "org/workqueue4j/lockdep/", "org/workqueue4j/internal/", "org/workqueue4j/agent/");
    private static final String LIBRARY_API = "org/workqueue4j/";
    /**
     * The prefixes of {@link #ALWAYS_EXCLUDED} that class-path libraries use too
     * ({@code javax.servlet}, {@code com.sun.jna}): an explicit include under one of them wins.
     * The JDK's own classes there stay out by their loader (the bootstrap and platform loaders
     * cannot see the agent's hooks, see {@code LockTransformer}).
     */
    private static final List<String> INCLUDABLE = List.of("javax/", "com/sun/");

    final List<String> include;
    final List<String> exclude;
    final ReportPolicy policy;
    final FlushAnnotation flush;
    final Path out;
    final boolean stats;

    private AgentOptions(List<String> include, List<String> exclude, ReportPolicy policy,
                         FlushAnnotation flush, Path out, boolean stats) {
        this.include = List.copyOf(include);
        this.exclude = List.copyOf(exclude);
        this.policy = policy;
        this.flush = flush;
        this.out = out;
        this.stats = stats;
    }

    /**
     * Parses an option string.
     *
     * @param args the text after {@code =} in {@code -javaagent:...jar=}; null or empty for the defaults
     * @return the options
     * @throws IllegalArgumentException on an unknown key or value, naming it
     */
    static AgentOptions parse(String args) {
        List<String> include = new ArrayList<>();
        List<String> exclude = new ArrayList<>();
        ReportPolicy policy = ReportPolicy.WARN_ONCE;
        FlushAnnotation flush = FlushAnnotation.SKIP_NEVER_USED;
        Path out = null;
        boolean stats = false;
        if (args != null && !args.isBlank()) {
            for (String pair : args.split(",")) {
                if (pair.isBlank()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("workqueue4j-agent: option '" + pair + "' is not key=value");
                }
                String key = pair.substring(0, eq).trim();
                String value = pair.substring(eq + 1).trim();
                switch (key) {
                    case "include":
                        include.addAll(packages(key, value));
                        break;
                    case "exclude":
                        exclude.addAll(packages(key, value));
                        break;
                    case "policy":
                        policy = enumValue(ReportPolicy.class, key, value);
                        break;
                    case "flush":
                        flush = enumValue(FlushAnnotation.class, key, value);
                        break;
                    case "out":
                        out = value.equalsIgnoreCase("stderr") ? null : Path.of(value);
                        break;
                    case "stats":
                        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
                            throw new IllegalArgumentException("workqueue4j-agent: option stats=" + value
                                    + " is not one of [true, false]");
                        }
                        stats = Boolean.parseBoolean(value);
                        break;
                    default:
                        throw new IllegalArgumentException("workqueue4j-agent: unknown option '" + key
                                + "' (known: include, exclude, policy, flush, out, stats)");
                }
            }
        }
        return new AgentOptions(include, exclude, policy, flush, out, stats);
    }

    /**
     * Returns whether a class is instrumented.
     *
     * @param internalName the class name in internal form ({@code com/acme/Foo})
     * @return true when the class is outside the always-excluded prefixes (or, for
     *     {@code javax} and {@code com.sun}, inside an explicit include), inside an include
     *     prefix (or no include was given) and outside every exclude prefix
     */
    boolean instruments(String internalName) {
        for (String p : ALWAYS_EXCLUDED) {
            if (internalName.startsWith(p) && !(INCLUDABLE.contains(p) && included(internalName))) {
                return false;
            }
        }
        if (internalName.startsWith(LIBRARY_API) && internalName.indexOf('/', LIBRARY_API.length()) < 0) {
            return false;
        }
        for (String p : exclude) {
            if (internalName.startsWith(p)) {
                return false;
            }
        }
        return include.isEmpty() || included(internalName);
    }

    /** Whether the class is under an explicit include prefix. */
    private boolean included(String internalName) {
        for (String p : include) {
            if (internalName.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Parses a {@code :}-separated list of package prefixes. {@code com.acme.*} and
     * {@code com.acme.**}, as other tools spell package filters, mean {@code com.acme}; any other
     * wildcard is refused, naming it.
     */
    private static List<String> packages(String key, String value) {
        List<String> l = new ArrayList<>();
        for (String p : value.split(":")) {
            String t = p.trim();
            if (t.endsWith(".**")) {
                t = t.substring(0, t.length() - 3);
            } else if (t.endsWith(".*")) {
                t = t.substring(0, t.length() - 2);
            }
            if (t.contains("*") || t.contains("?") || t.contains("[")) {
                throw new IllegalArgumentException("workqueue4j-agent: option " + key + "=" + value
                        + ": '" + p.trim() + "' is not a package prefix (write com.acme for com.acme and its subpackages)");
            }
            if (!t.isEmpty()) {
                // A package prefix matches the package and its subpackages, not a longer name.
                String internal = t.replace('.', '/');
                l.add(internal.endsWith("/") ? internal : internal + "/");
            }
        }
        return l;
    }

    private static <E extends Enum<E>> E enumValue(Class<E> type, String key, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("workqueue4j-agent: option " + key + "=" + value
                    + " is not one of " + java.util.Arrays.toString(type.getEnumConstants()), e);
        }
    }
}
