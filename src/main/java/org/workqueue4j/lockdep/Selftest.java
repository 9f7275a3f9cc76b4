package org.workqueue4j.lockdep;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The interrupt-free families of the kernel's boot-time locking selftest
 * ({@code lib/locking-selftest.c}), run against {@link Lockdep} with the kernel's expected
 * verdicts, and printable as the kernel's matrix:
 *
 * <pre>
 *                                  | spin |wlock |rlock |mutex | wsem | rsem |
 *   --------------------------------------------------------------------------
 *                      A-A deadlock:  ok  |  ok  |  ok  |  ok  |  ok  |  ok  |
 * </pre>
 *
 * <p>Each case runs on a fresh {@code Lockdep} (the selftest's {@code reset_locks()}) with the
 * raw validator API, exactly as the kernel drives {@code lockdep_map}s: {@code X1}/{@code X2}
 * are different instances of one class, and {@code rlock} is a recursive reader ('R', the
 * selftest's {@code force_read_lock_recursive}) while {@code rsem} readers are non-recursive
 * ('r'). FAILURE means "lockdep must report", SUCCESS "lockdep must stay silent". The Java
 * lock wrappers' own decisions (reentrancy, downgrade) sit above this API and are not part of
 * the kernel matrix.
 *
 * <p>Thread-safe: each run uses a fresh {@link Lockdep} of its own; runs may proceed on several
 * threads at once.
 */
// JSpecify is optional at run time (requires static): its @Nullable in this API is not re-exported on purpose.
@SuppressWarnings("exports")
public final class Selftest {

    /**
     * A column of the matrix: a lock primitive and the mode its {@code LOCK()} uses.
     *
     * <p>Immutable; safe to share between threads.
     */
    public enum LockType {
        /** spin_lock: exclusive. */
        SPIN("spin"),
        /** write_lock of an rwlock: exclusive. */
        WLOCK("wlock"),
        /** read_lock of an rwlock: recursive reader. */
        RLOCK("rlock"),
        /** mutex_lock: exclusive. */
        MUTEX("mutex"),
        /** down_write of an rwsem: exclusive. */
        WSEM("wsem"),
        /** down_read of an rwsem: non-recursive reader. */
        RSEM("rsem");

        private final String label;

        LockType(String label) {
            this.label = label;
        }

        /** {@return the kernel's column label} */
        public String label() {
            return label;
        }
    }

    /**
     * The verdict of one case: did lockdep stay silent, or report?
     *
     * <p>Immutable; safe to share between threads.
     */
    public enum Verdict {
        /** No report. */
        SUCCESS,
        /** At least one report. */
        FAILURE
    }

    /**
     * One cell of the matrix.
     *
     * <p>Immutable if its body is; the body runs on the thread that runs the case.
     *
     * @param row the row label, e.g. {@code "A-B-B-A deadlock"} or {@code "rlock W1R2/W2R3/W3R1/123"}
     * @param type the column
     * @param expected the kernel's expected verdict
     * @param body the lock operations
     */
    public record Case(String row, LockType type, Verdict expected, Consumer<Ops> body) {
    }

    /**
     * The result of running one case.
     *
     * <p>Immutable; safe to share between threads.
     *
     * @param testCase the case
     * @param actual the verdict observed
     * @param report the first report, or null
     */
    public record Outcome(Case testCase, Verdict actual, @Nullable LockdepReport report) {
        /** {@return whether the observed verdict is the expected one} */
        public boolean ok() {
            return actual == testCase.expected();
        }
    }

    /**
     * The outcomes of a whole run.
     *
     * <p>Immutable when built by {@link Selftest#run()} (the list is a copy).
     *
     * @param outcomes every cell, in matrix order
     */
    public record Result(List<Outcome> outcomes) {
        /** {@return the number of cells whose verdict differs from the kernel's} */
        public long unexpected() {
            return outcomes.stream().filter(o -> !o.ok()).count();
        }

        /** {@return the matrix as the kernel prints it at boot} */
        public String table() {
            return format(outcomes);
        }
    }

    /**
     * The lock operations of a case, named after the selftest's macros.
     *
     * <p>Not thread-safe: confined to the thread running one case.
     */
    public static final class Ops {
        private enum Prim { SPIN, RWLOCK, MUTEX, RWSEM }

        private final Lockdep lockdep;
        private final LockType type;
        private final Map<String, LockMap> maps = new HashMap<>();
        private final Map<String, LockClassKey> keys = new HashMap<>();

        Ops(Lockdep lockdep, LockType type) {
            this.lockdep = lockdep;
            this.type = type;
        }

        /**
         * {@code LOCK(x)}: acquires {@code x} as this column's primitive and mode.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void lock(String x) {
            lockdep.acquire(map(prim(type), x), mode(type), false);
        }

        /**
         * {@code UNLOCK(x)}.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void unlock(String x) {
            lockdep.release(map(prim(type), x));
        }

        /**
         * {@code INIT(x)}: re-initializes {@code x}.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void init(String x) {
            lockdep.initialize(map(prim(type), x));
        }

        /**
         * {@code L(x)}: spin_lock.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void l(String x) {
            lockdep.acquire(map(Prim.SPIN, x), AcquireMode.EXCLUSIVE, false);
        }

        /**
         * {@code U(x)}: spin_unlock.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void u(String x) {
            lockdep.release(map(Prim.SPIN, x));
        }

        /**
         * {@code RL(x)}: read_lock, a recursive reader.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void rl(String x) {
            lockdep.acquire(map(Prim.RWLOCK, x), AcquireMode.RECURSIVE_READ, false);
        }

        /**
         * {@code WL(x)}: write_lock.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void wl(String x) {
            lockdep.acquire(map(Prim.RWLOCK, x), AcquireMode.EXCLUSIVE, false);
        }

        /**
         * {@code RU(x)} / {@code WU(x)}: read_unlock / write_unlock.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void rwu(String x) {
            lockdep.release(map(Prim.RWLOCK, x));
        }

        /**
         * {@code RSL(x)}: down_read, a non-recursive reader.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void rsl(String x) {
            lockdep.acquire(map(Prim.RWSEM, x), AcquireMode.READ, false);
        }

        /**
         * {@code WSL(x)}: down_write.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void wsl(String x) {
            lockdep.acquire(map(Prim.RWSEM, x), AcquireMode.EXCLUSIVE, false);
        }

        /**
         * {@code RSU(x)} / {@code WSU(x)}: up_read / up_write.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void rwsu(String x) {
            lockdep.release(map(Prim.RWSEM, x));
        }

        /**
         * {@code ML(x)}: mutex_lock.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void ml(String x) {
            lockdep.acquire(map(Prim.MUTEX, x), AcquireMode.EXCLUSIVE, false);
        }

        /**
         * {@code MU(x)}: mutex_unlock.
         *
         * @param x the name of the lock within this case (one lock per name, created on first use)
         */
        public void mu(String x) {
            lockdep.release(map(Prim.MUTEX, x));
        }

        /** X1 and X2 (likewise Y, Z) share a class; A, B, C, D each have their own. */
        private LockMap map(Prim prim, String x) {
            String cls = prim + ":" + x.charAt(0);
            LockClassKey key = keys.computeIfAbsent(cls, c -> new LockClassKey(prim.name().toLowerCase(java.util.Locale.ROOT) + "_" + x.charAt(0)));
            return maps.computeIfAbsent(prim + ":" + x, k -> new LockMap(x, key));
        }

        private static Prim prim(LockType t) {
            switch (t) {
                case SPIN: return Prim.SPIN;
                case WLOCK: case RLOCK: return Prim.RWLOCK;
                case MUTEX: return Prim.MUTEX;
                default: return Prim.RWSEM;
            }
        }

        private static AcquireMode mode(LockType t) {
            switch (t) {
                case RLOCK: return AcquireMode.RECURSIVE_READ;
                case RSEM: return AcquireMode.READ;
                default: return AcquireMode.EXCLUSIVE;
            }
        }
    }

    private Selftest() {
    }

    /**
     * Runs every case and returns the outcomes.
     *
     * @return one outcome per case, in matrix order
     */
    public static Result run() {
        List<Outcome> outcomes = new ArrayList<>();
        for (Case c : cases()) {
            outcomes.add(run(c));
        }
        return new Result(List.copyOf(outcomes));
    }

    /**
     * Runs one case on a fresh, quiet {@link Lockdep} with the kernel's WARN_ONCE policy.
     *
     * @param c the case; not null
     * @return the verdict observed and the first report, if any
     */
    public static Outcome run(Case c) {
        Objects.requireNonNull(c, "case");
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN_ONCE).quiet().build();
        c.body().accept(new Ops(lockdep, c.type()));
        List<LockdepReport> reports = lockdep.reports();
        return new Outcome(c, reports.isEmpty() ? Verdict.SUCCESS : Verdict.FAILURE,
                reports.isEmpty() ? null : reports.get(0));
    }

    /**
     * Returns the cases whose row label starts with {@code prefix}, in matrix order.
     *
     * @param prefix the start of the row labels wanted
     * @return the matching cases; empty if none
     */
    public static List<Case> cases(String prefix) {
        return cases().stream().filter(c -> c.row().startsWith(prefix)).toList();
    }

    /** {@return every case in the kernel's order} */
    public static List<Case> cases() {
        List<Case> all = new ArrayList<>();
        readVariant(all, "A-A deadlock", o -> { o.lock("X1"); o.lock("X2"); });
        readVariant(all, "A-B-B-A deadlock", o -> { ab(o, "A", "B"); ab(o, "B", "A"); });
        readVariant(all, "A-B-B-C-C-A deadlock", o -> { ab(o, "A", "B"); ab(o, "B", "C"); ab(o, "C", "A"); });
        readVariant(all, "A-B-C-A-B-C deadlock", o -> { ab(o, "A", "B"); ab(o, "C", "A"); ab(o, "B", "C"); });
        readVariant(all, "A-B-B-C-C-D-D-A deadlock",
                o -> { ab(o, "A", "B"); ab(o, "B", "C"); ab(o, "C", "D"); ab(o, "D", "A"); });
        readVariant(all, "A-B-C-D-B-D-D-A deadlock",
                o -> { ab(o, "A", "B"); ab(o, "C", "D"); ab(o, "B", "D"); ab(o, "D", "A"); });
        readVariant(all, "A-B-C-D-B-C-D-A deadlock",
                o -> { ab(o, "A", "B"); ab(o, "C", "D"); ab(o, "B", "C"); ab(o, "D", "A"); });
        for (LockType t : LockType.values()) {
            all.add(new Case("double unlock", t, Verdict.FAILURE, o -> { o.lock("A"); o.unlock("A"); o.unlock("A"); }));
        }
        for (LockType t : LockType.values()) {
            all.add(new Case("initialize held", t, Verdict.FAILURE, o -> { o.lock("A"); o.init("A"); }));
        }
        pair(all, "recursive read-lock", Verdict.SUCCESS, o -> { o.rl("X1"); o.rl("X1"); },
                Verdict.FAILURE, o -> { o.rsl("X1"); o.rsl("X1"); });
        pair(all, "recursive read-lock #2", Verdict.SUCCESS, o -> { o.rl("X1"); o.rl("X2"); },
                Verdict.FAILURE, o -> { o.rsl("X1"); o.rsl("X2"); });
        pair(all, "mixed read-write-lock", Verdict.FAILURE, o -> { o.rl("X1"); o.wl("X2"); },
                Verdict.FAILURE, o -> { o.rsl("X1"); o.wsl("X2"); });
        pair(all, "mixed write-read-lock", Verdict.FAILURE, o -> { o.wl("X1"); o.rl("X2"); },
                Verdict.FAILURE, o -> { o.wsl("X1"); o.rsl("X2"); });
        pair(all, "mixed read-lock/lock-write ABBA", Verdict.FAILURE,
                o -> { o.rl("X1"); o.l("Y1"); o.u("Y1"); o.rwu("X1"); o.l("Y1"); o.wl("X1"); o.rwu("X1"); o.u("Y1"); },
                Verdict.FAILURE,
                o -> { o.rsl("X1"); o.ml("Y1"); o.mu("Y1"); o.rwsu("X1"); o.ml("Y1"); o.wsl("X1"); o.rwsu("X1"); o.mu("Y1"); });
        pair(all, "mixed read-lock/lock-read ABBA", Verdict.SUCCESS,
                o -> { o.rl("X1"); o.l("Y1"); o.u("Y1"); o.rwu("X1"); o.l("Y1"); o.rl("X1"); o.rwu("X1"); o.u("Y1"); },
                Verdict.FAILURE,
                o -> { o.rsl("X1"); o.ml("Y1"); o.mu("Y1"); o.rwsu("X1"); o.ml("Y1"); o.rsl("X1"); o.rwsu("X1"); o.mu("Y1"); });
        pair(all, "mixed write-lock/lock-write ABBA", Verdict.FAILURE,
                o -> { o.wl("X1"); o.l("Y1"); o.u("Y1"); o.rwu("X1"); o.l("Y1"); o.wl("X1"); o.rwu("X1"); o.u("Y1"); },
                Verdict.FAILURE,
                o -> { o.wsl("X1"); o.ml("Y1"); o.mu("Y1"); o.rwsu("X1"); o.ml("Y1"); o.wsl("X1"); o.rwsu("X1"); o.mu("Y1"); });
        all.add(new Case("chain cached mixed R-L/L-W ABBA", LockType.RLOCK, Verdict.FAILURE, o -> {
            o.rl("X1"); o.l("Y1"); o.u("Y1"); o.rwu("X1");
            o.l("Y1"); o.rl("X1"); o.rwu("X1"); o.u("Y1");   // caches the chain Y1 -> read X1
            o.l("Y1"); o.wl("X1"); o.rwu("X1"); o.u("Y1");   // Y1 -> write X1 must still be checked
        }));
        permutations(all, "rlock W1R2/W2R3/W3R1", Verdict.FAILURE,
                wr("X1", false, "Y1", true), wr("Y1", false, "Z1", true), wr("Z1", false, "X1", true));
        permutations(all, "rlock W1W2/R2R3/W3R1", Verdict.FAILURE,
                wr("X1", false, "Y1", false), wr("Y1", true, "Z1", true), wr("Z1", false, "X1", true));
        permutations(all, "rlock W1W2/R2R3/R3W1", Verdict.SUCCESS,
                wr("X1", false, "Y1", false), wr("Y1", true, "Z1", true), wr("Z1", true, "X1", false));
        permutations(all, "rlock W1R2/R2R3/W3W1", Verdict.SUCCESS,
                wr("X1", false, "Y1", true), wr("Y1", true, "Z1", true), wr("Z1", false, "X1", false));
        return all;
    }

    /** {@code LOCK_UNLOCK_2(x, y)}. */
    private static void ab(Ops o, String x, String y) {
        o.lock(x);
        o.lock(y);
        o.unlock(y);
        o.unlock(x);
    }

    /** An event of the W/R three-cycle families: take {@code outer} then {@code inner} on rwlocks, read or write. */
    private static Consumer<Ops> wr(String outer, boolean outerRead, String inner, boolean innerRead) {
        return o -> {
            if (outerRead) { o.rl(outer); } else { o.wl(outer); }
            if (innerRead) { o.rl(inner); } else { o.wl(inner); }
            o.rwu(inner);
            o.rwu(outer);
        };
    }

    /** {@code DO_TESTCASE_6R}: every column must report except the recursive-read rlock. */
    private static void readVariant(List<Case> all, String row, Consumer<Ops> body) {
        for (LockType t : LockType.values()) {
            all.add(new Case(row, t, t == LockType.RLOCK ? Verdict.SUCCESS : Verdict.FAILURE, body));
        }
    }

    private static void pair(List<Case> all, String row, Verdict rlock, Consumer<Ops> rlockBody,
                             Verdict rsem, Consumer<Ops> rsemBody) {
        all.add(new Case(row, LockType.RLOCK, rlock, rlockBody));
        all.add(new Case(row, LockType.RSEM, rsem, rsemBody));
    }

    /** {@code GENERATE_PERMUTATIONS_3_EVENTS}: the six orders 123, 132, 213, 231, 312, 321. */
    private static void permutations(List<Case> all, String row, Verdict expected,
                                     Consumer<Ops> e1, Consumer<Ops> e2, Consumer<Ops> e3) {
        List<Consumer<Ops>> events = List.of(e1, e2, e3);
        for (String order : List.of("123", "132", "213", "231", "312", "321")) {
            all.add(new Case(row + "/" + order, LockType.RLOCK, expected, o -> {
                for (char ch : order.toCharArray()) {
                    events.get(ch - '1').accept(o);
                }
            }));
        }
    }

    private static String format(List<Outcome> outcomes) {
        Map<String, Map<LockType, Outcome>> rows = new LinkedHashMap<>();
        for (Outcome o : outcomes) {
            rows.computeIfAbsent(o.testCase().row(), r -> new EnumMap<>(LockType.class)).put(o.testCase().type(), o);
        }
        StringBuilder sb = new StringBuilder();
        String rule = "  --------------------------------------------------------------------------\n";
        sb.append("------------------------\n");
        sb.append("| Locking API testsuite:\n");
        sb.append("----------------------------------------------------------------------------\n");
        sb.append("                                 | spin |wlock |rlock |mutex | wsem | rsem |\n");
        sb.append(rule);
        for (Map.Entry<String, Map<LockType, Outcome>> row : rows.entrySet()) {
            if (row.getKey().equals("recursive read-lock")) {
                sb.append(rule);
            }
            sb.append(String.format("%33s:", row.getKey()));
            int last = row.getValue().keySet().stream().mapToInt(Enum::ordinal).max().orElse(-1);
            for (LockType t : LockType.values()) {
                if (t.ordinal() > last) {
                    break;
                }
                Outcome o = row.getValue().get(t);
                sb.append(o == null ? "      |" : o.ok() ? "  ok  |" : "FAILED|");
            }
            sb.append('\n');
        }
        sb.append(rule);
        long bad = outcomes.stream().filter(o -> !o.ok()).count();
        if (bad == 0) {
            sb.append("Good, all ").append(outcomes.size()).append(" testcases passed! |\n");
        } else {
            sb.append("BUG: ").append(bad).append(" unexpected failures (out of ").append(outcomes.size())
                    .append(") - debugging disabled! |\n");
        }
        return sb.toString();
    }
}
