package org.workqueue4j.lockdep;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.workqueue4j.internal.WorkerPool;

/**
 * The lock dependency validator: the Linux kernel's lockdep for Java.
 *
 * <p>It learns, per lock <em>class</em>, which locks are taken while which others are held,
 * and reports an acquisition that closes a (strong) cycle in that graph, the first time the
 * dangerous order happens, whether or not the threads ever actually deadlock. It also reports
 * recursive locking of a class, releasing a lock that is not held and re-initializing a held
 * lock. Create one per runtime with {@link #builder()}; every instance is independent.
 *
 * <pre>{@code
 * Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.THROW).build();
 * Lock a = new ValidatedLock("a", new LockClassKey("A"), lockdep);
 * }</pre>
 *
 * <p>Thread-safe: held locks are tracked per thread; the dependency graph is updated under one
 * lock and read without it on the cached fast path.
 */
// JSpecify is optional at run time (requires static): its @Nullable in this API is not re-exported on purpose.
@SuppressWarnings("exports")
public final class Lockdep implements LockDependencyValidator {

    /*
     * Implementation Overview
     *
     * State. Each thread has a HeldLocks stack (a ThreadLocal per Lockdep) holding, per entry,
     * the LockMap, its LockClass, the mode, the trylock flag and the chain key of the stack up
     * to and including that entry (the kernel's curr_chain_key, a hash of (class id, mode,
     * trylock) over the stack). The shared state - classes, dependency edges, the chain cache,
     * the site of each chain - is one DependencyGraph generation; reset() swaps in a new one
     * and each HeldLocks lazily re-resolves its classes when it sees a new generation.
     *
     * Fast path (chain cache). acquire() computes the new chain key from the top entry's key
     * (the kernel's iterate_chain_key: extended on acquire; a release in reverse order just
     * pops, restoring the key below) and looks it up in the ChainCache, an open-addressing
     * table of longs read with acquire loads. A hit means this exact sequence of classes and
     * modes was validated before: there is nothing new to learn, so the lock is pushed with no
     * graph work, no lock and no allocation. The cost is one ThreadLocal lookup (none for a
     * ValidatedLock re-taken by its last holder: the lock hands back the holder's stack as a
     * hint, used only after HeldLocks.ownedByCurrentThread() confirms it), one hash and a
     * probe of a shared read-mostly table: it does not grow with the number of threads
     * (hit/miss counters are per thread, summed by stats()). A push onto a slot left over from
     * the same acquisition on the same chain, validated in this generation, needs neither the
     * hash nor the probe: it compares the slot's class, mode and flag with the new ones and
     * stores only the map and the depth (HeldLocks.validatedSlot says why the slot's key is
     * then the chain's, and validated). The
     * release fast path pops the top entry when it is the released lock's; a ValidatedLock
     * passes the stack it recorded while holding the lock, which is its holder's own by
     * construction (ValidatedAcquire.holder; its conditions restore it after await), so the
     * release needs no ownership check (releaseOwned). Both are small methods (pushCached, popTop);
     * every other case goes out of line (acquireSlow, releaseSlow), so that the JIT can inline
     * the fast path into lock()/unlock().
     *
     * Why a stale cache read is safe. The writer inserts a key only after the chain's checks
     * and edges are done (release store); a reader that sees it sees them (acquire load). A
     * reader that misses a key being inserted takes the slow path, which re-checks the cache
     * under graphLock and finds it: a stale miss costs time, never a check. A stale hit cannot
     * happen for a chain of a freed class: keys hash never-reused class uids.
     *
     * Slow path (graph lock). On a miss the thread takes graphLock, re-checks the cache, and
     * runs the kernel's checks: check_deadlock (same class held: recursive locking, except a
     * recursive reader over any reader), then, walking the held stack from the top down to
     * the first lock that is neither a trylock nor a recursive reader (the kernel stops at the
     * first non-trylock; see DependencyGraph.check), check_prev_add: a breadth-first search
     * from the new lock for the held one along a *strong* path - one that never has an
     * -(xR)-> edge directly followed by an -(Sx)-> edge, which by lockdep-design's lemmas is
     * exactly when a cycle can deadlock - then adds the edge with its dependency bits, or ORs
     * the bits into an existing edge, or skips it when an at-least-as-strong path already
     * exists (check_redundant; the skipped dependency is kept, indexed under that path's
     * classes, and becomes an edge if freeing one of them leaves nothing implying it:
     * DependencyGraph.Implied). Only when all checks are done is the chain key inserted into
     * the cache, so a concurrent fast-path hit never skips checks that have not happened yet.
     * Stack traces are captured only here, once per new chain and new edge.
     *
     * Why no cycle is lost (Guava issue #2048). All graph reads (BFS) and writes (edge
     * insertion) happen under the single graphLock. When two threads add the two halves of an
     * ABBA cycle at the same time, their slow paths are serialized: whichever thread runs
     * second sees the first one's edge (the lock's release/acquire orders the list update
     * before the later BFS) and finds the cycle. A per-node or lock-free graph could let both
     * BFSs run before either edge is visible and miss the cycle for good.
     *
     * Reports are built under graphLock (consistent graph) and emitted after it is released,
     * so listeners and loggers may themselves take validated locks. Under WARN_ONCE the
     * first report turns validation off with a compare-and-set on `validating` (the kernel's
     * debug_locks_off(): exactly one thread prints); held locks stay tracked so isHeld()
     * keeps working. Capacity limits turn validation off the same way, with one report. A
     * failed assertion and a leaked lock do not (turnsOff): the kernel's are a WARN_ON and a
     * pr_err, not lockdep splats.
     *
     * Learning under WARN. check() adds every dependency an acquisition makes, also after (and
     * including) a reported one: the acquisition goes ahead, so the edge is real, and a later
     * distinct cycle through it must be found. A chain is cached only with all its edges
     * learnt. Under THROW the refused acquisition learns nothing.
     *
     * Lifetime. Keys are held weakly by the graph; unregisterKey() (a destroyed queue) or the
     * reference queue (a collected key) frees a class with its edges and chains. Chain keys
     * hash the class's never-reused uid, so lock-free readers can never match a freed chain
     * against a new class that reuses the slot.
     *
     * Latent waits (DEFER_UNTIL_USED). deferWait() snapshots the held stack and its trace; the
     * queue keeps it; addLatentWaits() replays it on a HeldLocks without an owner whose trace
     * stands in for the current stack (edges and reports), through the same validateMiss().
     *
     * Nesting. acquireNested() takes a subclass per acquisition; under a held nest lock, an
     * instance of the top entry's class (however that entry was taken) is merged into it, with
     * nothing validated, as __lock_acquire returns 2 (refs, the kernel's
     * hlock->references, plus the list of merged instances, HeldLocks.members, which the
     * kernel does not keep) and released one by one. Assertions, releases and a leak's release
     * find an instance through that list (findHolding), so each instance is held exactly while
     * it is. An instance under a nest lock that is not the top entry's class is checked as the
     * kernel's check_deadlock(): a held entry of its class above the nest lock makes it no
     * deadlock and adds no dependency (DependencyGraph.check).
     *
     * Deeper held locks. check() adds edges only down to the first non-trylock entry; the
     * dependencies on the entries below it are implied by the path through it, and are kept
     * as DependencyGraph.Implied (on a miss only), so that freeing a class on that path does
     * not lose them.
     */

    /** Default class limit, the kernel's {@code MAX_LOCKDEP_KEYS}. */
    public static final int DEFAULT_MAX_CLASSES = 8191;
    /** Default edge limit, the kernel's {@code MAX_LOCKDEP_ENTRIES}. */
    public static final int DEFAULT_MAX_EDGES = 32768;
    /** Default chain limit, the kernel's {@code MAX_LOCKDEP_CHAINS}. */
    public static final int DEFAULT_MAX_CHAINS = 65536;

    private static final VarHandle VALIDATING;

    static {
        try {
            VALIDATING = MethodHandles.lookup().findVarHandle(Lockdep.class, "validating", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ReportPolicy policy;
    private final List<Consumer<LockdepReport>> listeners;
    private final System.@Nullable Logger logger;
    private final int maxClasses;
    private final int maxEdges;
    private final int maxChains;
    private final boolean lockStat;

    /** Serializes every graph read and write (the kernel's graph_lock / lockdep_lock). */
    private final ReentrantLock graphLock = new ReentrantLock();
    /** Current generation; volatile so a reset() is seen by the next acquire of every thread. */
    private volatile DependencyGraph graph;
    /** The kernel's debug_locks: plain volatile reads on the fast path, CAS to turn off. */
    private volatile boolean validating = true;

    private final ThreadLocal<HeldLocks> held = ThreadLocal.withInitial(this::register);
    private final ConcurrentLinkedQueue<HeldLocks> threads = new ConcurrentLinkedQueue<>();
    private final AtomicInteger registrations = new AtomicInteger();
    private final AtomicLong retiredHits = new AtomicLong();
    private final AtomicLong retiredMisses = new AtomicLong();
    private final AtomicLong latentAdded = new AtomicLong();
    private final AtomicLong latentDropped = new AtomicLong();
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    private Lockdep(Builder b) {
        this.policy = b.policy;
        this.listeners = List.copyOf(b.listeners);
        this.logger = b.logger;
        this.maxClasses = b.maxClasses;
        this.maxEdges = b.maxEdges;
        this.maxChains = b.maxChains;
        this.lockStat = b.lockStat;
        this.graph = new DependencyGraph(lockStat, maxEdges);
        initializeFirstUseClasses();
    }

    /**
     * The classes a lock operation would otherwise first initialize on a user's thread, perhaps
     * at the very end of its stack: initialized here, on the builder's thread. A
     * StackOverflowError that strikes a class's initialization marks the class failed for the
     * JVM's life (JVMS 5.5), and with it every validated lock (FirstUseOverflowTest).
     * WorkerPool: the slow path probes the stack through it, and a validator may be used with
     * no runtime built.
     */
    private static final Class<?>[] FIRST_USE_CLASSES = {HeldLocks.class, Frames.class, WorkerPool.class};

    private static void initializeFirstUseClasses() {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        for (Class<?> c : FIRST_USE_CLASSES) {
            try {
                lookup.ensureInitialized(c);
            } catch (IllegalAccessException e) {
                throw new AssertionError(e); // this package's classes, and WorkerPool, public in a package this module reads: all accessible to this lookup
            }
        }
    }

    /** {@return a builder with the kernel's defaults: WARN_ONCE, 8191 classes, 32768 edges, 65536 chains} */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public boolean isEnabled() {
        return true;
    }

    /** {@return whether validation is on (false after a WARN_ONCE report or a capacity overflow, until {@link #reset()})} */
    public boolean isValidating() {
        return validating;
    }

    /** {@return the report policy} */
    public ReportPolicy policy() {
        return policy;
    }

    @Override
    public void acquire(LockMap map, AcquireMode mode, boolean trylock) {
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(mode, "mode");
        acquireLookup(map, mode, trylock);
    }

    /**
     * {@link #acquire(LockMap, AcquireMode, boolean)} for a validated lock that remembers the
     * stack of its last holder: when {@code hint} is the calling thread's stack and the chain
     * is cached, this is the whole acquisition - no {@code ThreadLocal} lookup, no lock, no
     * allocation. Anything else goes out of line to {@link #acquireLookup}, which keeps this
     * method small enough for the JIT to inline into the lock's {@code lock()}.
     *
     * @return the calling thread's stack, on which the lock is now recorded
     */
    HeldLocks acquireFrom(@Nullable HeldLocks hint, LockMap map, AcquireMode mode, boolean trylock) {
        if (hint != null && hint.ownedByCurrentThread() && pushCached(hint, map, mode, trylock)) {
            return hint;
        }
        return acquireLookup(map, mode, trylock);
    }

    /** acquire() with one ThreadLocal lookup: the cached fast path, else {@link #acquireSlow}. */
    private HeldLocks acquireLookup(LockMap map, AcquireMode mode, boolean trylock) {
        HeldLocks h = held.get();
        if (lockStat || !pushCached(h, map, mode, trylock)) {
            acquireSlow(h, map, mode, trylock);
        }
        return h;
    }

    /**
     * The chain-cache fast path (see the overview): if {@code map}'s class is resolved in the
     * current generation and the chain it makes on top of {@code h} is cached (or validation
     * is off), pushes it and returns true; otherwise changes nothing and returns false. Never
     * called with lock_stat on ({@link #acquireLookup} checks; a lock that passes a hint has
     * none then, see {@link ValidatedAcquire}). Reads
     * {@code graph} and {@code validating} (volatile) and the cache slot (acquire); no lock.
     */
    private boolean pushCached(HeldLocks h, LockMap map, AcquireMode mode, boolean trylock) {
        LockClass cls = liveClass(h, map);
        if (cls == null) {
            return false;
        }
        int d = h.depth;
        if (h.validatedSlot(d, cls, mode, trylock)) { // pushed here before on the same chain, validated: no key, no probe
            pushValidated(h, d, map);
            return true;
        }
        long key = HeldLocks.iterateChainKey(d == 0 ? HeldLocks.INITIAL_CHAIN_KEY : h.keys[d - 1], cls, mode, trylock);
        boolean on = validating;
        if (on && !cls.graph.chains.contains(key)) {
            return false;
        }
        if (on) {
            h.hit();
        }
        h.pushTop(map, cls, mode, trylock, key);
        return true;
    }

    /**
     * The checks every fast-path push starts with: {@code map}'s class if it is resolved, live
     * and of the current generation, which {@code h} is on too, and {@code h} has room; else
     * null. Reads {@code graph} (volatile: a {@link #reset()} is seen by the next acquire).
     */
    private @Nullable LockClass liveClass(HeldLocks h, LockMap map) {
        DependencyGraph g = graph;
        LockClass cls = map.classCache;
        if (cls == null || cls.graph != g || h.graph != g || cls.zapped || h.depth >= HeldLocks.MAX_DEPTH) {
            return null;
        }
        return cls;
    }

    /** Pushes {@code map} onto the {@link HeldLocks#validatedSlot} {@code d} of {@code h}: a chain-cache hit. */
    private void pushValidated(HeldLocks h, int d, LockMap map) {
        if (validating) {
            h.hit();
        }
        h.pushMap(d, map);
    }

    /** The rest of acquire(): a new generation, an unresolved class, a cache miss, lock_stat, the depth limit. */
    private void acquireSlow(HeldLocks h, LockMap map, AcquireMode mode, boolean trylock) {
        DependencyGraph g = current(h);
        if (h.depth >= HeldLocks.MAX_DEPTH) {
            depthExceeded(h, g);
            return;
        }
        validateAndPush(h, g, map, classOf(map, g), mode, trylock, null);
    }

    /** The chain-cache fast path, else the slow path; then pushes the lock. */
    private void validateAndPush(HeldLocks h, DependencyGraph g, LockMap map, LockClass cls, AcquireMode mode,
                                 boolean trylock, @Nullable LockMap nest) {
        long key = HeldLocks.iterateChainKey(h.topKey(), cls, mode, trylock);
        if (validating) {
            if (g.chains.contains(key)) {
                h.hit();
            } else {
                h.miss();
                for (LockdepReport r : validateMiss(h, h.depth, g, cls, mode, trylock, key, true, nest)) {
                    emit(r, true); // throws under THROW, before the lock is pushed
                }
            }
        }
        h.push(map, cls, mode, trylock, key, nest);
        if (lockStat && cls.stat != null) {
            cls.stat.acquisitions.increment();
            h.since[h.depth - 1] = System.nanoTime();
        }
    }

    @Override
    public boolean lockStatEnabled() {
        return lockStat;
    }

    @Override
    public void contended(LockMap map, long waitNanos) {
        if (!lockStat) {
            return;
        }
        // The held entry's class, as the kernel's __lock_contended (find_held_lock, hlock_class):
        // the subclass a lockNested() acquisition was recorded as, not the map's own class.
        HeldLocks h = held.get();
        int i = h.findHolding(map);
        LockClass c = i >= 0 ? h.classes[i] : map.classCache;
        if (c != null && c.stat != null) {
            c.stat.contended(waitNanos);
        }
    }

    /**
     * Returns the lock_stat statistics of every live class, most contended first (the kernel's
     * {@code /proc/lock_stat}); empty unless {@link Builder#lockStat(boolean)} is on.
     * Thread-safe; the sums are read while other threads may add to them.
     *
     * @return one entry per class
     */
    public List<LockStat> lockStats() {
        if (!lockStat) {
            return List.of();
        }
        List<LockStat> out = new ArrayList<>();
        lockGraph();
        try {
            for (LockClass c : graph.liveClasses()) {
                LockStatCounters st = c.stat;
                if (st != null) {
                    out.add(st.snapshot(c.name));
                }
            }
        } finally {
            graphLock.unlock();
        }
        out.sort(java.util.Comparator.comparingLong(LockStat::contentions).reversed()
                .thenComparing(java.util.Comparator.comparingLong(LockStat::acquisitions).reversed()));
        return out;
    }

    /**
     * Returns {@link #lockStats()} as a table in the spirit of {@code /proc/lock_stat}.
     *
     * @return the text, one line per class
     */
    public String lockStatText() {
        StringBuilder sb = new StringBuilder(String.format("%-40s %12s %12s %14s %14s %12s %14s %14s%n", "class name",
                "contentions", "waittime-max", "waittime-total", "acquisitions", "", "holdtime-max", "holdtime-total"));
        for (LockStat s : lockStats()) {
            sb.append(String.format("%-40s %12d %12d %14d %14d %12s %14d %14d%n", s.className(), s.contentions(),
                    s.waitMaxNanos(), s.waitTotalNanos(), s.acquisitions(), "", s.holdMaxNanos(), s.holdTotalNanos()));
        }
        return sb.toString();
    }

    @Override
    public void acquireNested(LockMap map, int subclass, AcquireMode mode, @Nullable LockMap nestLock) {
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(mode, "mode");
        if (subclass < 0 || subclass > LockMap.MAX_SUBCLASS) {
            throw new IllegalArgumentException("subclass " + subclass + " of lock '" + map.name() + "' is outside 0.."
                    + LockMap.MAX_SUBCLASS);
        }
        HeldLocks h = held.get();
        DependencyGraph g = current(h);
        // The class first, as __lock_acquire's register_lock_class(): a report below names the
        // lock with the name version its key gets by being registered (M#2, not M).
        LockClass cls = classAs(map, subclass, g);
        LockMap nest = nestLock != null && h.findHolding(nestLock) >= 0 ? nestLock : null;
        if (nestLock != null && nest == null && validating) {
            // Kernel __lock_acquire: "Nested lock was not taken". Misuse, reported (never thrown);
            // the acquisition goes on as a plain one.
            emit(format(g, h, h.depth, f -> f.nestLockNotHeld(map, nestLock)), false);
        }
        int top = h.depth - 1;
        if (nest != null && top >= 0 && h.classes[top] == cls) {
            // The kernel's reference merge: one held entry for all the instances, so sorted
            // multi-instance locking needs no subclass per instance and no held-stack slot per lock.
            // As in __lock_acquire, whatever way the top entry was taken (plain, or under another
            // nest lock): nothing is validated. An entry taken plain gets the nest lock, so that
            // the release fast path (popTop: nests[top] == null) leaves a merged entry alone.
            if (h.nests[top] == null) {
                h.nests[top] = nest;
            }
            h.refs[top] = (h.refs[top] == 0 ? 1 : h.refs[top]) + 1;
            h.merge(top, map); // which instances: for assertions, releases and a leak's release (HeldLocks.members)
            return;
        }
        if (h.depth >= HeldLocks.MAX_DEPTH) {
            depthExceeded(h, g);
            return;
        }
        validateAndPush(h, g, map, cls, mode, false, nest);
    }

    @Override
    public void release(LockMap map) {
        Objects.requireNonNull(map, "map");
        releaseLookup(map);
    }

    /**
     * {@link #release(LockMap)} for an exclusive lock that guarantees its hint: {@code hint} is
     * the calling thread's own stack, because the lock was acquired through
     * {@link #acquireFrom} (or had the stack stored by {@link #stack()}) and every path that
     * re-acquires it stores the holder's stack again before its holder can release it (the
     * conditions of a {@link ValidatedLock} and of a read-write lock's write side restore it
     * after an {@code await}). So no ownership check: pops the top entry when it is
     * {@code map}'s own, anything else goes out of line to {@link #releaseLookup}.
     */
    void releaseOwned(HeldLocks hint, LockMap map) {
        if (!popTop(hint, map)) {
            releaseLookup(map);
        }
    }

    /** {@return the calling thread's stack (one ThreadLocal lookup), for a lock to remember as its holder's} */
    HeldLocks stack() {
        return held.get();
    }

    /** release() with one ThreadLocal lookup: {@link #popTop}, else {@link #releaseSlow}. */
    private void releaseLookup(LockMap map) {
        HeldLocks h = held.get();
        if (lockStat || !popTop(h, map)) {
            releaseSlow(h, map);
        }
    }

    /**
     * The release fast path: pops the top entry when it is {@code map}'s own, one acquisition
     * (no merged nest-lock references) - releases in reverse order, the common case; never
     * called with lock_stat on (as for {@link #pushCached}). It needs no generation check, since popping reads no class; everything else
     * (out-of-order release, references, a lock not held) is {@link #releaseSlow}'s.
     */
    private boolean popTop(HeldLocks h, LockMap map) {
        int top = h.depth - 1;
        if (top < 0 || h.maps[top] != map || h.nests[top] != null) { // refs > 0 implies a nest
            return false;
        }
        h.popTop();
        return true;
    }

    private void releaseSlow(HeldLocks h, LockMap map) {
        DependencyGraph g = current(h);
        int i = h.findHolding(map);
        if (i >= 0 && h.refs[i] > 0 && --h.refs[i] > 0) {
            h.unmerge(i, map);
            return; // one of several instances merged under a nest lock: the entry stays
        }
        if (lockStat && i >= 0 && h.classes[i].stat != null) {
            h.classes[i].stat.held(System.nanoTime() - h.since[i]);
        }
        if (i < 0) {
            if (h.unrecorded > 0) {
                // A lock taken past MAX_LOCK_DEPTH was never recorded (depthExceeded): its
                // release is not a bad unlock, even after a reset() turned validation back on.
                // The releases of unrecorded holds are not told apart; there is at most one
                // report per overflow anyway (validation is off until a reset).
                h.unrecorded--;
                return;
            }
            if (validating) {
                emit(format(g, h, h.depth, f -> f.releaseNotHeld(map)), false);
            }
            return;
        }
        h.remove(i);
        if (i < h.depth) {
            // Releasing out of order: the locks above form new chains (the kernel re-acquires them).
            h.rehash(i);
            for (int j = i; j < h.depth && validating; j++) {
                LockMap nest = h.nests[j];
                if (h.ownNests[j] && h.findHolding(nest) < 0) {
                    // The kernel's reacquire_held_locks() -> __lock_acquire(.., hlock->nest_lock):
                    // the lock this entry was taken under was released first, "Nested lock was
                    // not taken". Once: the entry goes on as one taken plain, as acquireNested's
                    // does (a merged entry keeps its nest as the mark popTop needs, refs > 0).
                    LockMap entry = h.maps[j];
                    LockMap notHeld = nest;
                    emit(format(g, h, h.depth, f -> f.nestLockNotHeld(entry, notHeld)), false);
                    h.ownNests[j] = false;
                    if (h.refs[j] == 0) {
                        h.nests[j] = null;
                    }
                    nest = null;
                }
                if (!g.chains.contains(h.keys[j])) {
                    for (LockdepReport r : validateMiss(h, j, g, h.classes[j], h.modes[j], h.trylocks[j], h.keys[j], false, nest)) {
                        emit(r, false);
                    }
                }
            }
        }
    }

    @Override
    public void downgrade(LockMap map, AcquireMode readMode) {
        Objects.requireNonNull(map, "map");
        if (!readMode.isRead()) {
            throw new IllegalArgumentException("downgrade of lock '" + map + "' needs a read mode, not " + readMode);
        }
        HeldLocks h = held.get();
        DependencyGraph g = current(h);
        int i = h.findHolding(map); // an instance merged under a nest lock downgrades its entry (__lock_downgrade, find_held_lock)
        if (i < 0) {
            if (validating) {
                emit(format(g, h, h.depth, f -> f.releaseNotHeld(map)), false);
            }
            return;
        }
        h.modes[i] = readMode;
        h.rehash(i);
    }

    @Override
    public void initialize(LockMap map) {
        Objects.requireNonNull(map, "map");
        map.classCache = null;
        if (!validating) {
            return;
        }
        String holder = null;
        for (HeldLocks t : threads) {
            int d = Math.min(t.depth, HeldLocks.MAX_DEPTH); // racy read of another thread's stack: best effort
            for (int i = 0; i < d && holder == null; i++) {
                // the instance itself, or one merged into an entry under a nest lock (HeldLocks.holds)
                if (t.maps[i] == map || (t.refs[i] > 0 && mergedMember(t, i, map))) {
                    Thread owner = t.owner.get();
                    holder = owner == null ? "?" : owner.getName();
                }
            }
        }
        if (holder != null) {
            String who = holder;
            HeldLocks h = held.get();
            emit(format(current(h), h, h.depth, f -> f.initHeld(map, who)), false);
        }
    }

    /**
     * True if entry {@code i} of another thread's stack {@code t} lists {@code map} among its
     * merged instances. A racy read, as the rest of {@link #initialize}: the list may change
     * under it, so a concurrent modification or an index race means "not found" (best effort).
     */
    private static boolean mergedMember(HeldLocks t, int i, LockMap map) {
        java.util.List<LockMap> m = t.members[i];
        if (m == null) {
            return false;
        }
        try {
            for (Object x : m.toArray()) {
                if (x == map) {
                    return true;
                }
            }
        } catch (RuntimeException racedWithTheOwner) {
            // the owner changed its list while we copied it: best effort, as for the arrays
        }
        return false;
    }

    @Override
    public @Nullable LatentWait deferWait(LockMap map) {
        Objects.requireNonNull(map, "map");
        HeldLocks h = held.get();
        int d = h.depth;
        if (!validating || d == 0) {
            return null; // nothing held: waiting on the queue adds no dependency
        }
        current(h);
        int[] subclasses = new int[d];
        for (int i = 0; i < d; i++) {
            subclasses[i] = heldSubclass(h, i);
        }
        return new LatentWait(java.util.Arrays.copyOf(h.maps, d), java.util.Arrays.copyOf(h.classes, d), subclasses,
                java.util.Arrays.copyOf(h.modes, d),
                java.util.Arrays.copyOf(h.trylocks, d), Frames.capture(), Thread.currentThread().getName(), h.keys[d - 1]);
    }

    @Override
    public void addLatentWaits(LockMap map, List<LatentWait> waits) {
        Objects.requireNonNull(map, "map");
        for (LatentWait w : waits) {
            latentAdded.incrementAndGet();
            if (!validating) {
                continue;
            }
            DependencyGraph g = graph;
            if (w.classes[0].graph != g) {
                // Deferred before a reset(), which forgets every dependency, a deferred one too.
                // Replayed, it would also look up the maps of queues destroyed since, whose keys
                // the new graph never saw unregistered: classes nothing frees any more.
                continue;
            }
            HeldLocks replay = new HeldLocks(w.thread, w.trace);
            replay.graph = g;
            for (int i = 0; i < w.maps.length; i++) {
                LockClass was = w.classes[i];
                if (was.zapped) {
                    // Freed since (a destroyed queue's, or collected): its dependencies went with
                    // it, and looking its map up would register the key again, a class nothing
                    // frees any more. Read without the graph lock: a replay racing the destroy
                    // counts as one made before it.
                    continue;
                }
                LockClass c = classAs(w.maps[i], w.subclasses[i], g);
                replay.push(w.maps[i], c, w.modes[i], w.trylocks[i],
                        HeldLocks.iterateChainKey(replay.topKey(), c, w.modes[i], w.trylocks[i]));
            }
            LockClass cls = classOf(map, g);
            long key = HeldLocks.iterateChainKey(replay.topKey(), cls, AcquireMode.EXCLUSIVE, false);
            if (g.chains.contains(key)) {
                continue;
            }
            // Learnt like a WARN acquisition (the wait happened); reported, never thrown.
            for (LockdepReport r : validateMiss(replay, replay.depth, g, cls, AcquireMode.EXCLUSIVE, false, key, false, null)) {
                emit(r, false);
            }
        }
    }

    @Override
    public void dropLatentWaits(int count) {
        if (count > 0) {
            latentDropped.addAndGet(count);
        }
    }

    @Override
    public void checkLeaks(LockMap base, String function, String queue) {
        HeldLocks h = held.get();
        int i = h.find(base);
        if (i < 0 || i == h.depth - 1) {
            return; // the common case: the item's map is on top
        }
        DependencyGraph g = current(h);
        LockdepReport r = validating ? format(g, h, h.depth, f -> f.leaked(i + 1, function, queue)) : null;
        while (h.depth > i + 1) {
            // Every instance the entry holds: one merged under a nest lock is as leaked as the one
            // the entry is named after (README: the worker releases every hold).
            List<LockMap> leaked = h.instances(h.depth - 1);
            h.remove(h.depth - 1); // forgotten first: the real unlock below must not report it as not held
            for (LockMap m : leaked) {
                if (m.leakRelease != null && h.findHolding(m) < 0) {
                    m.leakRelease.run();
                }
            }
        }
        if (r != null) {
            emit(r, false);
        }
    }

    @Override
    public void assertHeld(LockMap map, LockAssertion expected) {
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(expected, "expected");
        if (!validating) {
            return;
        }
        HeldLocks h = held.get();
        // The held entry of map itself, or of the nest-lock merge it is one of (the kernel's
        // match_held_lock(); exact per instance here, see HeldLocks.members): an instance taken
        // under a nest lock is held while it is, and a released one is not, whichever instance
        // the merged entry is named after.
        int i = h.findHolding(map);
        boolean ok;
        switch (expected) {
            case NOT_HELD:
                ok = i < 0;
                break;
            case HELD_READ:
                ok = i >= 0 && h.modes[i].isRead();
                break;
            case HELD_WRITE:
                ok = i >= 0 && h.modes[i] == AcquireMode.EXCLUSIVE;
                break;
            default:
                ok = i >= 0;
        }
        if (ok) {
            return;
        }
        LockdepReport r = format(current(h), h, h.depth, f -> f.assertion(map, expected));
        emit(r, false);
        if (policy == ReportPolicy.THROW) {
            throw new IllegalStateException(r.title() + "\n" + r.text());
        }
    }

    /**
     * Returns a consistent copy of the classes with their dependency counts, the validated
     * chains and every known thread's held locks (the kernel's {@code /proc/lockdep},
     * {@code /proc/lockdep_chains} and {@code debug_show_all_locks()}), as data with a
     * {@link LockdepSnapshot#text() text} rendering. Also sweeps ended threads (see
     * {@link LockdepReport.Kind#HELD_AT_EXIT}). Thread-safe; takes the graph lock, so it is
     * meant for diagnostics, not hot paths.
     *
     * @return the snapshot
     */
    public LockdepSnapshot snapshot() {
        LockdepStats s = stats();
        lockGraph();
        try {
            DependencyGraph g = graph;
            List<LockdepSnapshot.ClassInfo> classes = new ArrayList<>();
            for (LockClass c : g.liveClasses()) {
                List<String> after = new ArrayList<>(c.after.size());
                for (LockDependency e : c.after) {
                    after.add(e.to.name);
                }
                classes.add(new LockdepSnapshot.ClassInfo(c.name, c.after.size(), c.before.size(), List.copyOf(after)));
            }
            List<LockdepSnapshot.ChainInfo> chains = new ArrayList<>();
            for (DependencyGraph.Chain ch : g.chainInfo.values()) {
                List<String> names = new ArrayList<>(ch.classes.length);
                for (int i = 0; i < ch.classes.length; i++) {
                    names.add(ch.classes[i].name + (ch.modes[i].isRead() ? " (read)" : ""));
                }
                chains.add(new LockdepSnapshot.ChainInfo(List.copyOf(names), ch.at));
            }
            List<LockdepSnapshot.ThreadLocks> threadLocks = new ArrayList<>();
            for (HeldLocks t : threads) {
                int d = Math.min(t.depth, HeldLocks.MAX_DEPTH); // racy read of another thread's stack
                // A stack still on an earlier generation (its owner has not acquired or released
                // since a reset) shows its locks too: they stay held across the reset.
                List<String> lines = new ReportFormatter(g, t, d, t.threadName).heldLines();
                threadLocks.add(new LockdepSnapshot.ThreadLocks(t.threadName, t.ownerAlive(), List.copyOf(lines)));
            }
            return new LockdepSnapshot(List.copyOf(classes), List.copyOf(chains), List.copyOf(threadLocks), s);
        } finally {
            graphLock.unlock();
        }
    }

    @Override
    public boolean isHeld(LockMap map) {
        return held.get().findHolding(map) >= 0;
    }

    /** {@return the number of reports emitted since construction or the last {@link #reset()}} */
    public int reportCount() {
        return reports.size();
    }

    /** {@return the reports emitted since construction or the last {@link #reset()}, oldest first} */
    public List<LockdepReport> reports() {
        return List.copyOf(reports);
    }

    /**
     * Forgets every class, dependency, chain and report and turns validation back on, like the
     * selftest's {@code lockdep_reset()}; a wait deferred until its queue's first use
     * ({@code FlushAnnotation.DEFER_UNTIL_USED}) before the reset is forgotten with them.
     * Locks held across a reset stay held; their classes
     * are re-created in the new graph on the holder's next acquire or release.
     */
    public void reset() {
        lockGraph();
        try {
            graph = new DependencyGraph(lockStat, maxEdges);
            reported.clear();
            reports.clear();
            retiredHits.set(0);
            retiredMisses.set(0);
            latentAdded.set(0);
            latentDropped.set(0);
            validating = true;
        } finally {
            graphLock.unlock();
        }
    }

    /**
     * Frees the classes of {@code key} (every subclass), with their dependencies and cached
     * chains, the kernel's {@code lockdep_unregister_key()}: a destroyed queue calls it for its
     * own key so that a service creating a queue per connection never fills the class table.
     * Locks of that key used afterwards get a new class. Keys that become unreachable are freed
     * the same way without this call (the graph holds keys weakly). Thread-safe.
     *
     * @param key the key whose classes to free; not null
     */
    @Override
    public void unregisterKey(LockClassKey key) {
        Objects.requireNonNull(key, "key");
        @Nullable LockMap heldMap = null;
        @Nullable String holder = null;
        if (validating) {
            for (HeldLocks t : threads) {
                // A racy read of another thread's stack (as initialize()'s): best effort for
                // other threads, exact for the caller's own. Merged members share the entry's
                // class, so its map's key stands for them.
                int d = Math.min(t.depth, HeldLocks.MAX_DEPTH);
                for (int i = 0; i < d && holder == null; i++) {
                    LockMap m = t.maps[i];
                    if (m != null && m.key() == key) {
                        heldMap = m;
                        holder = t.threadName;
                    }
                }
            }
        }
        boolean full;
        lockGraph();
        try {
            graph.unregister(key);
            full = graph.takeEdgeLimitHit();
        } finally {
            graphLock.unlock();
        }
        if (full) {
            edgeLimitHit(); // the dependencies its classes implied became edges, and the graph filled up
        }
        if (holder != null && heldMap != null) {
            // The kernel: a freed class still in a held entry trips DEBUG_LOCKS_WARN_ON in
            // hlock_class() (or "held lock freed!") and turns lockdep off. The entry keeps the
            // freed class, which takes part in no dependency any more, so every later answer
            // involving it would be silently wrong: one report, then validation is off (until
            // reset(), as after a capacity report). validating is volatile: every thread's next
            // acquire sees it off.
            LockMap m = heldMap;
            String who = holder;
            HeldLocks h = held.get();
            emit(format(current(h), h, h.depth, f -> f.heldKeyUnregistered(m, who)), false);
            validating = false;
        }
    }

    /**
     * Reports MAX_LOCKDEP_ENTRIES for an implied dependency that freeing a class turned into an
     * edge when the graph was full (DependencyGraph.reimply dropped it): as when check() meets
     * the bound, the report ends validation. Called with no lock held; never thrown.
     */
    private void edgeLimitHit() {
        if (validating) {
            HeldLocks h = held.get();
            DependencyGraph g = current(h);
            emit(format(g, h, h.depth, f -> f.capacity("MAX_LOCKDEP_ENTRIES", maxEdges)), false);
        }
    }

    /** {@return the counters of the current generation} */
    public LockdepStats stats() {
        prune();
        long hits = retiredHits.get();
        long misses = retiredMisses.get();
        lockGraph();
        try {
            DependencyGraph g = graph;
            for (HeldLocks t : threads) {
                if (t.graph == g) {
                    hits += t.hits();
                    misses += t.misses();
                }
            }
            g.expungeCollectedKeys();
            return new LockdepStats(hits, misses, g.classCount(), g.edgeCount(), g.chains.size(), g.freedClassCount(),
                    latentAdded.get(), latentDropped.get());
        } finally {
            graphLock.unlock();
        }
    }

    @Override
    public String toString() {
        LockdepStats s = stats();
        return "Lockdep[" + policy + (validating ? "" : ", off") + ", classes=" + s.classes()
                + ", edges=" + s.edges() + ", chains=" + s.chains() + ", reports=" + reportCount() + "]";
    }

    // ---------------------------------------------------------------------------------------

    private HeldLocks register() {
        HeldLocks h = new HeldLocks(Thread.currentThread());
        threads.add(h);
        if ((registrations.incrementAndGet() & 63) == 0) {
            prune();
        }
        return h;
    }

    /**
     * Drops the stacks of dead threads, keeping their counters, and reports a thread that ended
     * holding validated locks (the kernel's check at exit). Runs every 64 thread registrations
     * and from {@link #stats()}: Java has no hook at the end of an arbitrary thread.
     */
    private void prune() {
        DependencyGraph g = graph;
        for (HeldLocks t : threads) {
            if (!t.ownerAlive() && threads.remove(t)) {
                if (t.graph == g) {
                    retiredHits.addAndGet(t.hits());
                    retiredMisses.addAndGet(t.misses());
                }
                // The dead owner wrote its stack; its termination happens-before isAlive() false.
                // Locks held across a reset stay held: an owner that ended holding them is
                // reported whatever generation its stack was last on.
                if (t.depth > 0 && validating) {
                    emit(format(g, t, t.depth, f -> new ReportFormatter(g, t, t.depth, t.threadName).heldAtExit()), false);
                }
            }
        }
    }

    /** Returns the current generation, first moving {@code h} onto it if a reset happened. */
    private DependencyGraph current(HeldLocks h) {
        DependencyGraph g = graph;
        if (h.graph != g) {
            for (int i = 0; i < h.depth; i++) {
                h.classes[i] = classAs(h.maps[i], heldSubclass(h, i), g);
            }
            h.rehash(0);
            h.clearAbove();
            h.trustFrom = h.depth; // re-keyed, not validated in this generation (see HeldLocks.validatedSlot)
            h.resetCounters();
            h.graph = g;
        }
        return g;
    }

    /**
     * How the calling thread holds {@code map}, for a condition wait that drops and re-takes it
     * ({@code ValidatedAcquire}'s holder condition) to re-take it as it was taken: the subclass
     * of its held entry ({@code lockNested}) and the nest lock that entry is under
     * ({@code lockNestLock}, or a merge into it); null when it is held plainly, or not at all
     * (a plain re-acquisition).
     */
    @Nullable HeldAs heldAs(LockMap map) {
        HeldLocks h = held.get();
        int i = h.findHolding(map);
        if (i < 0) {
            return null;
        }
        int subclass = heldSubclass(h, i);
        LockMap nest = h.nests[i];
        return subclass == map.subclass() && nest == null ? null : new HeldAs(subclass, nest);
    }

    /** A held lock's annotations: the subclass its entry was taken as, and its nest lock or null. */
    record HeldAs(int subclass, @Nullable LockMap nest) {
    }

    /**
     * The subclass held entry {@code i} was taken as: a {@code lockNested()} entry's is not its
     * map's. An entry of the overflow class (the class table was full) counts as its map's own.
     */
    private static int heldSubclass(HeldLocks h, int i) {
        LockClass c = h.classes[i];
        return c == c.graph.overflow ? h.maps[i].subclass() : c.subclass;
    }

    /**
     * The class of {@code map} taken as {@code subclass}: its own class for its own subclass,
     * else the per-acquisition one (lockNested). Whoever re-resolves a held entry (a new
     * generation, a latent wait's replay) passes the subclass the entry was taken as, not the
     * map's: X/1 -&gt; Q is another dependency than X/0 -&gt; Q.
     */
    private LockClass classAs(LockMap map, int subclass, DependencyGraph g) {
        return subclass == map.subclass() ? classOf(map, g) : classOf(map, subclass, g);
    }

    /** The class of {@code map} taken as {@code subclass} for one acquisition (lockNested). */
    private LockClass classOf(LockMap map, int subclass, DependencyGraph g) {
        LockClass[] cache = map.subclassCache;
        LockClass c = cache == null ? null : cache[subclass];
        if (c != null && c.graph == g && !c.zapped) {
            return c;
        }
        lockGraph();
        try {
            c = g.classFor(map.key(), subclass, maxClasses);
            if (c == null) {
                return g.overflow; // the table is full: reported by the map's own class lookup
            }
            if (cache == null) {
                cache = new LockClass[LockMap.MAX_SUBCLASS + 1];
                map.subclassCache = cache;
            }
            cache[subclass] = c; // racy publish: LockClass's fields are final, as for classCache
            return c;
        } finally {
            graphLock.unlock();
        }
    }

    private LockClass classOf(LockMap map, DependencyGraph g) {
        LockClass c = map.classCache;
        if (c != null && c.graph == g && !c.zapped) {
            return c;
        }
        LockdepReport overflow = null;
        lockGraph();
        try {
            c = g.classFor(map.key(), map.subclass(), maxClasses);
            if (c == null) {
                c = g.overflow;
                if (validating) {
                    HeldLocks h = held.get();
                    overflow = new ReportFormatter(g, h, h.depth).capacity("MAX_LOCKDEP_KEYS", maxClasses);
                }
            } else {
                map.classCache = c;
            }
        } finally {
            graphLock.unlock();
        }
        if (overflow != null) {
            emit(overflow, false);
        }
        return c;
    }

    /**
     * The slow path of a chain-cache miss: validates acquiring {@code cls} on top of the first
     * {@code depth} held entries and caches the chain. Returns a report to emit, or null.
     * {@code fromAcquire}: a blocking acquire, which THROW refuses on a report (so nothing of it
     * is learnt); otherwise (a re-validation after an out-of-order release) the locks are held.
     */
    private List<LockdepReport> validateMiss(HeldLocks h, int depth, DependencyGraph g, LockClass cls,
                                       AcquireMode mode, boolean trylock, long key, boolean fromAcquire,
                                       @Nullable LockMap nest) {
        // Deep enough for the whole check and its report: an overflow inside them would leave
        // the chain cached and its dependencies learnt with the report never made, and the next
        // acquisition, a cache hit, would never check again (LockdepOverflowTest).
        WorkerPool.probeStackDeep();
        lockGraph();
        try {
            if (!validating || graph != g || cls.zapped || g.chains.contains(key)) {
                return List.of(); // (a zapped class: a lock of a queue being destroyed; nothing to learn)
            }
            if (g.chains.size() >= maxChains) {
                return List.of(new ReportFormatter(g, h, depth).capacity("MAX_LOCKDEP_CHAINS", maxChains));
            }
            String at = h.trace == null ? Frames.caller() : h.trace.isEmpty() ? "?" : h.trace.get(0);
            boolean learnAll = policy != ReportPolicy.THROW || !fromAcquire;
            List<DependencyGraph.Violation> vs = trylock ? List.of() : g.check(h, depth, cls, mode, maxEdges, learnAll, nest);
            if (g.takeEdgeLimitHit()) { // a collected key's classes freed on a lookup: their implied dependencies found the graph full
                vs = new ArrayList<>(vs);
                vs.add(DependencyGraph.Violation.capacity("MAX_LOCKDEP_ENTRIES"));
            }
            boolean capacity = vs.stream().anyMatch(v -> v.kind == LockdepReport.Kind.CAPACITY);
            if (vs.isEmpty() || (!capacity && learnAll)) {
                // Only now, and only with every dependency of the chain learnt: a fast-path hit
                // must imply the checks are done and nothing of the chain is missing (defect 3).
                LockClass[] chainClasses = new LockClass[depth + 1];
                AcquireMode[] chainModes = new AcquireMode[depth + 1];
                System.arraycopy(h.classes, 0, chainClasses, 0, depth);
                System.arraycopy(h.modes, 0, chainModes, 0, depth);
                chainClasses[depth] = cls;
                chainModes[depth] = mode;
                g.addChain(key, at, chainClasses, chainModes);
            }
            if (vs.isEmpty()) {
                return List.of();
            }
            List<LockdepReport> out = new ArrayList<>(vs.size());
            try {
                ReportFormatter f = new ReportFormatter(g, h, depth);
                for (DependencyGraph.Violation v : vs) {
                    switch (v.kind) {
                        case CIRCULAR:
                            out.add(f.circular(cls, mode, v));
                            break;
                        case RECURSIVE:
                            out.add(f.recursive(cls, mode, v));
                            break;
                        default:
                            out.add(f.capacity(Objects.requireNonNull(v.limit, "capacity violation names its limit"), maxEdges));
                    }
                }
            } catch (RuntimeException | Error formatting) {
                // The check is done and learnt: a report that cannot be formatted in full (an
                // Error the probe above did not forestall, a failing toString) is still made,
                // short, or the violation would be lost for good (the chain is cached now).
                out.clear();
                for (DependencyGraph.Violation v : vs) {
                    out.add(ReportFormatter.unformatted(v.kind, cls, formatting));
                }
            }
            return out;
        } finally {
            graphLock.unlock();
        }
    }

    /**
     * Takes graphLock behind the engine's stack probe: a StackOverflowError delivered as the
     * JDK's acquisition returns (after the lock was taken, before the caller's try) would leave
     * the graph locked for good, and every later validation waiting for it.
     */
    private void lockGraph() {
        WorkerPool.probeStack();
        graphLock.lock();
    }

    private void depthExceeded(HeldLocks h, DependencyGraph g) {
        h.unrecorded++; // owner-only field: its release is recognised in releaseSlow
        if (validating) {
            emit(format(g, h, h.depth, f -> f.capacity("MAX_LOCK_DEPTH", HeldLocks.MAX_DEPTH)), false);
        }
    }

    private LockdepReport format(DependencyGraph g, HeldLocks h, int depth,
                                 java.util.function.Function<ReportFormatter, LockdepReport> how) {
        lockGraph();
        try {
            return how.apply(new ReportFormatter(g, h, depth));
        } finally {
            graphLock.unlock();
        }
    }

    /**
     * Whether a report of {@code kind} turns validation off under {@link ReportPolicy#WARN_ONCE}:
     * the kernel's reports that call {@code debug_locks_off()} (dependency and balance splats,
     * capacity). A failed {@code lockdep_assert_held*()} (a plain {@code WARN_ON}) and a work
     * item's leaked lock (a {@code pr_err} in {@code process_one_work}) do not.
     */
    private static boolean turnsOff(LockdepReport.Kind kind) {
        return kind != LockdepReport.Kind.ASSERTION && kind != LockdepReport.Kind.LEAKED_LOCK;
    }

    /** Publishes a report per the policy; under THROW, throws for deadlocks found by acquire(). */
    private void emit(LockdepReport r, boolean fromAcquire) {
        boolean capacity = r.kind() == LockdepReport.Kind.CAPACITY;
        boolean publish;
        if (policy == ReportPolicy.WARN_ONCE && turnsOff(r.kind())) {
            publish = VALIDATING.compareAndSet(this, true, false); // debug_locks_off(): one winner
        } else if (policy == ReportPolicy.WARN_ONCE) {
            // A warning that leaves validation on: once per signature, and none once it is off.
            publish = validating && reported.add(r.signature());
        } else {
            publish = reported.add(r.signature());
            if (capacity) {
                validating = false;
            }
        }
        if (publish) {
            reports.add(r);
            if (logger != null) {
                logger.log(System.Logger.Level.WARNING, r.text());
            }
            for (Consumer<LockdepReport> l : listeners) {
                try {
                    l.accept(r);
                } catch (RuntimeException e) {
                    if (logger != null) {
                        logger.log(System.Logger.Level.ERROR, "lockdep report listener failed", e);
                    }
                }
            }
        }
        if (fromAcquire && !capacity && policy == ReportPolicy.THROW) {
            throw new PotentialDeadlockException(r);
        }
    }

    /**
     * Configures a {@link Lockdep}.
     *
     * <p>Not thread-safe: a builder is meant for one thread; the object it builds is thread-safe.
     */
    public static final class Builder {
        private ReportPolicy policy = ReportPolicy.WARN_ONCE;
        private final List<Consumer<LockdepReport>> listeners = new ArrayList<>();
        private System.@Nullable Logger logger = System.getLogger("org.workqueue4j.lockdep");
        private int maxClasses = DEFAULT_MAX_CLASSES;
        private int maxEdges = DEFAULT_MAX_EDGES;
        private int maxChains = DEFAULT_MAX_CHAINS;
        private boolean lockStat;

        private Builder() {
        }

        /**
         * Sets the report policy (default {@link ReportPolicy#WARN_ONCE}).
         *
         * @param policy the policy; not null
         * @return this builder
         */
        public Builder policy(ReportPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Adds a listener that receives every emitted report, in the reporting thread.
         *
         * @param listener the listener; not null
         * @return this builder
         */
        public Builder listener(Consumer<LockdepReport> listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Sets the logger reports are written to at WARNING (default System.Logger "org.workqueue4j.lockdep").
         *
         * @param logger the logger; not null
         * @return this builder
         */
        public Builder logger(System.Logger logger) {
            this.logger = Objects.requireNonNull(logger, "logger");
            return this;
        }

        /**
         * Writes reports to no logger (listeners and {@link Lockdep#reports()} still get them).
         *
         * @return this builder
         */
        public Builder quiet() {
            this.logger = null;
            return this;
        }

        /**
         * Sets the class limit, 1..65535 (default 8191).
         *
         * @param n the maximum number of lock classes
         * @return this builder
         */
        public Builder maxClasses(int n) {
            this.maxClasses = check("maxClasses", n, 65535);
            return this;
        }

        /**
         * Sets the edge limit (default 32768).
         *
         * @param n the maximum number of dependency edges
         * @return this builder
         */
        public Builder maxEdges(int n) {
            this.maxEdges = check("maxEdges", n, Integer.MAX_VALUE);
            return this;
        }

        /**
         * Sets the chain limit (default 65536).
         *
         * @param n the maximum number of cached chains
         * @return this builder
         */
        public Builder maxChains(int n) {
            this.maxChains = check("maxChains", n, 1 << 28);
            return this;
        }

        /**
         * Collects per-class contention and hold-time statistics ({@link Lockdep#lockStats()},
         * the kernel's {@code CONFIG_LOCK_STAT}); default off. Off, a validated lock pays one
         * branch on a final field per acquisition; on, two {@code System.nanoTime()} calls per
         * hold and a {@code tryLock} before each blocking acquire.
         *
         * @param on whether to collect
         * @return this builder
         */
        public Builder lockStat(boolean on) {
            this.lockStat = on;
            return this;
        }

        /** {@return the validator built from this builder's settings} */
        public Lockdep build() {
            return new Lockdep(this);
        }

        private static int check(String what, int n, int max) {
            if (n < 1 || n > max) {
                throw new IllegalArgumentException(what + " must be in 1.." + max + ", not " + n);
            }
            return n;
        }
    }
}
