package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random single-thread lock histories over a few classes and the three acquire modes, checked
 * against a brute-force model of lockdep's rules (lockdep-design: W/r/R, strong cycles; the
 * README's one documented difference: dependencies are added from every held lock down to the
 * first non-trylock, non-recursive-read one), with out-of-order releases (re-validation of the
 * locks above) and freed classes (unregisterKey: every dependency of the class goes, but one
 * between two other classes that a thread made through it survives: the locks held below
 * the first non-trylock, non-recursive-read one are dependencies too). The first report must come at the first
 * acquisition that the model says closes a strong cycle or is recursive locking, with the
 * same kind.
 */
class LockdepAttackDifferentialTest {
    static final int CLASSES = 5;
    static final AcquireMode[] MODES = AcquireMode.values();

    static List<Long> seeds() {
        List<Long> s = new ArrayList<>();
        for (long i = 1; i <= 600; i++) {
            s.add(i);
        }
        return s;
    }

    /** One step: acquire (class, mode, trylock) or release of held index. */
    record Step(boolean acquire, int cls, AcquireMode mode, boolean trylock, int releaseIndex) {
        @Override
        public String toString() {
            return acquire ? "acq C" + cls + " " + mode + (trylock ? " try" : "")
                    : releaseIndex == -2 ? "free C" + cls : "rel #" + releaseIndex;
        }
    }

    /** Model state. */
    static final class Model {
        final int[][] dep = new int[CLASSES][CLASSES]; // bits: 1 SR, 2 ER, 4 SN, 8 EN
        static final int SR = 1, ER = 2, SN = 4, EN = 8;

        static int calc(AcquireMode prev, AcquireMode next) {
            boolean e = prev == AcquireMode.EXCLUSIVE;
            boolean r = next == AcquireMode.RECURSIVE_READ;
            return e ? (r ? ER : EN) : (r ? SR : SN);
        }

        /** Strong path root -> target; rootOnlyXr masks S* first; acceptOnlyXr whether an *R arrival counts. */
        boolean strongPath(int root, boolean rootOnlyXr, int target, boolean acceptOnlyXr) {
            boolean[][] seen = new boolean[CLASSES][2];
            ArrayList<int[]> q = new ArrayList<>();
            q.add(new int[] {root, rootOnlyXr ? 1 : 0});
            seen[root][rootOnlyXr ? 1 : 0] = true;
            for (int h = 0; h < q.size(); h++) {
                int c = q.get(h)[0];
                boolean onlyXr = q.get(h)[1] == 1;
                for (int n = 0; n < CLASSES; n++) {
                    int d = dep[c][n];
                    if (onlyXr) {
                        d &= ~(SR | SN);
                    }
                    if (d == 0) {
                        continue;
                    }
                    // two ways to arrive: through an N edge (not only xR) if any N bit, and through R
                    if ((d & (SN | EN)) != 0) {
                        if (n == target) {
                            return true;
                        }
                        if (!seen[n][0]) {
                            seen[n][0] = true;
                            q.add(new int[] {n, 0});
                        }
                    }
                    if ((d & (SR | ER)) != 0) {
                        if (n == target && acceptOnlyXr) {
                            return true;
                        }
                        if (!seen[n][1]) {
                            seen[n][1] = true;
                            q.add(new int[] {n, 1});
                        }
                    }
                }
            }
            return false;
        }

        /** Returns null if fine, else "RECURSIVE"/"CIRCULAR"; learns the dependencies when fine. */
        String acquire(List<int[]> held, int cls, AcquireMode mode, boolean trylock) {
            if (trylock) {
                return null; // a trylock adds no dependency and is no recursion
            }
            for (int[] h : held) {
                if (h[0] == cls && !(mode == AcquireMode.RECURSIVE_READ && MODES[h[1]] != AcquireMode.EXCLUSIVE)) {
                    return "RECURSIVE";
                }
            }
            List<int[]> add = new ArrayList<>();
            int stop = -1;
            for (int i = held.size() - 1; i >= 0; i--) {
                int prev = held.get(i)[0];
                AcquireMode pm = MODES[held.get(i)[1]];
                boolean ptry = held.get(i)[2] == 1;
                if (prev != cls) {
                    if (strongPath(cls, mode == AcquireMode.RECURSIVE_READ, prev, pm == AcquireMode.EXCLUSIVE)) {
                        return "CIRCULAR";
                    }
                    add.add(new int[] {prev, calc(pm, mode)});
                }
                if (!ptry && pm != AcquireMode.RECURSIVE_READ) {
                    stop = i;
                    break;
                }
            }
            for (int[] a : add) {
                dep[a[0]][cls] |= a[1];
            }
            // The locks held below the stop were held while cls was taken too: a dependency kept
            // (implied by the path through the stop) and so surviving the free of a class on
            // that path. As an edge here: the implying path is at least as strong.
            for (int j = stop - 1; j >= 0; j--) {
                int prev = held.get(j)[0];
                AcquireMode pm = MODES[held.get(j)[1]];
                if (prev != cls && strongPath(prev, pm == AcquireMode.EXCLUSIVE, cls, mode == AcquireMode.RECURSIVE_READ)) {
                    dep[prev][cls] |= calc(pm, mode);
                }
            }
            return null;
        }
    }

    static boolean isHeld(List<int[]> held, int cls) {
        for (int[] h : held) {
            if (h[0] == cls) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void firstReportAsTheModelSays(long seed) {
        Random rnd = new Random(seed);
        List<LockdepReport> reports = new CopyOnWriteArrayList<>();
        AtomicInteger stepNo = new AtomicInteger();
        List<Integer> reportSteps = new CopyOnWriteArrayList<>();
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN_ONCE).quiet().listener(r -> {
            reports.add(r);
            reportSteps.add(stepNo.get());
        }).build();
        LockClassKey[] keys = new LockClassKey[CLASSES];
        for (int i = 0; i < CLASSES; i++) {
            keys[i] = new LockClassKey("C" + i);
        }
        Model model = new Model();
        List<Step> history = new ArrayList<>();
        String expected = null;
        int expectedStep = -1;
        int step = 0;
        outer:
        for (int scenario = 0; scenario < 60; scenario++) {
            if (scenario > 0 && rnd.nextInt(5) == 0) {
                // free a class (a destroyed queue's key, lockdep_unregister_key): its dependencies go
                int c = rnd.nextInt(CLASSES);
                history.add(new Step(false, c, null, false, -2));
                ld.unregisterKey(keys[c]);
                keys[c] = new LockClassKey("C" + c);
                for (int i = 0; i < CLASSES; i++) {
                    model.dep[c][i] = 0;
                    model.dep[i][c] = 0;
                }
            }
            List<int[]> held = new ArrayList<>(); // class, mode ordinal, trylock
            List<LockMap> maps = new ArrayList<>();
            int depth = 1 + rnd.nextInt(3);
            boolean trylocks = rnd.nextInt(4) == 0;
            for (int d = 0; d < depth; d++) {
                int cls = rnd.nextInt(CLASSES);
                for (int tries = 0; tries < 8 && rnd.nextInt(10) != 0 && isHeld(held, cls); tries++) {
                    cls = rnd.nextInt(CLASSES); // recursion now and then, not most of the time
                }
                if (seed % 2 == 1 && rnd.nextInt(60) != 0) {
                    // mostly in one global order, so that cycles are rare and histories long
                    int top = held.isEmpty() ? -1 : held.get(held.size() - 1)[0];
                    if (top >= CLASSES - 1) {
                        break;
                    }
                    cls = top + 1 + rnd.nextInt(CLASSES - 1 - top);
                }
                AcquireMode mode = MODES[rnd.nextInt(3)];
                boolean tl = trylocks && rnd.nextBoolean();
                step++;
                stepNo.set(step);
                history.add(new Step(true, cls, mode, tl, -1));
                String v = model.acquire(held, cls, mode, tl);
                LockMap m = new LockMap("C" + cls, keys[cls]);
                ld.acquire(m, mode, tl);
                if (v != null) {
                    expected = v;
                    expectedStep = step;
                    break outer;
                }
                if (!reportSteps.isEmpty()) {
                    break outer;
                }
                held.add(new int[] {cls, mode.ordinal(), tl ? 1 : 0});
                maps.add(m);
            }
            // release in random order; a release below the top re-validates the ones above it
            while (!held.isEmpty()) {
                int j = rnd.nextInt(held.size());
                step++;
                stepNo.set(step);
                history.add(new Step(false, -1, null, false, j));
                List<int[]> above = new ArrayList<>(held.subList(j + 1, held.size()));
                List<int[]> below = new ArrayList<>(held.subList(0, j));
                String v = null;
                for (int[] a : above) {
                    if (v == null) {
                        v = model.acquire(below, a[0], MODES[a[1]], a[2] == 1);
                    }
                    below.add(a);
                }
                ld.release(maps.get(j));
                held.remove(j);
                maps.remove(j);
                if (v != null) {
                    expected = v;
                    expectedStep = step;
                    break outer;
                }
                if (!reportSteps.isEmpty()) {
                    break outer;
                }
            }
        }
        String actual = reports.isEmpty() ? null : reports.get(0).kind().name();
        int actualStep = reportSteps.isEmpty() ? -1 : reportSteps.get(0);
        assertThat(actual + "@" + actualStep)
                .as("first report vs model; history %s; report %s", history, reports.isEmpty() ? "" : reports.get(0).text())
                .isEqualTo(expected + "@" + expectedStep);
    }
}
