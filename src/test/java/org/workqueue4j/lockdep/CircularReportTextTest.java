package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The circular-dependency report has the kernel's layout, line for line (stack frames normalised). */
class CircularReportTextTest {

    private static final String GOLDEN = String.join("\n",
            "======================================================",
            "WARNING: possible circular locking dependency detected",
            "------------------------------------------------------",
            "golden is trying to acquire lock:",
            " (A){+.+.}, at: <frame>",
            "",
            "but task is already holding lock:",
            " (C){+.+.}, at: <frame>",
            "",
            "which lock already depends on the new lock.",
            "",
            "the existing dependency chain (in reverse order) is:",
            "",
            "-> #2 (C):",
            "       <frame>",
            "",
            "-> #1 (B):",
            "       <frame>",
            "",
            "-> #0 (A):",
            "       <frame>",
            "",
            "other info that might help us debug this:",
            "",
            "Chain exists of:",
            "  A --> B --> C",
            "",
            " Possible unsafe locking scenario:",
            "",
            "       CPU0                    CPU1",
            "       ----                    ----",
            "  lock(C);",
            "                               lock(B);",
            "                               lock(C);",
            "  lock(A);",
            "",
            " *** DEADLOCK ***",
            "",
            "1 lock held by golden:",
            " #0: (C){+.+.}, at: <frame>",
            "",
            "stack backtrace:",
            " <frame>",
            "");

    @Test
    @DisplayName("A->B, B->C, then C->A prints the chain, 'Chain exists of' and the two-CPU scenario")
    void threeClassCycleMatchesGolden() throws InterruptedException {
        LockdepReport report = runOnThread("golden", () -> {
            Lockdep lockdep = Lockdep.builder().quiet().build();
            LockMap a = new LockMap("a", new LockClassKey("A"));
            LockMap b = new LockMap("b", new LockClassKey("B"));
            LockMap c = new LockMap("c", new LockClassKey("C"));
            nest(lockdep, a, b);
            nest(lockdep, b, c);
            nest(lockdep, c, a);
            return lockdep.reports().get(0);
        });
        assertThat(report.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
        assertThat(report.classes()).containsExactly("A", "B", "C");
        assertThat(report.threadName()).isEqualTo("golden");
        assertThat(report.heldLocks()).hasSize(1);
        assertThat(normalise(report.text())).isEqualTo(GOLDEN);
        assertThat(report.toString()).isEqualTo(report.text());
    }

    @Test
    @DisplayName("a two-class ABBA has no 'Chain exists of' line and shows rlock() for a reader")
    void abbaHasNoChainLineAndShowsReaders() throws InterruptedException {
        LockdepReport report = runOnThread("abba", () -> {
            Lockdep lockdep = Lockdep.builder().quiet().build();
            LockMap a = new LockMap("a", new LockClassKey("A"));
            LockMap b = new LockMap("b", new LockClassKey("B"));
            nest(lockdep, a, b);
            lockdep.acquire(b, AcquireMode.READ, false);
            lockdep.acquire(a);
            return lockdep.reports().get(0);
        });
        String text = normalise(report.text());
        assertThat(text).doesNotContain("Chain exists of")
                .contains("-> #1 (B):\n       <frame>\n\n-> #0 (A):\n")
                .contains("  rlock(B);\n                               lock(A);\n                               lock(B);\n  lock(A);\n");
    }

    private static void nest(Lockdep lockdep, LockMap outer, LockMap inner) {
        lockdep.acquire(outer);
        lockdep.acquire(inner);
        lockdep.release(inner);
        lockdep.release(outer);
    }

    /** Replaces each stack frame with {@code <frame>} and collapses runs of frame-only lines. */
    static String normalise(String text) {
        String framed = text.replaceAll("[\\w$.]+\\.[\\w$<>]+\\([^()\\n]*\\)", "<frame>");
        StringBuilder sb = new StringBuilder();
        String previous = null;
        for (String line : framed.split("\n", -1)) {
            boolean frameLine = line.trim().equals("<frame>");
            if (frameLine && line.equals(previous)) {
                continue;
            }
            sb.append(line).append('\n');
            previous = line;
        }
        return sb.substring(0, sb.length() - 1);
    }

    private static LockdepReport runOnThread(String name, java.util.function.Supplier<LockdepReport> body)
            throws InterruptedException {
        AtomicReference<LockdepReport> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(body.get());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, name);
        t.start();
        t.join();
        assertThat(failure.get()).isNull();
        return result.get();
    }

    @Test
    @DisplayName("the recursive report names the missing nesting annotation")
    void recursiveReportLayout() {
        Lockdep lockdep = Lockdep.builder().quiet().build();
        LockClassKey key = new LockClassKey("inode");
        lockdep.acquire(new LockMap("i1", key));
        lockdep.acquire(new LockMap("i2", key));
        LockdepReport r = lockdep.reports().get(0);
        assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE);
        assertThat(r.classes()).isEqualTo(List.of("inode", "inode"));
        assertThat(normalise(r.text())).startsWith(String.join("\n",
                        "============================================",
                        "WARNING: possible recursive locking detected",
                        "--------------------------------------------"))
                .contains(String.join("\n",
                        " Possible unsafe locking scenario:",
                        "",
                        "       CPU0",
                        "       ----",
                        "  lock(inode);",
                        "  lock(inode);",
                        "",
                        " *** DEADLOCK ***",
                        "",
                        " May be due to missing lock nesting notation",
                        "",
                        "1 lock held by "));
    }
}
