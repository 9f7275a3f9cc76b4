package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.Work;
import org.workqueue4j.WorkQueue;
import org.workqueue4j.WorkQueues;
import org.workqueue4j.WorkQueuesConfig;

/**
 * Lockdep scenario tables: one row per scenario of the kernel's {@code lib/locking-selftest.c}
 * (the interrupt-free families), of {@code kernel/locking/lockdep.c}'s rules (trylock, nesting,
 * read/recursive-read dependencies, the chain cache, class lifetime) and of
 * {@code kernel/workqueue.c}'s annotations (flush, cancel-and-wait, drain, destroy), each with
 * the kernel's verdict, run with real {@link ValidatedLock}s, {@link ValidatedReadWriteLock}s,
 * queues and items (the README's API), not the raw validator API {@link Selftest} drives.
 *
 * <p>A row whose conflicting orders need several threads runs them on fresh threads one after
 * the other: lockdep predicts, the deadlock never has to happen. Rows that would block for real
 * under WARN run under THROW, where the acquisition is refused before it blocks. Queue rows use
 * {@link FlushAnnotation#ALWAYS} (the kernel's annotation) unless they say otherwise.
 *
 * <p>{@code ours} differs from {@code kernel} only where SPEC §5 or the README decides so; the
 * row then names the decision.
 */
class LockdepScenarioTableTest {

    /** A row's verdict: no report, or the kind of the first report. */
    enum Verdict {
        NONE, RECURSIVE, CIRCULAR, RELEASE_NOT_HELD, INIT_HELD, LEAKED_LOCK, CAPACITY, NEST_LOCK_NOT_HELD,
        /** Not lockdep's: the workqueue's check_flush_dependency() WARN, "WQ_MEM_RECLAIM q:fn is flushing !WQ_MEM_RECLAIM". */
        FLUSH_DEPENDENCY;

        static Verdict of(LockdepReport.Kind k) {
            return switch (k) {
                case RECURSIVE -> RECURSIVE;
                case CIRCULAR -> CIRCULAR;
                case RELEASE_NOT_HELD -> RELEASE_NOT_HELD;
                case INIT_HELD -> INIT_HELD;
                case LEAKED_LOCK -> LEAKED_LOCK;
                case CAPACITY -> CAPACITY;
                case NEST_LOCK_NOT_HELD -> NEST_LOCK_NOT_HELD;
                default -> throw new AssertionError("unexpected report kind " + k);
            };
        }
    }

    /** The four lock kinds of the selftest's columns that a Java lock has. */
    enum Kind {
        /** ValidatedLock: mutex_lock. */
        MUTEX,
        /** ValidatedReadWriteLock's write side: down_write / write_lock. */
        WSEM,
        /** ValidatedReadWriteLock's read side, non-recursive readers ('r'): down_read. */
        RSEM,
        /** ValidatedReadWriteLock's read side, recursive readers ('R'): read_lock. */
        RLOCK
    }

    interface Body {
        void run(Ctx c) throws Exception;
    }

    /**
     * @param name the scenario
     * @param kernel the kernel's verdict
     * @param ours ours (the kernel's unless {@code decision} says why not)
     * @param decision the SPEC/README decision behind a difference, else null
     * @param policy the report policy the row runs under
     * @param body the scenario
     */
    record Row(String name, Verdict kernel, Verdict ours, @Nullable String decision, ReportPolicy policy, Body body) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Row row(String name, Verdict kernel, Body body) {
        return new Row(name, kernel, kernel, null, ReportPolicy.WARN, body);
    }

    private static Row throwing(String name, Verdict kernel, Body body) {
        return new Row(name, kernel, kernel, null, ReportPolicy.THROW, body);
    }

    private static Row decided(String name, Verdict kernel, Verdict ours, String decision, Body body) {
        return new Row(name, kernel, ours, decision, ReportPolicy.WARN, body);
    }

    /** One row's world: a fresh validator (the selftest's reset_locks()), and a runtime when asked. */
    static final class Ctx {
        final Lockdep lockdep;
        final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
        final List<Throwable> thrown = new CopyOnWriteArrayList<>();
        /** The runtime's own reports (WorkQueuesConfig.reportListener). */
        final List<String> runtimeReports = new CopyOnWriteArrayList<>();
        private @Nullable WorkQueues rt;

        Ctx(ReportPolicy policy) {
            lockdep = Lockdep.builder().policy(policy).quiet().listener(reports::add).build();
        }

        WorkQueues rt() {
            return rt(FlushAnnotation.ALWAYS);
        }

        WorkQueues rt(FlushAnnotation annotation) {
            if (rt == null) {
                rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).validator(lockdep).flushAnnotation(annotation)
                        .uncaughtWorkHandler((q, w, e) -> thrown.add(e)).reportListener(runtimeReports::add).build());
            }
            return rt;
        }

        WorkQueue queue(String name) {
            return rt().queueBuilder(name).build();
        }

        ValidatedLock mutex(String name) {
            return new ValidatedLock(name, new LockClassKey(name), lockdep);
        }

        /** A lock of the given kind; instances of one {@code key} share a class (X1, X2). */
        Lock lock(Kind kind, String name, LockClassKey key) {
            return switch (kind) {
                case MUTEX -> new ValidatedLock(name, key, lockdep);
                case WSEM -> new ValidatedReadWriteLock(name, key, lockdep).writeLock();
                case RSEM -> new ValidatedReadWriteLock(name, key, lockdep).readLock();
                case RLOCK -> ValidatedReadWriteLock.builder(name, key, lockdep).recursiveReaders(true).build().readLock();
            };
        }

        /** Locks of one kind, one class each. */
        Lock[] locks(Kind kind, String... names) {
            Lock[] out = new Lock[names.length];
            for (int i = 0; i < names.length; i++) {
                out[i] = lock(kind, names[i], new LockClassKey(names[i]));
            }
            return out;
        }

        /** Runs {@code r} on a fresh thread to its end; a PotentialDeadlockException is kept, anything else fails. */
        void on(ThrowingRunnable r) throws InterruptedException {
            onReleasing(null, r);
        }

        /**
         * {@link #on}, and once the thread waits (in the wait under test) or has ended, counts
         * {@code release} down: the item it waits for may then finish. The wait is recorded
         * before it blocks, so the verdict is in by then.
         */
        void onReleasing(@Nullable CountDownLatch release, ThrowingRunnable r) throws InterruptedException {
            List<Throwable> failure = new CopyOnWriteArrayList<>();
            Thread t = new Thread(() -> {
                try {
                    r.run();
                } catch (PotentialDeadlockException e) {
                    thrown.add(e);
                } catch (Throwable e) {
                    failure.add(e);
                }
            }, "scenario");
            t.start();
            if (release != null) {
                // Parked in the scenario's wait, not on a lock on the way there (a pool lock the
                // worker holds for a moment: released then, the running item could end before
                // the wait began, and the scenario would test an idle item instead)
                Awaitility.await().atMost(30, TimeUnit.SECONDS).pollInterval(java.time.Duration.ofMillis(1)).until(() -> {
                    Thread.State s = t.getState();
                    return (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING)
                            && !(java.util.concurrent.locks.LockSupport.getBlocker(t)
                                    instanceof java.util.concurrent.locks.AbstractQueuedSynchronizer)
                            || s == Thread.State.TERMINATED;
                });
                release.countDown();
            }
            t.join(TimeUnit.SECONDS.toMillis(30));
            if (t.isAlive()) {
                fail("scenario thread still running after 30 s: " + java.util.Arrays.toString(t.getStackTrace()));
            }
            if (!failure.isEmpty()) {
                throw new AssertionError("scenario thread failed", failure.get(0));
            }
        }

        /**
         * One lock of {@code kind} per letter, one class each; then, for each pair "XY", takes X
         * then Y on a fresh thread, one pair after the other.
         */
        void pairs(Kind kind, String... pairs) throws InterruptedException {
            java.util.Map<Character, Lock> byName = new java.util.HashMap<>();
            for (String pair : pairs) {
                for (char ch : pair.toCharArray()) {
                    byName.computeIfAbsent(ch, n -> lock(kind, String.valueOf(n), new LockClassKey(String.valueOf(n))));
                }
            }
            for (String pair : pairs) {
                nest(byName.get(pair.charAt(0)), byName.get(pair.charAt(1)));
            }
        }

        /** Takes the locks in order, then releases them in reverse, on a fresh thread. */
        void nest(Lock... locks) throws InterruptedException {
            on(() -> nestHere(locks));
        }

        void close() {
            if (rt != null) {
                rt.close();
            }
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static void nestHere(Lock... locks) {
        int taken = 0;
        try {
            for (Lock l : locks) {
                l.lock();
                taken++;
            }
        } finally {
            for (int i = taken - 1; i >= 0; i--) {
                locks[i].unlock();
            }
        }
    }

    static void await(CountDownLatch l) {
        try {
            if (!l.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not reached in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Runnable taking(Lock m) {
        return () -> {
            m.lock();
            m.unlock();
        };
    }

    /** Items whose function comes from this one lambda share a class (INIT_WORK at one site). */
    static Work sameSiteItem(String name, Runnable body) {
        return new Work(name, () -> body.run());
    }

    // ------------------------------------------------------------------ locking-selftest.c

    /** The kernel's verdict of a cycle family for a lock kind: only recursive readers are silent. */
    private static Verdict cycle(Kind k) {
        return k == Kind.RLOCK ? Verdict.NONE : Verdict.CIRCULAR;
    }

    static Stream<Row> selftestFamilies() {
        List<Row> rows = new ArrayList<>();
        for (Kind k : Kind.values()) {
            String col = "/" + k.name().toLowerCase();
            rows.add(row("A-A deadlock: two instances of one class" + col,
                    k == Kind.RLOCK ? Verdict.NONE : Verdict.RECURSIVE, c -> {
                        LockClassKey x = new LockClassKey("X");
                        c.nest(c.lock(k, "X1", x), c.lock(k, "X2", x));
                    }));
            rows.add(row("A-B-B-A deadlock" + col, cycle(k), c -> c.pairs(k, "AB", "BA")));
            rows.add(row("A-B-B-C-C-A deadlock" + col, cycle(k), c -> c.pairs(k, "AB", "BC", "CA")));
            rows.add(row("A-B-C-A-B-C deadlock" + col, cycle(k), c -> c.pairs(k, "AB", "CA", "BC")));
            rows.add(row("A-B-B-C-C-D-D-A deadlock" + col, cycle(k), c -> c.pairs(k, "AB", "BC", "CD", "DA")));
            rows.add(row("A-B-C-D-B-D-D-A deadlock" + col, cycle(k), c -> c.pairs(k, "AB", "CD", "BD", "DA")));
            rows.add(row("A-B-C-D-B-C-D-A deadlock" + col, cycle(k), c -> c.pairs(k, "AB", "CD", "BC", "DA")));
            rows.add(row("double unlock" + col, Verdict.RELEASE_NOT_HELD, c -> c.on(() -> {
                Lock a = c.locks(k, "A")[0];
                a.lock();
                a.unlock();
                assertThatThrownBy(a::unlock).isInstanceOf(IllegalMonitorStateException.class);
            })));
            rows.add(row("unlock of a lock held by another thread" + col, Verdict.RELEASE_NOT_HELD, c -> {
                Lock a = c.locks(k, "A")[0];
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch done = new CountDownLatch(1);
                Thread holder = new Thread(() -> {
                    a.lock();
                    held.countDown();
                    await(done);
                    a.unlock();
                });
                holder.start();
                await(held);
                try {
                    c.on(() -> assertThatThrownBy(a::unlock).isInstanceOf(IllegalMonitorStateException.class));
                } finally {
                    done.countDown();
                    holder.join();
                }
            }));
            rows.add(row("bad unlock order (not validated)" + col, Verdict.NONE, c -> c.on(() -> {
                Lock[] l = c.locks(k, "A", "B", "C");
                l[0].lock();
                l[1].lock();
                l[2].lock();
                l[0].unlock();
                l[2].unlock();
                l[1].unlock();
            })));
            rows.add(row("A then B, later B alone, then A then B again" + col, Verdict.NONE, c -> {
                Lock[] l = c.locks(k, "A", "B");
                c.nest(l[0], l[1]);
                c.nest(l[1]);
                c.nest(l[0], l[1]);
            }));
        }
        return rows.stream();
    }

    static Stream<Row> nesting() {
        return Stream.of(
                decided("A-A: the same reentrant instance twice", Verdict.RECURSIVE, Verdict.NONE,
                        "SPEC §5: re-acquiring the same instance of a reentrant lock is legal", c -> {
                            ValidatedLock a = c.mutex("A");
                            c.nest(a, a);
                        }),
                row("A-A: the same non-reentrant instance twice", Verdict.RECURSIVE, c -> {
                    ValidatedLock a = ValidatedLock.builder("A", new LockClassKey("A"), c.lockdep).reentrant(false).build();
                    c.nest(a, a);
                }),
                row("A-A made legal by a subclass (mutex_lock_nested)", Verdict.NONE, c -> c.on(() -> {
                    LockClassKey x = new LockClassKey("X");
                    ValidatedLock x1 = new ValidatedLock("X1", x, c.lockdep);
                    ValidatedLock x2 = new ValidatedLock("X2", x, c.lockdep);
                    x1.lock();
                    x2.lockNested(1);
                    x2.unlock();
                    x1.unlock();
                })),
                row("A-A made legal by a subclass set at construction", Verdict.NONE, c -> {
                    LockClassKey x = new LockClassKey("X");
                    c.nest(new ValidatedLock("X1", x, c.lockdep),
                            ValidatedLock.builder("X2", x, c.lockdep).subclass(1).build());
                }),
                row("subclass inversion: X/0 -> X/1, then X/1 -> X/0", Verdict.CIRCULAR, c -> {
                    LockClassKey x = new LockClassKey("X");
                    ValidatedLock x1 = new ValidatedLock("X1", x, c.lockdep);
                    ValidatedLock x2 = ValidatedLock.builder("X2", x, c.lockdep).subclass(1).build();
                    ValidatedLock x3 = new ValidatedLock("X3", x, c.lockdep);
                    c.nest(x1, x2);
                    c.nest(x2, x3);
                }),
                row("many instances of one class under a nest lock (mutex_lock_nest_lock)", Verdict.NONE, c -> c.on(() -> {
                    ValidatedLock outer = c.mutex("outer");
                    LockClassKey x = new LockClassKey("X");
                    ValidatedLock[] xs = new ValidatedLock[4];
                    for (int i = 0; i < xs.length; i++) {
                        xs[i] = new ValidatedLock("X" + i, x, c.lockdep);
                    }
                    outer.lock();
                    for (ValidatedLock l : xs) {
                        l.lockNestLock(outer);
                    }
                    for (int i = xs.length - 1; i >= 0; i--) {
                        xs[i].unlock();
                    }
                    outer.unlock();
                })),
                row("lockNestLock while the nest lock is not held (\"Nested lock was not taken\")", Verdict.NEST_LOCK_NOT_HELD, c -> c.on(() -> {
                    ValidatedLock outer = c.mutex("outer");
                    LockClassKey x = new LockClassKey("X");
                    ValidatedLock x1 = new ValidatedLock("X1", x, c.lockdep);
                    ValidatedLock x2 = new ValidatedLock("X2", x, c.lockdep);
                    x1.lockNestLock(outer);
                    x2.lockNestLock(outer);
                    x2.unlock();
                    x1.unlock();
                })),
                row("reset() while X/0 and X/1 (lockNested) are held, then another X as X/1", Verdict.RECURSIVE, c -> c.on(() -> {
                    LockClassKey x = new LockClassKey("X");
                    ValidatedLock x1 = new ValidatedLock("X1", x, c.lockdep);
                    ValidatedLock x2 = new ValidatedLock("X2", x, c.lockdep);
                    ValidatedLock x3 = new ValidatedLock("X3", x, c.lockdep);
                    x1.lock();
                    x2.lockNested(1);
                    c.lockdep.reset(); // the selftest's reset_locks(): held locks keep the classes they were taken as
                    x3.lockNested(1);
                    x3.unlock();
                    x2.unlock();
                    x1.unlock();
                })),
                row("initialize held (LockMap)", Verdict.INIT_HELD, c -> c.on(() -> {
                    LockMap m = new LockMap("A", new LockClassKey("A"));
                    c.lockdep.acquire(m);
                    c.lockdep.initialize(m);
                    c.lockdep.release(m);
                })),
                row("lock classes by construction site: two locks from one site", Verdict.RECURSIVE, c -> {
                    ValidatedLock[] l = new ValidatedLock[2];
                    for (int i = 0; i < 2; i++) {
                        l[i] = new ValidatedLock("L" + i, LockClassKey.forCallSite("site:"), c.lockdep);
                    }
                    c.nest(l[0], l[1]);
                }),
                row("lock classes by key: two keys of one name are two classes", Verdict.NONE, c ->
                        c.nest(new ValidatedLock("L0", new LockClassKey("L"), c.lockdep),
                                new ValidatedLock("L1", new LockClassKey("L"), c.lockdep))));
    }

    static Stream<Row> readWrite() {
        return Stream.of(
                decided("recursive read-lock, same instance: rsem", Verdict.RECURSIVE, Verdict.NONE,
                        "SPEC §5: a ReentrantReadWriteLock read re-entered by its holder never waits for a writer", c -> {
                            Lock r = new ValidatedReadWriteLock("X1", new LockClassKey("X"), c.lockdep).readLock();
                            c.nest(r, r);
                        }),
                row("recursive read-lock, same instance: rlock", Verdict.NONE, c -> {
                    Lock r = c.lock(Kind.RLOCK, "X1", new LockClassKey("X"));
                    c.nest(r, r);
                }),
                row("recursive read-lock #2 (X1, X2): rsem", Verdict.RECURSIVE, c -> {
                    LockClassKey x = new LockClassKey("X");
                    c.nest(c.lock(Kind.RSEM, "X1", x), c.lock(Kind.RSEM, "X2", x));
                }),
                row("recursive read-lock #2 (X1, X2): rlock", Verdict.NONE, c -> {
                    LockClassKey x = new LockClassKey("X");
                    c.nest(c.lock(Kind.RLOCK, "X1", x), c.lock(Kind.RLOCK, "X2", x));
                }),
                row("mixed read-write-lock RL(X1) WL(X2): rlock", Verdict.RECURSIVE, c -> {
                    LockClassKey x = new LockClassKey("X");
                    c.nest(c.lock(Kind.RLOCK, "X1", x), c.lock(Kind.WSEM, "X2", x));
                }),
                row("mixed write-read-lock WL(X1) RL(X2): rlock", Verdict.RECURSIVE, c -> {
                    LockClassKey x = new LockClassKey("X");
                    c.nest(c.lock(Kind.WSEM, "X1", x), c.lock(Kind.RLOCK, "X2", x));
                }),
                row("mixed write-read-lock WL(X1) RL(X2): rsem", Verdict.RECURSIVE, c -> {
                    LockClassKey x = new LockClassKey("X");
                    c.nest(c.lock(Kind.WSEM, "X1", x), c.lock(Kind.RSEM, "X2", x));
                }),
                decided("write then read of the same instance (downgrade)", Verdict.RECURSIVE, Verdict.NONE,
                        "SPEC §5: read while holding the same instance's write lock is a legal downgrade", c -> {
                            ValidatedReadWriteLock x = new ValidatedReadWriteLock("X1", new LockClassKey("X"), c.lockdep);
                            c.nest(x.writeLock(), x.readLock());
                        }),
                throwing("read then write of the same instance (upgrade)", Verdict.RECURSIVE, c -> {
                    ValidatedReadWriteLock x = new ValidatedReadWriteLock("X1", new LockClassKey("X"), c.lockdep);
                    c.nest(x.readLock(), x.writeLock());
                }),
                row("read-lock/lock-write ABBA: rlock", Verdict.CIRCULAR, c -> readLockAbba(c, Kind.RLOCK, true)),
                row("read-lock/lock-write ABBA: rsem", Verdict.CIRCULAR, c -> readLockAbba(c, Kind.RSEM, true)),
                row("read-lock/lock-read ABBA: rlock", Verdict.NONE, c -> readLockAbba(c, Kind.RLOCK, false)),
                row("read-lock/lock-read ABBA: rsem", Verdict.CIRCULAR, c -> readLockAbba(c, Kind.RSEM, false)),
                row("write-lock/lock-write ABBA", Verdict.CIRCULAR, c -> {
                    ValidatedReadWriteLock x = new ValidatedReadWriteLock("X1", new LockClassKey("X"), c.lockdep);
                    ValidatedLock y = c.mutex("Y");
                    c.nest(x.writeLock(), y);
                    c.nest(y, x.writeLock());
                }),
                throwing("chain cached mixed R-L/L-W ABBA (rlock_chaincache_ABBA1)", Verdict.CIRCULAR, c -> {
                    ValidatedReadWriteLock x = ValidatedReadWriteLock.builder("X1", new LockClassKey("X"), c.lockdep)
                            .recursiveReaders(true).build();
                    ValidatedLock y = c.mutex("Y");
                    c.nest(x.readLock(), y);
                    c.nest(y, x.readLock());
                    c.nest(y, x.writeLock());   // the cached L(Y) -> RL(X) chain must not hide L(Y) -> WL(X)
                }),
                row("rsem W1R2/R2R3/W3W1 (non-recursive readers block)", Verdict.CIRCULAR, c -> threeCycleOf(c, false, new int[] {0, 1, 2}, "WR", "RR", "WW")),
                decided("A held, recursive read R, then B; B then A elsewhere", Verdict.NONE, Verdict.CIRCULAR,
                        "ours adds A -> B too (a real deadlock: A is held while B is waited for); the kernel stops"
                        + " at the first non-trylock entry, R, and A -(ER)-> R -(SN)-> B -(EN)-> A is not strong", c -> {
                            ValidatedLock a = c.mutex("A");
                            Lock r = c.lock(Kind.RLOCK, "R", new LockClassKey("R"));
                            ValidatedLock b = c.mutex("B");
                            c.nest(a, r, b);
                            c.nest(b, a);
                        }));
    }

    /** The selftest's four W/R three-cycles with recursive readers, each in all six orders of its three steps. */
    static Stream<Row> threeCycles() {
        String[][] families = {{"WR", "WR", "WR"}, {"WW", "RR", "WR"}, {"WW", "RR", "RW"}, {"WR", "RR", "WW"}};
        Verdict[] kernel = {Verdict.CIRCULAR, Verdict.CIRCULAR, Verdict.NONE, Verdict.NONE};
        int[][] orders = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
        List<Row> rows = new ArrayList<>();
        for (int f = 0; f < families.length; f++) {
            String[] p = families[f];
            String name = "rlock " + p[0].charAt(0) + "1" + p[0].charAt(1) + "2/" + p[1].charAt(0) + "2" + p[1].charAt(1) + "3/"
                    + p[2].charAt(0) + "3" + p[2].charAt(1) + "1";
            for (int[] o : orders) {
                rows.add(row(name + "/" + (o[0] + 1) + (o[1] + 1) + (o[2] + 1), kernel[f], c -> threeCycleOf(c, true, o, p)));
            }
        }
        return rows.stream();
    }

    /** RL(X) -> L(Y) on one thread, then L(Y) -> WL(X) (or RL(X)) on another. */
    private static void readLockAbba(Ctx c, Kind reader, boolean thenWrite) throws InterruptedException {
        ValidatedReadWriteLock x = ValidatedReadWriteLock.builder("X1", new LockClassKey("X"), c.lockdep)
                .recursiveReaders(reader == Kind.RLOCK).build();
        ValidatedLock y = c.mutex("Y");
        c.nest(x.readLock(), y);
        c.nest(y, thenWrite ? x.writeLock() : x.readLock());
    }

    /**
     * X, Y, Z read-write locks; "WR" for the first pair means WL(X) then RL(Y), and so on round
     * the cycle; the pairs are taken in {@code order}.
     */
    private static void threeCycleOf(Ctx c, boolean recursive, int[] order, String... pairs) throws InterruptedException {
        ValidatedReadWriteLock[] l = new ValidatedReadWriteLock[3];
        String[] names = {"X", "Y", "Z"};
        for (int i = 0; i < 3; i++) {
            l[i] = ValidatedReadWriteLock.builder(names[i], new LockClassKey(names[i]), c.lockdep)
                    .recursiveReaders(recursive).build();
        }
        for (int i : order) {
            ValidatedReadWriteLock a = l[i];
            ValidatedReadWriteLock b = l[(i + 1) % 3];
            c.nest(pairs[i].charAt(0) == 'W' ? a.writeLock() : a.readLock(),
                    pairs[i].charAt(1) == 'W' ? b.writeLock() : b.readLock());
        }
    }

    static Stream<Row> trylock() {
        return Stream.of(
                row("A then trylock B; B then A elsewhere (a trylock adds no dependency)", Verdict.NONE, c -> {
                    Lock[] l = c.locks(Kind.MUTEX, "A", "B");
                    c.nest(l[0], tried(l[1]));
                    c.nest(l[1], l[0]);
                }),
                row("trylock A then B; B then A elsewhere (a held trylock is a prev)", Verdict.CIRCULAR, c -> {
                    Lock[] l = c.locks(Kind.MUTEX, "A", "B");
                    c.nest(tried(l[0]), l[1]);
                    c.nest(l[1], l[0]);
                }),
                row("A, trylock B, C; C then B elsewhere (looks past the trylock)", Verdict.CIRCULAR, c -> {
                    Lock[] l = c.locks(Kind.MUTEX, "A", "B", "C");
                    c.nest(l[0], tried(l[1]), l[2]);
                    c.nest(l[2], l[1]);
                }),
                row("A, trylock B, C; C then A elsewhere", Verdict.CIRCULAR, c -> {
                    Lock[] l = c.locks(Kind.MUTEX, "A", "B", "C");
                    c.nest(l[0], tried(l[1]), l[2]);
                    c.nest(l[2], l[0]);
                }),
                row("trylock of a second instance of a held class (no recursion for a trylock)", Verdict.NONE, c -> {
                    LockClassKey x = new LockClassKey("X");
                    c.nest(c.lock(Kind.MUTEX, "X1", x), tried(c.lock(Kind.MUTEX, "X2", x)));
                }),
                row("A then trylock B cached, then A then B blocking; B then A elsewhere", Verdict.CIRCULAR, c -> {
                    Lock[] l = c.locks(Kind.MUTEX, "A", "B");
                    c.on(() -> {
                        nestHere(l[0], tried(l[1]));
                        nestHere(l[0], l[1]); // the trylock's chain must not stand for the blocking one
                    });
                    c.nest(l[1], l[0]);
                }),
                row("read trylock under A; write B then A elsewhere", Verdict.NONE, c -> {
                    Lock a = c.mutex("A");
                    ValidatedReadWriteLock b = new ValidatedReadWriteLock("B", new LockClassKey("B"), c.lockdep);
                    c.nest(a, tried(b.readLock()));
                    c.nest(b.writeLock(), a);
                }));
    }

    /** {@code l} taken with tryLock(), which must succeed, when {@link #nestHere} locks it. */
    static Lock tried(Lock l) {
        return new Lock() {
            @Override
            public void lock() {
                assertThat(l.tryLock()).as("tryLock of %s", l).isTrue();
            }

            @Override
            public void unlock() {
                l.unlock();
            }

            @Override
            public void lockInterruptibly() {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean tryLock() {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean tryLock(long time, TimeUnit unit) {
                throw new UnsupportedOperationException();
            }

            @Override
            public java.util.concurrent.locks.Condition newCondition() {
                throw new UnsupportedOperationException();
            }
        };
    }

    /** Every way a validated lock is taken or released, and the graph search's corner cases. */
    static Stream<Row> waysToLock() {
        return Stream.of(
                row("A-B-B-A with lockInterruptibly (mutex_lock_interruptible)", Verdict.CIRCULAR, c -> {
                    ValidatedLock a = c.mutex("A");
                    ValidatedLock b = c.mutex("B");
                    c.nest(a, b);
                    c.on(() -> {
                        b.lockInterruptibly();
                        a.lockInterruptibly();
                        a.unlock();
                        b.unlock();
                    });
                }),
                row("A-B-B-A with a timed tryLock (it can wait)", Verdict.CIRCULAR, c -> {
                    ValidatedLock a = c.mutex("A");
                    ValidatedLock b = c.mutex("B");
                    c.nest(a, b);
                    c.on(() -> {
                        b.lock();
                        assertThat(a.tryLock(30, TimeUnit.SECONDS)).isTrue();
                        a.unlock();
                        b.unlock();
                    });
                }),
                row("A-B-B-A on read-write locks' write sides, the second order through a timed tryLock", Verdict.CIRCULAR, c -> {
                    ValidatedReadWriteLock a = new ValidatedReadWriteLock("A", new LockClassKey("A"), c.lockdep);
                    ValidatedReadWriteLock b = new ValidatedReadWriteLock("B", new LockClassKey("B"), c.lockdep);
                    c.nest(a.writeLock(), b.readLock());
                    c.on(() -> {
                        b.writeLock().lock();
                        assertThat(a.readLock().tryLock(30, TimeUnit.SECONDS)).isTrue();
                        a.readLock().unlock();
                        b.writeLock().unlock();
                    });
                }),
                row("two instances nested as the same subclass", Verdict.RECURSIVE, c -> c.on(() -> {
                    LockClassKey x = new LockClassKey("X");
                    ValidatedLock x1 = new ValidatedLock("X1", x, c.lockdep);
                    ValidatedLock x2 = new ValidatedLock("X2", x, c.lockdep);
                    x1.lockNested(1);
                    x2.lockNested(1);
                    x2.unlock();
                    x1.unlock();
                })),
                row("unlock of the other instance of a held class", Verdict.RELEASE_NOT_HELD, c -> c.on(() -> {
                    LockClassKey x = new LockClassKey("X");
                    ValidatedLock x1 = new ValidatedLock("X1", x, c.lockdep);
                    ValidatedLock x2 = new ValidatedLock("X2", x, c.lockdep);
                    x1.lock();
                    try {
                        assertThatThrownBy(x2::unlock).isInstanceOf(IllegalMonitorStateException.class);
                    } finally {
                        x1.unlock();
                    }
                })),
                row("instances under a nest lock released in any order, then the nest lock", Verdict.NONE, c -> c.on(() -> {
                    ValidatedLock outer = c.mutex("outer");
                    LockClassKey x = new LockClassKey("X");
                    ValidatedLock x1 = new ValidatedLock("X1", x, c.lockdep);
                    ValidatedLock x2 = new ValidatedLock("X2", x, c.lockdep);
                    ValidatedLock x3 = new ValidatedLock("X3", x, c.lockdep);
                    outer.lock();
                    x1.lockNestLock(outer);
                    x2.lockNestLock(outer);
                    x3.lockNestLock(outer);
                    x1.unlock();
                    x3.unlock();
                    x2.unlock();
                    outer.unlock();
                    assertThat(c.lockdep.isHeld(x2.map())).isFalse();
                })),
                row("49 locks held at once (MAX_LOCK_DEPTH 48)", Verdict.CAPACITY, c -> {
                    Lock[] l = new Lock[49];
                    for (int i = 0; i < l.length; i++) {
                        l[i] = c.mutex("L" + i);
                    }
                    c.nest(l);
                }),
                throwing("downgraded X, then its write lock again (upgrade)", Verdict.RECURSIVE, c -> c.on(() -> {
                    ValidatedReadWriteLock x = new ValidatedReadWriteLock("X", new LockClassKey("X"), c.lockdep);
                    x.writeLock().lock();
                    x.readLock().lock();
                    x.writeLock().unlock();
                    try {
                        x.writeLock().lock(); // blocks for good in ReentrantReadWriteLock: refused before
                        x.writeLock().unlock();
                    } finally {
                        x.readLock().unlock();
                    }
                })),
                decided("a strong path the kernel's one-visit search misses: N -(ER)-> C first, N -(EN)-> D -(EN)-> C -(SN)-> P; then P -> N",
                        Verdict.NONE, Verdict.CIRCULAR, "DependencyGraph.strongPath visits a class once per kind of edge"
                        + " that reached it; the kernel's __bfs marks a class visited the first time, through -(ER)-> here,"
                        + " and never follows -(SN)-> out of it (a real four-thread deadlock)", c -> {
                            ValidatedLock n = c.mutex("N");
                            ValidatedLock d = c.mutex("D");
                            ValidatedLock p = c.mutex("P");
                            ValidatedReadWriteLock x = ValidatedReadWriteLock.builder("C", new LockClassKey("C"), c.lockdep)
                                    .recursiveReaders(true).build();
                            c.nest(n, x.readLock());   // N -(ER)-> C, first in N's list
                            c.nest(n, d);              // N -(EN)-> D
                            c.nest(d, x.writeLock());  // D -(EN)-> C
                            c.nest(x.readLock(), p);   // C -(SN)-> P
                            c.nest(p, n);              // P -> N closes P -> N -> D -> C -> P
                        }),
                row("an item returns holding a read lock", Verdict.LEAKED_LOCK, c -> {
                    WorkQueue q = c.queue("q");
                    ValidatedReadWriteLock x = new ValidatedReadWriteLock("X", new LockClassKey("X"), c.lockdep);
                    q.queue(new Work("leaks-x", x.readLock()::lock));
                    q.flush();
                    c.nest(x.writeLock()); // the worker released it: a writer gets in
                }));
    }

    // -------------------------------------------------------------------------- workqueue.c

    static Stream<Row> workqueue() {
        return Stream.of(
                row("flush_workqueue(Q) from an item of Q", Verdict.RECURSIVE, c -> {
                    WorkQueue q = c.queue("q");
                    q.queue(new Work("flusher", q::flush));
                    q.flush();
                }),
                row("flush_workqueue(Q) under M; an item of Q takes M", Verdict.CIRCULAR, c -> queueWaitUnderLock(c, WorkQueue::flush)),
                row("flush_workqueue(Q) under M; an item of Q takes L, another holds L and takes M", Verdict.CIRCULAR, c -> {
                    WorkQueue q = c.queue("q");
                    ValidatedLock m = c.mutex("M");
                    ValidatedLock l = c.mutex("L");
                    q.queue(new Work("takes-l", taking(l)));
                    q.flush();
                    c.nest(l, m);
                    c.on(() -> underLock(m, q::flush));
                }),
                row("flush_workqueue(Q) under M; no item of Q takes M", Verdict.NONE, c -> {
                    WorkQueue q = c.queue("q");
                    ValidatedLock m = c.mutex("M");
                    q.queue(new Work("nothing", () -> { }));
                    q.flush();
                    c.on(() -> underLock(m, q::flush));
                }),
                row("drain_workqueue(Q) under M; an item of Q takes M", Verdict.CIRCULAR, c -> queueWaitUnderLock(c, WorkQueue::drain)),
                row("destroy_workqueue(Q) under M; an item of Q took M", Verdict.CIRCULAR, c -> queueWaitUnderLock(c, WorkQueue::destroy)),
                row("drain_workqueue(Q) from an item of Q", Verdict.RECURSIVE, c -> {
                    WorkQueue q = c.queue("q");
                    q.queue(new Work("drainer", q::drain));
                    q.flush();
                }),
                row("destroy_workqueue(Q) from an item of Q", Verdict.RECURSIVE, c -> {
                    WorkQueue q = c.queue("q");
                    q.queue(new Work("destroyer", q::destroy));
                    q.flush();
                }),
                row("close() of Q under M; an item of Q took M", Verdict.CIRCULAR, c -> queueWaitUnderLock(c, WorkQueue::close)),
                throwing("flush_delayed_work(DW) from an item of an ordered queue, DW armed for that queue", Verdict.RECURSIVE, c -> {
                    WorkQueue q = c.rt().queueBuilder("ordered").ordered().build();
                    org.workqueue4j.DelayedWork dw = new org.workqueue4j.DelayedWork("dw", () -> { });
                    q.queueDelayed(dw, java.time.Duration.ofHours(1));
                    q.queue(new Work("flushes-dw", dw::flush)); // fires dw behind itself, then would wait for it
                    q.flush();
                    assertThat(c.thrown).singleElement().isInstanceOf(PotentialDeadlockException.class);
                }),
                row("timed flush of Q under M; an item of Q takes M", Verdict.CIRCULAR,
                        c -> queueWaitUnderLock(c, q -> q.flush(java.time.Duration.ofSeconds(30)))),
                row("flush_work(W) under M; W took M and is running", Verdict.CIRCULAR,
                        c -> runningUnderLock(c, c.queue("q"), true, Work::flush)),
                decided("flush_work(W) under M; W takes M; W idle at the flush", Verdict.NONE, Verdict.CIRCULAR,
                        "SPEC §5: work.flush() annotates an idle item too (kernels before ~6.9)", c -> {
                            WorkQueue q = c.queue("q");
                            ValidatedLock m = c.mutex("M");
                            Work w = new Work("w", taking(m));
                            q.queue(w);
                            w.flush();
                            c.on(() -> underLock(m, w::flush));
                        }),
                row("timed flush_work(W) under M; W took M and is running", Verdict.CIRCULAR,
                        c -> runningUnderLock(c, c.queue("q"), true, w -> w.flush(java.time.Duration.ofSeconds(30)))),
                row("flush_work(W2) under M; another item of W2's plain queue takes M; W2 running", Verdict.NONE,
                        c -> runningUnderLock(c, c.queue("q"), false, Work::flush)),
                row("flush_work(W2) under M; another item of W2's ordered queue takes M; W2 running", Verdict.CIRCULAR,
                        c -> runningUnderLock(c, c.rt().queueBuilder("ordered").ordered().build(), false, Work::flush)),
                row("flush_work(W2) under M; another item of W2's WQ_MEM_RECLAIM queue takes M; W2 running", Verdict.CIRCULAR,
                        c -> runningUnderLock(c, c.rt().queueBuilder("reclaim").memReclaim().build(), false, Work::flush)),
                row("flush_work(W2) from W1, both on a plain per-CPU queue", Verdict.NONE, c -> siblingFlush(c, c.queue("q"))),
                row("flush_work(W2) from W1, both on a plain unbound queue", Verdict.NONE,
                        c -> siblingFlush(c, c.rt().queueBuilder("u").unbound().build())),
                throwing("flush_work(W2) from W1, both on an ordered queue", Verdict.RECURSIVE,
                        c -> siblingFlush(c, c.rt().queueBuilder("ordered").ordered().build())),
                throwing("flush_work(W2) from W1, both on a max_active=1 per-CPU queue", Verdict.RECURSIVE,
                        c -> siblingFlush(c, c.rt().queueBuilder("one").maxActive(1).build())),
                throwing("flush_work(W2) from W1, both on a WQ_MEM_RECLAIM queue", Verdict.RECURSIVE,
                        c -> siblingFlush(c, c.rt().queueBuilder("reclaim").memReclaim().build())),
                row("flush_work(W2) from W1 of one class (INIT_WORK at one site)", Verdict.RECURSIVE, c -> {
                    WorkQueue q = c.queue("q");
                    Work w2 = sameSiteItem("w2", () -> { });
                    q.queue(sameSiteItem("w1", () -> {
                        q.queue(w2);
                        w2.flush(); // w2 queued (or running on another worker): the kernel touches its map
                    }));
                    q.flush();
                }),
                row("flush_work(W) uses the queue W is on now (was on an ordered queue, now on a plain one)", Verdict.NONE, c -> {
                    WorkQueue ordered = c.rt().queueBuilder("ordered").ordered().build();
                    WorkQueue plain = c.queue("plain");
                    ValidatedLock m = c.mutex("M");
                    ordered.queue(new Work("takes-m", taking(m)));
                    Work w = new Work("w", () -> { });
                    ordered.queue(w);
                    ordered.flush();
                    blockedQueue(c, plain, w, () -> underLock(m, w::flush));
                }),
                row("flush_work(W) uses the queue W is on now (was on a plain queue, now on an ordered one)", Verdict.CIRCULAR, c -> {
                    WorkQueue ordered = c.rt().queueBuilder("ordered").ordered().build();
                    WorkQueue plain = c.queue("plain");
                    ValidatedLock m = c.mutex("M");
                    ordered.queue(new Work("takes-m", taking(m)));
                    ordered.flush();
                    Work w = new Work("w", () -> { });
                    plain.queue(w);
                    plain.flush();
                    blockedQueue(c, ordered, w, () -> underLock(m, w::flush));
                }),
                row("cancel_work_sync(W) under M; W took M and is running", Verdict.CIRCULAR,
                        c -> runningUnderLock(c, c.queue("q"), true, Work::cancelSync)),
                row("cancel_work_sync(W) under M; W takes M and is idle", Verdict.NONE, c -> {
                    WorkQueue q = c.queue("q");
                    ValidatedLock m = c.mutex("M");
                    Work w = new Work("w", taking(m));
                    q.queue(w);
                    q.flush();
                    c.on(() -> underLock(m, w::cancelSync));
                }),
                row("cancel_work_sync(W) under M on an ordered queue another of whose items takes M (no wq map)", Verdict.NONE,
                        c -> runningUnderLock(c, c.rt().queueBuilder("ordered").ordered().build(), false, Work::cancelSync)),
                row("disable_work_sync(W) under M; W took M and is running", Verdict.CIRCULAR,
                        c -> runningUnderLock(c, c.queue("q"), true, Work::disableSync)),
                row("an item of Q1 flushes Q2 and an item of Q2 flushes Q1", Verdict.CIRCULAR, c -> {
                    WorkQueue q1 = c.queue("q1");
                    WorkQueue q2 = c.queue("q2");
                    q2.queue(new Work("warm-up", () -> { }));
                    q2.flush();
                    q1.queue(new Work("flushes-q2", q2::flush));
                    q1.flush();
                    q2.queue(new Work("flushes-q1", q1::flush));
                    q2.flush();
                }),
                row("an item of Q1 flushes Q2; Q1 and Q2 share a lock class (alloc_workqueue_lockdep_map)", Verdict.RECURSIVE, c -> {
                    LockClassKey shared = new LockClassKey("(wq_completion)shared");
                    WorkQueue q1 = c.rt().queueBuilder("q1").lockClass(shared).build();
                    WorkQueue q2 = c.rt().queueBuilder("q2").lockClass(shared).build();
                    q2.queue(new Work("warm-up", () -> { }));
                    q2.flush();
                    q1.queue(new Work("flushes-q2", q2::flush));
                    q1.flush();
                }),
                throwing("W2 of Q2 flushes Q1; later an item of Q1 flushes W2 while it is queued", Verdict.CIRCULAR, c -> {
                    WorkQueue q1 = c.queue("q1");
                    WorkQueue q2 = c.queue("q2");
                    Work w2 = new Work("w2", q1::flush);
                    q2.queue(w2);
                    q2.flush();
                    q1.queue(new Work("flushes-w2", () -> {
                        q2.queue(w2);
                        w2.flush();     // w2 waits for this item: refused under THROW before it blocks
                    }));
                    q1.flush();
                    q2.flush();
                    assertThat(c.thrown).singleElement().isInstanceOf(PotentialDeadlockException.class);
                }),
                row("a freed queue class takes its dependencies with it", Verdict.NONE, c -> {
                    ValidatedLock m = c.mutex("M");
                    WorkQueue q = c.queue("q");
                    q.queue(new Work("takes-m", taking(m)));
                    q.flush();
                    q.destroy();
                    WorkQueue again = c.queue("q");
                    again.queue(new Work("nothing", () -> { }));
                    again.flush();
                    c.on(() -> underLock(m, again::flush));
                }),
                row("A -> B learnt while A -> Q -> B existed; Q destroyed; then B -> A", Verdict.CIRCULAR, c -> {
                    // The kernel adds every direct dependency (check_redundant() is LOCKDEP_SMALL only),
                    // so A -> B outlives Q's class; an edge skipped as redundant must come back when
                    // the path that implied it goes.
                    WorkQueue q = c.queue("q");
                    ValidatedLock a = c.mutex("A");
                    ValidatedLock b = c.mutex("B");
                    q.queue(new Work("takes-b", taking(b)));
                    q.flush();                          // Q -> B
                    c.on(() -> underLock(a, q::flush)); // A -> Q
                    c.nest(a, b);                       // A -> B, implied by A -> Q -> B
                    q.destroy();                        // Q's class and its edges are freed
                    c.nest(b, a);
                }),
                row("A -> B implied by A -> Q1 -> B and A -> Q2 -> B; Q1, then Q2 destroyed; then B -> A", Verdict.CIRCULAR, c -> {
                    WorkQueue q1 = c.queue("q1");
                    WorkQueue q2 = c.queue("q2");
                    ValidatedLock a = c.mutex("A");
                    ValidatedLock b = c.mutex("B");
                    for (WorkQueue q : List.of(q1, q2)) {
                        q.queue(new Work("takes-b", taking(b)));
                        q.flush();
                        c.on(() -> underLock(a, q::flush));
                    }
                    c.nest(a, b);
                    q1.destroy();                       // A -> Q2 -> B still implies A -> B
                    q2.destroy();                       // nothing does now
                    c.nest(b, a);
                }),
                row("destroying one queue of a shared lock class keeps the class's dependencies", Verdict.CIRCULAR, c -> {
                    LockClassKey shared = new LockClassKey("(wq_completion)shared");
                    ValidatedLock m = c.mutex("M");
                    WorkQueue q1 = c.rt().queueBuilder("q1").lockClass(shared).build();
                    WorkQueue q2 = c.rt().queueBuilder("q2").lockClass(shared).build();
                    q1.queue(new Work("takes-m", taking(m)));
                    q1.flush();
                    q2.destroy();
                    c.on(() -> underLock(m, q1::flush));
                }),
                row("an item returns holding a lock", Verdict.LEAKED_LOCK, c -> {
                    WorkQueue q = c.queue("q");
                    ValidatedLock m = c.mutex("M");
                    q.queue(new Work("leaks-m", m::lock));
                    q.flush();
                }),
                row("flush of a never-used Q holding X2 as X/1 (lockNested), then an item of Q takes an X as X/1 (default policy)",
                        Verdict.CIRCULAR, c -> latentWaitUnderSubclass(c, 1)),
                row("flush of a never-used Q holding X2 as X/1 (lockNested), then an item of Q takes an X as X/0 (default policy)",
                        Verdict.NONE, c -> latentWaitUnderSubclass(c, 0)),
                row("flush of a never-used Q under RL(X), recursive readers; then an item of Q takes RL(X) (default policy)",
                        Verdict.NONE, c -> latentWaitUnderRead(c, true)),
                row("flush of a never-used Q under RL(X), non-recursive readers; then an item of Q takes RL(X) (default policy)",
                        Verdict.CIRCULAR, c -> latentWaitUnderRead(c, false)),
                row("cancel_work_sync(W) under M on a WQ_MEM_RECLAIM queue another of whose items takes M (no wq map)", Verdict.NONE,
                        c -> runningUnderLock(c, c.rt().queueBuilder("reclaim").memReclaim().build(), false, Work::cancelSync)),
                decided("destroy of a never-used Q under M (default policy); Q's own class", Verdict.NONE, Verdict.NONE,
                        null, c -> {
                            WorkQueue q = c.rt(FlushAnnotation.DEFER_UNTIL_USED).queueBuilder("q").build();
                            ValidatedLock m = c.mutex("M");
                            c.on(() -> underLock(m, q::destroy));
                        }),
                decided("flush of a never-used Q under M, then an item of Q takes M (default policy)", Verdict.CIRCULAR,
                        Verdict.CIRCULAR, null, c -> {
                            WorkQueue q = c.rt(FlushAnnotation.DEFER_UNTIL_USED).queueBuilder("q").build();
                            ValidatedLock m = c.mutex("M");
                            c.on(() -> underLock(m, q::flush));
                            q.queue(new Work("takes-m", taking(m)));
                            q.flush();
                        }));
    }

    /** Every wait of the API, read-write locks around waits, and items that wait for each other. */
    static Stream<Row> workqueueWaits() {
        return Stream.of(
                row("flush_work: W1 flushes W2 while queued, later W2 flushes W1 while queued (plain queue)", Verdict.CIRCULAR, c -> {
                    WorkQueue q = c.rt().queueBuilder("u").unbound().build();
                    boolean[] second = new boolean[1];
                    Work[] w = new Work[2];
                    w[0] = new Work("w1", () -> {
                        if (!second[0]) {
                            q.queue(w[1]);
                            w[1].flush();
                        }
                    });
                    w[1] = new Work("w2", () -> {
                        if (second[0]) {
                            q.queue(w[0]);
                            w[0].flush();
                        }
                    });
                    q.queue(w[0]);
                    q.flush();
                    second[0] = true; // published to the items by queue()
                    q.queue(w[1]);
                    q.flush();
                }),
                row("flush_workqueue(Q) under RL(X), recursive readers; an item of Q takes RL(X)", Verdict.NONE,
                        c -> rwAroundFlush(c, true, false, false)),
                row("flush_workqueue(Q) under RL(X), non-recursive readers; an item of Q takes RL(X)", Verdict.CIRCULAR,
                        c -> rwAroundFlush(c, false, false, false)),
                row("flush_workqueue(Q) under RL(X); an item of Q takes WL(X)", Verdict.CIRCULAR,
                        c -> rwAroundFlush(c, true, true, false)),
                row("flush_workqueue(Q) under WL(X); an item of Q takes RL(X), recursive readers", Verdict.CIRCULAR,
                        c -> rwAroundFlush(c, true, false, true)),
                row("flushInterruptibly(Q) under M; an item of Q takes M", Verdict.CIRCULAR,
                        c -> queueWaitUnderLock(c, WorkQueue::flushInterruptibly)),
                row("timed drain(Q) under M; an item of Q takes M", Verdict.CIRCULAR,
                        c -> queueWaitUnderLock(c, q -> q.drain(java.time.Duration.ofSeconds(30)))),
                row("flushInterruptibly(W) under M; W took M and is running", Verdict.CIRCULAR,
                        c -> runningUnderLock(c, c.queue("q"), true, Work::flushInterruptibly)),
                row("timed cancel_work_sync(W) under M; W took M and is running", Verdict.CIRCULAR,
                        c -> runningUnderLock(c, c.queue("q"), true, w -> w.cancelSync(java.time.Duration.ofSeconds(30)))),
                throwing("flush_delayed_work(DW) under M, timer armed; DW takes M", Verdict.CIRCULAR, c -> {
                    WorkQueue q = c.queue("q");
                    ValidatedLock m = c.mutex("M");
                    org.workqueue4j.DelayedWork dw = new org.workqueue4j.DelayedWork("dw", taking(m));
                    q.queue(dw);
                    dw.flush();
                    q.queueDelayed(dw, java.time.Duration.ofHours(1));
                    c.on(() -> underLock(m, dw::flush));
                    dw.flush();
                }),
                row("cancel_delayed_work_sync(DW) under M, timer armed; DW takes M", Verdict.NONE, c -> {
                    WorkQueue q = c.queue("q");
                    ValidatedLock m = c.mutex("M");
                    org.workqueue4j.DelayedWork dw = new org.workqueue4j.DelayedWork("dw", taking(m));
                    q.queue(dw);
                    dw.flush();
                    q.queueDelayed(dw, java.time.Duration.ofHours(1));
                    c.on(() -> underLock(m, dw::cancelSync));
                }),
                throwing("schedule_on_each_cpu(fn) under M; fn takes M", Verdict.CIRCULAR, c -> {
                    ValidatedLock m = c.mutex("M");
                    Runnable fn = taking(m);
                    c.rt().scheduleOnEachCpu(fn);
                    c.on(() -> underLock(m, () -> c.rt().scheduleOnEachCpu(fn)));
                    c.rt().system().flush();
                }),
                row("downgraded X held, then Y; Y then WL(X) elsewhere", Verdict.CIRCULAR, c -> {
                    ValidatedReadWriteLock x = new ValidatedReadWriteLock("X", new LockClassKey("X"), c.lockdep);
                    ValidatedLock y = c.mutex("Y");
                    c.on(() -> {
                        x.writeLock().lock();
                        x.readLock().lock();
                        x.writeLock().unlock(); // now a reader
                        y.lock();
                        y.unlock();
                        x.readLock().unlock();
                    });
                    c.nest(y, x.writeLock());
                }),
                row("downgraded X (recursive readers) held, then Y; Y then RL(X) elsewhere", Verdict.NONE, c -> {
                    ValidatedReadWriteLock x = ValidatedReadWriteLock.builder("X", new LockClassKey("X"), c.lockdep)
                            .recursiveReaders(true).build();
                    ValidatedLock y = c.mutex("Y");
                    c.on(() -> {
                        x.writeLock().lock();
                        x.readLock().lock();
                        x.writeLock().unlock();
                        y.lock();
                        y.unlock();
                        x.readLock().unlock();
                    });
                    c.nest(y, x.readLock());
                }),
                row("RL(X) -> RL(Y), then WL(X) -> WL(Y) strengthens the edge; WL(Y) -> WL(X)", Verdict.CIRCULAR, c -> {
                    ValidatedReadWriteLock x = ValidatedReadWriteLock.builder("X", new LockClassKey("X"), c.lockdep)
                            .recursiveReaders(true).build();
                    ValidatedReadWriteLock y = ValidatedReadWriteLock.builder("Y", new LockClassKey("Y"), c.lockdep)
                            .recursiveReaders(true).build();
                    c.nest(x.readLock(), y.readLock());
                    c.nest(x.writeLock(), y.writeLock());
                    c.nest(y.writeLock(), x.writeLock());
                }));
    }

    /**
     * An item of Q takes X (write or read); then a thread holding X (write or read) flushes Q.
     * {@code recursive}: X's readers are recursive.
     */
    private static void rwAroundFlush(Ctx c, boolean recursive, boolean itemWrites, boolean flusherWrites) throws Exception {
        WorkQueue q = c.queue("q");
        ValidatedReadWriteLock x = ValidatedReadWriteLock.builder("X", new LockClassKey("X"), c.lockdep)
                .recursiveReaders(recursive).build();
        q.queue(new Work("takes-x", taking(itemWrites ? x.writeLock() : x.readLock())));
        q.flush();
        c.on(() -> underLock(flusherWrites ? x.writeLock() : x.readLock(), q::flush));
    }

    /** The kernel's check_flush_dependency(): a WQ_MEM_RECLAIM item must not wait for a queue without a rescuer. */
    static Stream<Row> flushDependency() {
        return Stream.of(
                row("an item of a WQ_MEM_RECLAIM queue flushes a !WQ_MEM_RECLAIM queue", Verdict.FLUSH_DEPENDENCY, c -> {
                    WorkQueue reclaim = c.rt().queueBuilder("reclaim").memReclaim().build();
                    WorkQueue plain = c.queue("plain");
                    plain.queue(new Work("warm-up", () -> { }));
                    plain.flush();
                    reclaim.queue(new Work("flushes-plain", plain::flush));
                    reclaim.flush();
                }),
                row("an item of a WQ_MEM_RECLAIM queue drains a !WQ_MEM_RECLAIM queue", Verdict.FLUSH_DEPENDENCY, c -> {
                    WorkQueue reclaim = c.rt().queueBuilder("reclaim").memReclaim().build();
                    WorkQueue plain = c.queue("plain");
                    reclaim.queue(new Work("drains-plain", plain::drain));
                    reclaim.flush();
                }),
                row("an item of a WQ_MEM_RECLAIM queue flushes a work running on a !WQ_MEM_RECLAIM queue", Verdict.FLUSH_DEPENDENCY, c -> {
                    WorkQueue reclaim = c.rt().queueBuilder("reclaim").memReclaim().build();
                    WorkQueue plain = c.rt().queueBuilder("plain").unbound().build();
                    CountDownLatch release = new CountDownLatch(1);
                    Work target = new Work("target", () -> await(release));
                    plain.queue(target);
                    reclaim.queue(new Work("flushes-target", target::flush));
                    try { // the check comes before the wait: the target runs until it is reported (or 30 s)
                        Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> !c.runtimeReports.isEmpty());
                    } catch (org.awaitility.core.ConditionTimeoutException e) {
                        // not reported: the verdict below says so
                    } finally {
                        release.countDown();
                    }
                    reclaim.flush();
                }),
                row("an item of a WQ_MEM_RECLAIM queue flushes an idle work (nothing waited for)", Verdict.NONE, c -> {
                    WorkQueue reclaim = c.rt().queueBuilder("reclaim").memReclaim().build();
                    WorkQueue plain = c.queue("plain");
                    Work target = new Work("target", () -> { });
                    plain.queue(target);
                    plain.flush();
                    reclaim.queue(new Work("flushes-idle", target::flush));
                    reclaim.flush();
                }),
                row("an item of a WQ_MEM_RECLAIM queue cancel-syncs a work of a !WQ_MEM_RECLAIM queue (not checked since 6.13)", Verdict.NONE, c -> {
                    WorkQueue reclaim = c.rt().queueBuilder("reclaim").memReclaim().build();
                    WorkQueue plain = c.rt().queueBuilder("plain").unbound().build();
                    CountDownLatch started = new CountDownLatch(1);
                    CountDownLatch release = new CountDownLatch(1);
                    Work target = new Work("target", () -> {
                        started.countDown();
                        await(release);
                    });
                    plain.queue(target);
                    await(started);
                    reclaim.queue(new Work("cancels-target", () -> {
                        release.countDown();
                        target.cancelSync();
                    }));
                    reclaim.flush();
                }),
                row("an item of a WQ_MEM_RECLAIM queue flushes another WQ_MEM_RECLAIM queue", Verdict.NONE, c -> {
                    WorkQueue reclaim = c.rt().queueBuilder("reclaim").memReclaim().build();
                    WorkQueue other = c.rt().queueBuilder("other").memReclaim().build();
                    other.queue(new Work("warm-up", () -> { }));
                    other.flush();
                    reclaim.queue(new Work("flushes-other", other::flush));
                    reclaim.flush();
                }),
                row("an item of a !WQ_MEM_RECLAIM queue flushes another !WQ_MEM_RECLAIM queue", Verdict.NONE, c -> {
                    WorkQueue first = c.queue("first");
                    WorkQueue plain = c.queue("plain");
                    plain.queue(new Work("warm-up", () -> { }));
                    plain.flush();
                    first.queue(new Work("flushes-plain", plain::flush));
                    first.flush();
                }));
    }

    /**
     * DEFER_UNTIL_USED: a thread holding X2 taken as subclass 1 for this acquisition (its map's
     * is 0) flushes a never-used Q (kept latent), then Q's first item takes another X as
     * {@code itemSubclass}. The latent wait must be replayed with the classes the locks were
     * held as: X/1 -> Q, so an item taking X/1 closes a cycle and one taking X/0 does not.
     */
    private static void latentWaitUnderSubclass(Ctx c, int itemSubclass) throws Exception {
        WorkQueue q = c.rt(FlushAnnotation.DEFER_UNTIL_USED).queueBuilder("q").build();
        LockClassKey x = new LockClassKey("X");
        ValidatedLock x2 = new ValidatedLock("X2", x, c.lockdep);
        ValidatedLock x3 = new ValidatedLock("X3", x, c.lockdep);
        c.on(() -> {
            x2.lockNested(1);
            try {
                q.flush();
            } finally {
                x2.unlock();
            }
        });
        q.queue(new Work("takes-x3", () -> {
            x3.lockNested(itemSubclass);
            x3.unlock();
        }));
        q.flush();
    }

    /** DEFER_UNTIL_USED: the latent wait keeps the mode X was held in (a reader), and the replay uses it. */
    private static void latentWaitUnderRead(Ctx c, boolean recursive) throws Exception {
        WorkQueue q = c.rt(FlushAnnotation.DEFER_UNTIL_USED).queueBuilder("q").build();
        ValidatedReadWriteLock x = ValidatedReadWriteLock.builder("X", new LockClassKey("X"), c.lockdep)
                .recursiveReaders(recursive).build();
        c.on(() -> underLock(x.readLock(), q::flush));
        q.queue(new Work("reads-x", taking(x.readLock())));
        q.flush();
    }

    static void underLock(Lock m, ThrowingRunnable r) throws Exception {
        m.lock();
        try {
            r.run();
        } finally {
            m.unlock();
        }
    }

    interface ThrowingConsumer<T> {
        void accept(T t) throws Exception;
    }

    /** An item of a fresh queue takes M (Q -> M); then a thread holding M waits on the queue with {@code waitOn}. */
    private static void queueWaitUnderLock(Ctx c, ThrowingConsumer<WorkQueue> waitOn) throws Exception {
        WorkQueue q = c.queue("q");
        ValidatedLock m = c.mutex("M");
        q.queue(new Work("takes-m", taking(m)));
        q.flush();
        c.on(() -> underLock(m, () -> waitOn.accept(q)));
    }

    /**
     * W runs on {@code q} and waits to be released; it took M first ({@code itemTakesM}), or an
     * earlier item of {@code q} did. A thread holding M waits on W with {@code waitOn} while W
     * runs (the kernel annotates a running item), and W is released once that thread waits.
     */
    private static void runningUnderLock(Ctx c, WorkQueue q, boolean itemTakesM, ThrowingConsumer<Work> waitOn)
            throws Exception {
        ValidatedLock m = c.mutex("M");
        if (!itemTakesM) {
            q.queue(new Work("takes-m", taking(m)));
            q.flush();
        }
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Work w = new Work("w", () -> {
            if (itemTakesM) {
                m.lock();
                m.unlock();
            }
            started.countDown();
            await(release);
        });
        q.queue(w);
        await(started);
        c.onReleasing(release, () -> underLock(m, () -> waitOn.accept(w)));
        q.flush();
    }

    /** W1 queues W2 behind itself and flushes it; under THROW a predicted deadlock throws before blocking. */
    private static void siblingFlush(Ctx c, WorkQueue q) {
        Work w2 = new Work("w2", () -> { });
        CountDownLatch done = new CountDownLatch(1);
        q.queue(new Work("w1", () -> {
            try {
                q.queue(w2);
                w2.flush();
            } finally {
                done.countDown();
            }
        }));
        await(done);
        q.flush();
    }

    /**
     * Queues {@code w} on {@code q} behind a blocker that holds the queue's only active slot,
     * so that {@code w} is pending there while {@code action} runs; the blocker ends once the
     * action waits (or has ended).
     */
    private static void blockedQueue(Ctx c, WorkQueue q, Work w, ThrowingRunnable action) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        q.queue(new Work("blocker", () -> {
            started.countDown();
            await(release);
        }));
        await(started);
        q.queue(w);
        c.onReleasing(release, action);
        q.flush();
    }

    static Stream<Row> rows() {
        return Stream.of(selftestFamilies(), nesting(), readWrite(), threeCycles(), trylock(), waysToLock(), workqueue(), workqueueWaits(),
                        flushDependency())
                .flatMap(s -> s);
    }

    private Ctx ctx;

    @AfterEach
    void close() {
        if (ctx != null) {
            ctx.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void verdictAsTheKernels(Row r) throws Exception {
        ctx = new Ctx(r.policy());
        try {
            r.body().run(ctx);
        } catch (PotentialDeadlockException e) {
            ctx.thrown.add(e);
        }
        List<LockdepReport> got = new ArrayList<>(ctx.reports);
        Verdict actual = !got.isEmpty() ? Verdict.of(got.get(0).kind())
                : ctx.runtimeReports.stream().anyMatch(t -> t.contains("is flushing !WQ_MEM_RECLAIM")) ? Verdict.FLUSH_DEPENDENCY
                : Verdict.NONE;
        assertThat(actual).as("%s%nkernel: %s, ours expected: %s%s%nreports:%n%s", r.name(), r.kernel(), r.ours(),
                r.decision() == null ? "" : " (" + r.decision() + ")", got.stream().map(LockdepReport::text).toList()
                + "\nruntime: " + ctx.runtimeReports)
                .isEqualTo(r.ours());
        if (r.policy() == ReportPolicy.WARN) {
            assertThat(ctx.thrown).as("work errors / refusals of %s", r.name())
                    .allMatch(t -> t instanceof IllegalStateException);
        }
    }
}
