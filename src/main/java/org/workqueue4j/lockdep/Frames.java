package org.workqueue4j.lockdep;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Stack capture for reports, skipping the validator's own frames. Used only on slow paths. */
final class Frames {

    /** Frames kept per recorded dependency (the kernel prints six per chain entry). */
    static final int MAX_FRAMES = 16;

    private static final String PACKAGE = "org.workqueue4j.lockdep.";
    private static final Set<String> INTERNAL = Set.of(
            "Lockdep", "LockDependencyValidator", "DependencyGraph", "HeldLocks", "Frames",
            "ValidatedLock", "ValidatedReadWriteLock", "ValidatedAcquire", "ChainCache", "ReportFormatter",
            "DisabledValidator", "LockMap");
    private static final StackWalker WALKER = StackWalker.getInstance();

    private Frames() {
    }

    /** Returns the first frame outside the validator, formatted like {@code Cls.method(File.java:12)}. */
    static String caller() {
        return WALKER.walk(s -> s.filter(f -> !internal(f.getClassName()))
                .findFirst().map(Frames::format).orElse("?"));
    }

    /** Returns up to {@link #MAX_FRAMES} frames outside the validator, innermost first. */
    static List<String> capture() {
        return WALKER.walk(s -> s.dropWhile(f -> internal(f.getClassName()))
                .limit(MAX_FRAMES).map(Frames::format).collect(Collectors.toUnmodifiableList()));
    }

    static boolean internal(String className) {
        if (!className.startsWith(PACKAGE)) {
            return false;
        }
        String simple = className.substring(PACKAGE.length());
        int dollar = simple.indexOf('$');
        return INTERNAL.contains(dollar < 0 ? simple : simple.substring(0, dollar));
    }

    private static String format(StackWalker.StackFrame f) {
        String file = f.getFileName() == null ? "Unknown Source" : f.getFileName();
        int line = f.getLineNumber();
        return f.getClassName() + "." + f.getMethodName() + "(" + file + (line >= 0 ? ":" + line : "") + ")";
    }
}
