package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A black-box ledger of the public queue API, written from the README's guarantees alone:
 * producer threads issue random operations (seeded) over queues of every kind and a shared set
 * of items, each item records every run, and the ledger checks, while it runs and at the end:
 *
 * <ul>
 *   <li><b>nothing lost, nothing duplicated</b>: per item, the {@code queue}/{@code queueOn}/
 *       {@code queueDelayed} calls that returned true and the {@code modDelayed} calls that
 *       returned false on an enabled item equal the runs plus the {@code cancel}s that returned
 *       true plus the armed timers reported at destroy, and the pending instances a refused
 *       {@code modDelayed} had taken back (a destroy or drain that began during the call; its
 *       javadoc says it reports them): exact, no slack;</li>
 *   <li><b>non-reentrancy</b>: no item runs twice at once;</li>
 *   <li><b>cancelSync</b>: while no one else may queue the item (its gate held), on return it is
 *       neither pending nor running and no run starts, although the running instance re-queues
 *       itself;</li>
 *   <li><b>disable</b>: between {@code disableSync()} and {@code enable()} every queue attempt
 *       returns false and no run starts;</li>
 *   <li><b>flush contract</b>: when {@code WorkQueue.flush()} (also {@code flush(Duration)}
 *       returning true, {@code flushAsync()}, {@code drain}) or the item's own flush returns,
 *       every instance queued before it began has finished or was cancelled;</li>
 *   <li><b>ordered</b> queues run one item at a time, and one producer's items in the order it
 *       queued them; {@code maxActive} is never exceeded; no item of a freezable queue starts
 *       between {@code freeze()}'s return and {@code thaw()};</li>
 *   <li><b>delayed</b> items never start before the delay they were given (measured from before
 *       the call) and run once per arming;</li>
 *   <li><b>drain</b> refuses an outside {@code queue} only while a drain runs (or after destroy),
 *       with an {@code IllegalStateException} naming queue and item, and the item is not pending;</li>
 *   <li><b>bad input</b> (unknown CPU, negative delay, null) throws the documented exception
 *       naming the queue, and changes nothing;</li>
 *   <li><b>reports</b>: an armed delayed item reaches the uncaught-work handler only when its
 *       queue is destroyed, or when its timer expires while the queue drains (the drain refuses
 *       it, as the kernel does), and the report names it;</li>
 *   <li><b>interrupts</b>: an uninterruptible wait returns with the caller's interrupt status
 *       still set; an interruptible one throws with it cleared or returns with it set;</li>
 *   <li><b>close</b>: after {@code WorkQueues.close()} nothing runs, every item is accounted for
 *       and no thread of the runtime is alive.</li>
 * </ul>
 *
 * <p>A failure prints the seed; rerun with {@code -Dworkqueue4j.ledger.seed=<seed>} (the
 * operations are replayed, the interleaving is the machine's; {@code -Dworkqueue4j.ledger.widen=true}
 * widens the ledger's own counting windows, to check its bookkeeping; {@code
 * -Dworkqueue4j.chaos=true} widens the engine's, see {@link ChaosHooks}). Fast run: in every
 * {@code mvn test}. Long run, by hand:
 * {@code mvn test -Dgroups=long -DexcludedGroups=none -Dtest='LedgerTest#ledgerLong'}.
 */
class LedgerTest {
    private static final int PRODUCERS = 4;

    @Test
    void ledgerHoldsEveryDocumentedGuarantee() throws Exception {
        long seed = Long.getLong("workqueue4j.ledger.seed", System.nanoTime());
        new Ledger(seed, Integer.getInteger("workqueue4j.ledger.ops", 25_000), 20_000, false).run();
    }

    /** The same, with {@code WorkQueues.close()} called by a producer half-way, the others going on. */
    @Test
    void ledgerHoldsAcrossACloseInTheMiddle() throws Exception {
        long seed = Long.getLong("workqueue4j.ledger.seed", System.nanoTime());
        new Ledger(seed, Integer.getInteger("workqueue4j.ledger.ops", 25_000) / 2, 20_000, true).run();
    }

    @Test
    @Tag("long")
    void ledgerLong() throws Exception {
        long base = Long.getLong("workqueue4j.ledger.seed", System.nanoTime());
        int rounds = Integer.getInteger("workqueue4j.ledger.rounds", 20);
        for (int i = 0; i < rounds; i++) {
            new Ledger(base + i, Integer.getInteger("workqueue4j.ledger.ops", 40_000), 120_000, i % 4 == 3).run();
        }
    }

    /**
     * The ledger's own bookkeeping against a flush check: a timed {@code cancelSync(Duration)}
     * that took the pending instance, between its return and the count of that cancel, while
     * another producer's flush of the item (nothing left to wait for) checks it. The instance
     * must be counted as taken (in flight or cancelled) all along, or the check reads one
     * instance short and reports a flush-contract violation that the library did not commit.
     */
    @Test
    void aTimedCancelSyncIsCountedFromTheCancelToItsCount() throws Exception {
        Ledger l = new Ledger(1, 0, 10_000, false);
        Item it = builtItem(l, 20, "L20@freezable");
        CountDownLatch inWindow = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        l.probe = (point, i) -> {
            if (point.equals("cancelSync.returned") && i == it) {
                inWindow.countDown();
                awaitQuietly(go);
            }
        };
        Thread canceller = new Thread(() -> {
            try {
                l.exclusiveCancelSync(it, new Script(false, 0)); // cancelSync(Duration), no yields
            } catch (InterruptedException e) {
                l.violation("canceller interrupted");
            }
        }, "ledger-canceller");
        try {
            l.rt.freeze(); // the queued instance stays pending
            l.queueOp(it, new Script(true), false); // queue(work)
            assertThat(it.credits.get()).isEqualTo(1);
            canceller.start();
            assertThat(inWindow.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(it.work.isPending()).isFalse();
            l.itemFlush(it, new Script(2)); // flushAsync().get(30 s): the item is idle
            go.countDown();
            canceller.join(10_000);
            assertThat(canceller.isAlive()).isFalse();
        } finally {
            go.countDown();
            l.rt.thaw();
            l.rt.close();
        }
        assertThat(l.violations).isEmpty();
        assertThat(it.credits.get()).isEqualTo(it.cancels.get());
    }

    /**
     * The same for a plain {@code cancel()} that ends (counted, out of flight) while the flush
     * check reads the item's counters: read in the wrong order, neither the cancel nor the
     * cancel in flight is seen.
     */
    @Test
    void aCancelEndingWhileTheFlushCheckReadsIsCounted() throws Exception {
        Ledger l = new Ledger(1, 0, 10_000, false);
        Item it = builtItem(l, 30, "L30@disposable");
        CountDownLatch taken = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        Thread[] canceller = new Thread[1];
        Thread checker = Thread.currentThread();
        l.probe = (point, i) -> {
            if (point.equals("cancel.taken") && i == it) {
                taken.countDown();
                awaitQuietly(go);
            } else if (point.equals("fin.between") && i == it && Thread.currentThread() == checker && go.getCount() > 0) {
                go.countDown(); // the cancel is counted and leaves flight between the two reads
                try {
                    canceller[0].join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        canceller[0] = new Thread(() -> {
            try {
                l.op(it, new Script(40)); // cancel()
            } catch (InterruptedException e) {
                l.violation("canceller interrupted");
            }
        }, "ledger-canceller");
        CountDownLatch unblock = new CountDownLatch(1);
        try {
            queueBehindABlocker(l, it, unblock);
            canceller[0].start();
            assertThat(taken.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(it.work.isPending()).isFalse();
            unblock.countDown();
            l.queueFlush(it.slot, new Script(3, 1)); // flushInterruptibly(), no interrupt: waits for the blocker only
        } finally {
            unblock.countDown();
            go.countDown();
            canceller[0].join(10_000);
            l.rt.close();
        }
        assertThat(l.violations).isEmpty();
        assertThat(it.credits.get()).isEqualTo(it.cancels.get());
    }

    /**
     * The ledger's own check after a destroy: a {@code disableSync()} that took the pending
     * instance off its list holds PENDING until it has counted the disable (kernel
     * try_to_grab_pending steals the bit, the canceller clears it). The queue has nothing left
     * then, so a destroy may drain and return inside that window, and the item reads pending.
     * The disable holds no gate, so only its count of cancels in flight tells the check that
     * the bit is a canceller's, not a queued instance's.
     */
    @Test
    void aDisableHoldingThePendingBitWhenADestroyReturnsIsNoViolation() throws Exception {
        Ledger l = new Ledger(1, 0, 10_000, false);
        Item it = builtItem(l, 30, "L30@disposable");
        CountDownLatch grabbed = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        org.workqueue4j.internal.TestHooks.install((point, subject) -> {
            if (point.equals("cancel.grabbed") && subject == it.work.node) {
                grabbed.countDown();
                awaitQuietly(go);
            }
        });
        Thread disabler = new Thread(() -> l.disabledHold(it, new Script(7, 0)), "ledger-disabler"); // no interrupt, no yields
        CountDownLatch unblock = new CountDownLatch(1);
        try {
            queueBehindABlocker(l, it, unblock);
            disabler.start();
            assertThat(grabbed.await(10, TimeUnit.SECONDS)).isTrue();
            unblock.countDown();
            l.replace(it.slot); // drains the blocker; the item, off its list, reads pending all along
            assertThat(it.work.isPending()).isTrue(); // still inside the window
        } finally {
            unblock.countDown();
            go.countDown();
            disabler.join(10_000);
            org.workqueue4j.internal.TestHooks.install(null);
            l.rt.close();
        }
        assertThat(l.violations).isEmpty();
        assertThat(it.cancels.get()).isEqualTo(1);
    }

    /** Builds {@code l} (no producers run) and returns its item {@code id}, checked by name. */
    private static Item builtItem(Ledger l, int id, String name) {
        l.build();
        Item it = l.items.get(id);
        assertThat(it.work.name()).isEqualTo(name);
        return it;
    }

    /**
     * Queues {@code it} (counted) behind a blocker that holds the only active slot of its queue
     * until {@code unblock}: the item's instance stays pending until then.
     */
    private static void queueBehindABlocker(Ledger l, Item it, CountDownLatch unblock) {
        WorkQueue q = it.slot.q;
        q.setMaxActive(1);
        q.queue(new Work("blocker", () -> awaitQuietly(unblock)));
        l.queueOp(it, new Script(true), false); // queue(work)
        assertThat(it.credits.get()).isEqualTo(1);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Answers the ledger's random choices from a script, in order. */
    static final class Script extends Random {
        private static final long serialVersionUID = 1L;
        private final java.util.ArrayDeque<Object> answers = new java.util.ArrayDeque<>();

        Script(Object... answers) {
            super(0);
            this.answers.addAll(List.of(answers));
        }

        @Override
        public int nextInt(int bound) {
            Object a = answers.poll();
            if (!(a instanceof Integer i) || i < 0 || i >= bound) {
                throw new AssertionError("scripted nextInt(" + bound + ") answered " + a);
            }
            return i;
        }

        @Override
        public boolean nextBoolean() {
            Object a = answers.poll();
            if (!(a instanceof Boolean b)) {
                throw new AssertionError("scripted nextBoolean() answered " + a);
            }
            return b;
        }
    }

    /** What made an item's instance; what the ledger knows of one item. */
    static final class Item {
        final int id;
        final Work work;
        final DelayedWork delayed; // == work, or null
        final Slot slot;
        /** Owned by one producer (clock items, the ordered queue's FIFO items): only it queues or cancels them. */
        final int owner;
        final boolean clock;
        final boolean fifo;
        final AtomicLong credits = new AtomicLong();
        final AtomicLong starts = new AtomicLong();
        final AtomicLong ends = new AtomicLong();
        final AtomicLong cancels = new AtomicLong();
        final AtomicLong reports = new AtomicLong();
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger cancelsInFlight = new AtomicInteger();
        /** Queue calls from outside the item's own run share it; an exclusive cancelSync holds it alone. */
        final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
        /** modDelayed, disable/enable and cancelSync: the disable count is exact under it. */
        final ReentrantLock opLock = new ReentrantLock();
        volatile boolean quiet; // an exclusive cancelSync returned and the gate is still held
        volatile boolean disabledHeld; // between disableSync()'s return and enable()
        final ConcurrentLinkedDeque<Long> deadlines = new ConcurrentLinkedDeque<>();
        final Ledger ledger;

        Item(int id, Slot slot, boolean delayed, int owner, boolean clock, boolean fifo, Ledger l) {
            this.id = id;
            this.ledger = l;
            this.slot = slot;
            this.owner = owner;
            this.clock = clock;
            this.fifo = fifo;
            String name = "L" + id + (delayed ? "d" : "") + (clock ? "c" : "") + (fifo ? "f" : "") + "@" + slot.name;
            Runnable fn = () -> l.body(this);
            this.work = delayed ? new DelayedWork(name, fn) : new Work(name, fn);
            this.delayed = delayed ? (DelayedWork) work : null;
        }

        /** Instances finished (ended, cancelled, reported) plus what a cancel in flight may take. */
        long finishedOrTaking() {
            // the cancels in flight first: a cancel counts itself before it leaves flight, so an
            // instance it took is seen in one count or both (slack), never in neither
            long taking = cancelsInFlight.get();
            ledger.probe.accept("fin.between", this);
            return taking + cancels.get() + ends.get() + reports.get();
        }
    }

    static final class Slot {
        final String name;
        final UnaryOperator<WorkQueue.Builder> kind;
        volatile WorkQueue q;
        final boolean disposable;
        final boolean ordered;
        final boolean freezable;
        /** Upper bound of the items of this slot running at once. */
        final int limit;
        final AtomicInteger running = new AtomicInteger();
        final AtomicLong drainStarts = new AtomicLong();
        final AtomicLong drainEnds = new AtomicLong();
        /** Destroys of this slot's queue happen under the write lock (an exclusive cancelSync holds the read lock). */
        final ReentrantReadWriteLock life = new ReentrantReadWriteLock();
        final List<Item> items = new ArrayList<>();

        Slot(String name, UnaryOperator<WorkQueue.Builder> kind, boolean disposable, boolean ordered,
                boolean freezable, int limit) {
            this.name = name;
            this.kind = kind;
            this.disposable = disposable;
            this.ordered = ordered;
            this.freezable = freezable;
            this.limit = limit;
        }
    }

    static final class Boom extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Boom(String m) {
            super(m, null, false, false);
        }
    }

    static final class Ledger {
        final long seed;
        final int opsPerProducer;
        final long maxMillis;
        final WorkQueues rt;
        final List<Thread> runtimeThreads = new CopyOnWriteArrayList<>();
        final List<Slot> slots = new ArrayList<>();
        final List<Item> items = new ArrayList<>();
        final Queue<String> violations = new ConcurrentLinkedQueue<>();
        final List<Integer> fifoQueued = new CopyOnWriteArrayList<>();
        final List<Integer> fifoRan = new CopyOnWriteArrayList<>();
        volatile boolean frozenHeld;
        final ReentrantLock freezeLock = new ReentrantLock();
        volatile boolean closed;
        volatile boolean closing;
        final AtomicLong ops = new AtomicLong();
        final AtomicLong flushChecks = new AtomicLong();
        final AtomicLong refusals = new AtomicLong();
        final AtomicLong booms = new AtomicLong();
        final AtomicLong earlyChecks = new AtomicLong();
        final AtomicLong exclusiveCancels = new AtomicLong();
        final AtomicLong disabledHolds = new AtomicLong();

        final boolean closeMidRun;
        /** A point in the ledger's own bookkeeping, for tests of the ledger itself; a no-op otherwise. */
        volatile java.util.function.BiConsumer<String, Item> probe = (point, item) -> { };

        Ledger(long seed, int opsPerProducer, long maxMillis, boolean closeMidRun) {
            this.seed = seed;
            this.closeMidRun = closeMidRun;
            this.opsPerProducer = opsPerProducer;
            this.maxMillis = maxMillis;
            if (Boolean.getBoolean("workqueue4j.ledger.widen")) {
                // a check of the ledger itself: its counting windows made wide (200 us each), so
                // that a flush check reading a cancel half-counted would show in every round
                probe = (point, item) -> java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            }
            this.rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2)
                    .threadFactory(r -> {
                        Thread th = new Thread(r);
                        runtimeThreads.add(th);
                        return th;
                    })
                    .uncaughtWorkHandler(this::reported)
                    .build());
        }

        void violation(String what) {
            if (violations.size() < 50) {
                violations.add(what);
            }
        }

        private void reported(WorkQueue q, Work w, Throwable e) {
            if (e instanceof Boom) {
                booms.incrementAndGet();
                return;
            }
            Item it = w == null ? null : find(w);
            if (it != null && it.clock) {
                it.deadlines.pollLast(); // the armed instance, the last one: it ended here, not in a run
            }
            if (it == null || !(e instanceof IllegalStateException) || it.delayed == null) {
                violation("unexpected report " + q + " " + w + " " + e);
                return;
            }
            if (!String.valueOf(e.getMessage()).contains(w.name())) {
                violation("report does not name the item: " + e);
            }
            // A drain refuses an armed item's expiry (kernel: only chained work), so a live queue
            // may report one then, with the drain's refusal.
            boolean drainRefusal = String.valueOf(e.getMessage()).contains("is draining");
            if (!closing && !it.slot.disposable && !drainRefusal) {
                violation(w.name() + " reported though its queue " + q + " lives on (only a destroy or a drain may): " + e);
            }
            it.reports.incrementAndGet();
        }

        private Item find(Work w) {
            for (Item i : items) {
                if (i.work == w) {
                    return i;
                }
            }
            return null;
        }

        void build() {
            int cpus = rt.cpus();
            slots.add(new Slot("percpu", b -> b, false, false, false, cpus * WorkQueue.DEFAULT_MAX_ACTIVE));
            slots.add(new Slot("unbound", WorkQueue.Builder::unbound, false, false, false, Integer.MAX_VALUE));
            slots.add(new Slot("ordered", WorkQueue.Builder::ordered, false, true, false, 1));
            slots.add(new Slot("limited", b -> b.highPriority().maxActive(1), false, false, false, cpus));
            slots.add(new Slot("freezable", WorkQueue.Builder::freezable, false, false, true, Integer.MAX_VALUE));
            slots.add(new Slot("reclaim", b -> b.unbound().memReclaim().maxActive(2), false, false, false, 3));
            slots.add(new Slot("disposable", b -> b.unbound().maxActive(2), true, false, false, 2));
            for (Slot s : slots) {
                s.q = s.kind.apply(rt.queueBuilder(s.name)).build();
            }
            int id = 0;
            for (Slot s : slots) {
                for (int k = 0; k < 5; k++) {
                    add(new Item(id++, s, k >= 3, -1, false, false, this));
                }
            }
            Slot ordered = slots.get(2);
            for (int k = 0; k < 3; k++) {
                add(new Item(id++, ordered, false, 0, false, true, this));
            }
            for (int p = 0; p < PRODUCERS; p++) {
                add(new Item(id++, slots.get(p % 2), true, p, true, false, this));
            }
        }

        private void add(Item i) {
            items.add(i);
            i.slot.items.add(i);
        }

        /** The item's function. */
        void body(Item it) {
            long now = System.nanoTime();
            if (closed) {
                violation(it.work.name() + " ran after close() returned");
            }
            if (it.running.incrementAndGet() != 1) {
                violation(it.work.name() + " ran twice at once");
            }
            int r = it.slot.running.incrementAndGet();
            if (r > it.slot.limit) {
                violation(it.work.name() + ": " + r + " items of " + it.slot.name + " ran at once, limit " + it.slot.limit);
            }
            if (it.quiet) {
                violation(it.work.name() + " started after cancelSync() returned, no one having queued it");
            }
            if (it.disabledHeld) {
                violation(it.work.name() + " started while disabled");
            }
            if (it.slot.freezable && frozenHeld && !closing) { // close() ends a freeze (README)
                violation(it.work.name() + " started while its queue was frozen");
            }
            if (it.clock) {
                Long d = it.deadlines.pollFirst();
                if (d == null) {
                    violation(it.work.name() + " ran without an arming");
                } else if (now - d < 0) {
                    violation(it.work.name() + " ran " + (d - now) + " ns early");
                }
                earlyChecks.incrementAndGet();
            }
            if (it.fifo) {
                fifoRan.add(it.id);
            }
            it.starts.incrementAndGet();
            try {
                ThreadLocalRandom r2 = ThreadLocalRandom.current();
                int c = r2.nextInt(100);
                if (c < 8) {
                    throw new Boom(it.work.name());
                } else if (c < 20 && !it.clock && !it.fifo) {
                    selfRequeue(it, r2);
                } else if (c < 26) {
                    Item other = items.get(r2.nextInt(items.size()));
                    if (!other.clock && !other.fifo && other.gate.readLock().tryLock()) {
                        try {
                            queueOp(other, r2, false);
                        } finally {
                            other.gate.readLock().unlock();
                        }
                    }
                } else if (c < 40) {
                    Thread.yield();
                }
            } finally {
                it.slot.running.decrementAndGet();
                it.running.decrementAndGet();
                it.ends.incrementAndGet();
            }
        }

        private void selfRequeue(Item it, ThreadLocalRandom r) {
            // no gate: an exclusive cancelSync waits for this run, and must cancel what it queues
            if (it.delayed != null && r.nextBoolean()) {
                try {
                    if (it.slot.q.queueDelayed(it.delayed, Duration.ofNanos(r.nextInt(200_000)))) {
                        it.credits.incrementAndGet();
                    }
                } catch (IllegalStateException e) {
                    checkRefusal(it, e, true);
                }
            } else {
                queueOp(it, r, true);
            }
        }

        /** queue/queueOn (a delayed item: queueDelayed); counts a true return. */
        void queueOp(Item it, Random r, boolean fromOwnRun) {
            WorkQueue q = it.slot.q;
            boolean disabledBefore = it.disabledHeld;
            long drainStarts = it.slot.drainStarts.get();
            long drainsRunning = drainStarts - it.slot.drainEnds.get();
            try {
                boolean ok;
                if (it.delayed != null && (it.clock || r.nextInt(3) > 0)) {
                    long d = it.clock ? r.nextInt(3_000_000) : r.nextInt(300_000);
                    if (it.clock) {
                        it.deadlines.addLast(System.nanoTime() + d);
                    }
                    ok = r.nextBoolean() ? q.queueDelayed(it.delayed, Duration.ofNanos(d))
                            : q.queueDelayedOn(r.nextInt(rt.cpus()), it.delayed, Duration.ofNanos(d));
                    if (it.clock && !ok) {
                        it.deadlines.pollLast();
                    }
                } else {
                    ok = r.nextBoolean() ? q.queue(it.work) : q.queueOn(r.nextInt(rt.cpus()), it.work);
                }
                if (ok) {
                    if (disabledBefore && it.disabledHeld) {
                        violation(it.work.name() + " queued while disabled");
                    }
                    if (it.fifo) {
                        fifoQueued.add(it.id);
                    }
                    it.credits.incrementAndGet();
                }
            } catch (IllegalStateException e) {
                if (it.clock) {
                    it.deadlines.pollLast();
                }
                if (!fromOwnRun && !closing && !q.isDestroyed() && it.delayed == null && drainsRunning == 0
                        && it.slot.drainStarts.get() == drainStarts) {
                    violation(it.work.name() + " refused by " + q + " with no drain or destroy under way: " + e);
                }
                checkRefusal(it, e, false);
            }
        }

        private void checkRefusal(Item it, IllegalStateException e, boolean fromOwnRun) {
            refusals.incrementAndGet();
            String m = String.valueOf(e.getMessage());
            if (!m.contains(it.work.name()) || !m.contains("'" + it.slot.name + "'")) {
                violation("refusal names neither item nor queue: " + e);
            }
            if (fromOwnRun && !closing && !it.slot.q.isDestroyed() && it.delayed == null) {
                violation(it.work.name() + " refused its own re-queue on a live queue: " + e);
            }
        }

        void producer(int p) {
            Random r = new Random(seed * 31 + p);
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
            List<Item> mine = new ArrayList<>();
            List<Item> shared = new ArrayList<>();
            for (Item i : items) {
                if (i.owner == p) {
                    mine.add(i);
                } else if (i.owner < 0) {
                    shared.add(i);
                }
            }
            for (int n = 0; n < opsPerProducer && System.nanoTime() - end < 0; n++) {
                ops.incrementAndGet();
                if (closeMidRun && p == 0 && n == opsPerProducer / 2) {
                    closing = true;
                    rt.close(); // the other producers go on: every queue refuses from now on
                    closed = true;
                    continue;
                }
                if (!mine.isEmpty() && r.nextInt(4) == 0) {
                    owned(mine.get(r.nextInt(mine.size())), r);
                } else {
                    try {
                        op(shared.get(r.nextInt(shared.size())), r);
                    } catch (InterruptedException e) {
                        violation("producer interrupted: " + e);
                        return;
                    }
                }
            }
        }

        /** Clock items: arm or cancel, one owner. FIFO items: queue only, one owner. */
        private void owned(Item it, Random r) {
            if (it.fifo || r.nextInt(3) > 0) {
                queueOp(it, r, false);
            } else if (it.work.cancel()) {
                it.cancels.incrementAndGet();
                // the pending instance is the last one armed (only the owner arms it); older ones
                // may be running, their function not entered yet
                it.deadlines.pollLast();
            }
        }

        private void op(Item it, Random r) throws InterruptedException {
            int c = r.nextInt(100);
            WorkQueue q = it.slot.q;
            if (c < 30) {
                it.gate.readLock().lock();
                try {
                    queueOp(it, r, false);
                } finally {
                    it.gate.readLock().unlock();
                }
            } else if (c < 38 && it.delayed != null) {
                modDelayed(it, r);
            } else if (c < 46) {
                it.gate.readLock().lock();
                it.cancelsInFlight.incrementAndGet();
                try {
                    if (it.work.cancel()) {
                        probe.accept("cancel.taken", it);
                        it.cancels.incrementAndGet();
                    }
                } finally {
                    it.cancelsInFlight.decrementAndGet();
                    it.gate.readLock().unlock();
                }
            } else if (c < 52) {
                exclusiveCancelSync(it, r);
            } else if (c < 56) {
                disabledHold(it, r);
            } else if (c < 66) {
                itemFlush(it, r);
            } else if (c < 76) {
                queueFlush(it.slot, r);
            } else if (c < 79) {
                drain(it.slot, r);
            } else if (c < 82) {
                int n = 1 + r.nextInt(3);
                if (it.slot.name.equals("reclaim")) {
                    try {
                        it.slot.q.setMaxActive(n);
                    } catch (IllegalStateException e) {
                        if (!closing) {
                            violation("setMaxActive refused by a live queue: " + e);
                        }
                    }
                }
            } else if (c < 86) {
                badInput(it, q, r);
            } else if (c < 88 && it.slot.disposable && r.nextInt(20) == 0) {
                replace(it.slot);
            } else if (c < 89 && r.nextInt(10) == 0) {
                freezeHold(r);
            } else {
                Thread.yield();
            }
        }

        private void modDelayed(Item it, Random r) {
            if (!it.opLock.tryLock()) {
                return;
            }
            it.gate.readLock().lock();
            // May overlap a destroy or drain of the slot's queue: a refused call that had taken
            // the pending instance back reports it before it throws (counted there); in flight
            // as a cancel until then
            it.cancelsInFlight.incrementAndGet();
            try {
                int depth = it.work.disableDepth();
                boolean was = it.slot.q.modDelayed(it.delayed, Duration.ofNanos(r.nextInt(400_000)));
                if (!was && depth == 0) {
                    it.credits.incrementAndGet();
                }
            } catch (IllegalStateException e) {
                checkRefusal(it, e, false);
            } finally {
                it.cancelsInFlight.decrementAndGet();
                it.gate.readLock().unlock();
                it.opLock.unlock();
            }
        }

        /** cancelSync with the item's gate held: no one else queues it; on return nothing may run. */
        private void exclusiveCancelSync(Item it, Random r) throws InterruptedException {
            if (!it.opLock.tryLock()) {
                return;
            }
            it.slot.life.readLock().lock();
            try {
                it.gate.writeLock().lock();
                try {
                    // in flight until the cancel is counted: a flush check that sees the instance
                    // gone must find it in one count or the other (settleCancelledCount counts the
                    // timed variant's cancel only after the call returned)
                    it.cancelsInFlight.incrementAndGet();
                    boolean timed = false;
                    boolean done;
                    try {
                        if (r.nextBoolean()) {
                            boolean set = maybeInterrupt(r, true);
                            if (it.work.cancelSync()) {
                                it.cancels.incrementAndGet();
                            }
                            checkInterrupt(set, false, it.work.name() + " cancelSync()");
                            done = true;
                        } else {
                            // a bounded wait that cannot time out here: the items never block
                            timed = true;
                            done = it.work.cancelSync(Duration.ofSeconds(30));
                            // cancelSync(Duration) reports "neither pending nor running", not "was pending":
                            // credits - finished tells whether it took one
                        }
                        if (!done) {
                            violation(it.work.name() + ": cancelSync(30 s) timed out on items that never block");
                            return;
                        }
                        exclusiveCancels.incrementAndGet();
                        probe.accept("cancelSync.returned", it);
                        settleCancelledCount(it, timed);
                    } finally {
                        it.cancelsInFlight.decrementAndGet();
                    }
                    it.quiet = true;
                    if (it.work.isPending() || it.running.get() != 0 || (it.work.busy() & Work.BUSY_RUNNING) != 0) {
                        violation(it.work.name() + " pending or running after cancelSync returned (busy=" + it.work.busy() + ")");
                    }
                    for (int i = r.nextInt(20); i > 0; i--) {
                        Thread.yield();
                    }
                    it.quiet = false;
                } finally {
                    it.gate.writeLock().unlock();
                }
            } finally {
                it.slot.life.readLock().unlock();
                it.opLock.unlock();
            }
        }

        /**
         * After an exclusive cancel, nothing of the item is pending or running: every instance
         * queued so far either ran, was reported, or was cancelled. Counts the cancels that the
         * timed cancelSync does not report (its boolean is not "was pending"), and checks the sum.
         */
        private void settleCancelledCount(Item it, boolean timed) {
            long open = it.credits.get() - it.ends.get() - it.cancels.get() - it.reports.get();
            if (timed && open > 0) {
                it.cancels.incrementAndGet(); // the timed cancel took the pending instance
                open--;
            }
            if (open != 0) {
                violation(it.work.name() + " after cancelSync" + (timed ? "(Duration)" : "()") + ": queued "
                        + it.credits.get() + ", ran " + it.ends.get() + ", cancelled " + it.cancels.get() + ", reported "
                        + it.reports.get());
            }
        }

        private void disabledHold(Item it, Random r) {
            if (!it.opLock.tryLock()) {
                return;
            }
            try {
                it.cancelsInFlight.incrementAndGet();
                try {
                    boolean set = maybeInterrupt(r, true);
                    if (it.work.disableSync()) {
                        it.cancels.incrementAndGet();
                    }
                    checkInterrupt(set, false, it.work.name() + " disableSync()");
                } finally {
                    it.cancelsInFlight.decrementAndGet();
                }
                disabledHolds.incrementAndGet();
                it.disabledHeld = true;
                if (it.work.isPending() || it.running.get() != 0) {
                    violation(it.work.name() + " pending or running after disableSync returned");
                }
                for (int i = r.nextInt(50); i > 0; i--) {
                    Thread.yield();
                }
                it.disabledHeld = false;
                if (!it.work.enable()) {
                    violation(it.work.name() + ": enable() after one disableSync() did not reach 0");
                }
            } finally {
                it.opLock.unlock();
            }
        }

        /**
         * Sets the caller's interrupt status now and then before a wait: an uninterruptible wait
         * must return with it still set; an interruptible one either throws
         * {@code InterruptedException} (status cleared) or returns with it still set.
         */
        private boolean maybeInterrupt(Random r, boolean allowed) {
            if (allowed && r.nextInt(8) == 0) {
                Thread.currentThread().interrupt();
                return true;
            }
            return false;
        }

        private void checkInterrupt(boolean set, boolean threw, String what) {
            boolean now = Thread.interrupted(); // clears it for the next operation
            if (threw && !set) {
                violation(what + " threw InterruptedException with no interrupt");
            } else if (threw && now) {
                violation(what + " threw InterruptedException and left the status set");
            } else if (set && !threw && !now) {
                violation(what + " returned normally and lost the caller's interrupt status");
            }
        }

        private void itemFlush(Item it, Random r) {
            long before = it.credits.get();
            int how = r.nextInt(4);
            boolean complete = false;
            boolean set = maybeInterrupt(r, how != 2);
            boolean threw = false;
            try {
                if (how == 0) {
                    it.work.flush();
                    complete = true;
                } else if (how == 1) {
                    complete = it.work.flush(Duration.ofMillis(r.nextInt(3)));
                } else if (how == 2) {
                    complete = it.work.flushAsync().get(30, TimeUnit.SECONDS) != null;
                } else {
                    it.work.flushInterruptibly();
                    complete = true;
                }
            } catch (InterruptedException e) {
                threw = true;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                violation(it.work.name() + ": flushAsync failed or took 30 s: " + e);
            }
            checkInterrupt(set, threw, it.work.name() + " flush variant " + how);
            if (complete) {
                flushChecks.incrementAndGet();
                long fin = it.finishedOrTaking();
                if (fin < before) {
                    violation(it.work.name() + ": flush variant " + how + " returned with " + before
                            + " instances queued before it and " + fin + " finished");
                }
            }
        }

        private void queueFlush(Slot s, Random r) {
            long[] before = snapshot(s);
            WorkQueue q = s.q;
            int how = r.nextInt(4);
            boolean complete = false;
            boolean set = maybeInterrupt(r, how != 2);
            boolean threw = false;
            try {
                if (how == 0) {
                    q.flush();
                    complete = true;
                } else if (how == 1) {
                    complete = q.flush(Duration.ofMillis(r.nextInt(3)));
                } else if (how == 2) {
                    q.flushAsync().get(30, TimeUnit.SECONDS);
                    complete = true;
                } else {
                    q.flushInterruptibly();
                    complete = true;
                }
            } catch (InterruptedException e) {
                threw = true;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                violation(q + ": flushAsync failed or took 30 s: " + e);
            }
            checkInterrupt(set, threw, q + " flush variant " + how);
            if (complete) {
                checkFlushed(s, before, "flush variant " + how + " of " + q);
            }
        }

        private long[] snapshot(Slot s) {
            long[] before = new long[s.items.size()];
            for (int i = 0; i < before.length; i++) {
                before[i] = s.items.get(i).credits.get();
            }
            return before;
        }

        private void checkFlushed(Slot s, long[] before, String what) {
            flushChecks.incrementAndGet();
            for (int i = 0; i < before.length; i++) {
                Item it = s.items.get(i);
                if (it.delayed != null) {
                    continue; // an armed timer is not queued work
                }
                long fin = it.finishedOrTaking();
                if (fin < before[i]) {
                    violation(what + " returned with " + before[i] + " instances of " + it.work.name()
                            + " queued before it and " + fin + " finished");
                }
            }
        }

        private void drain(Slot s, Random r) {
            long[] before = snapshot(s);
            WorkQueue q = s.q;
            s.drainStarts.incrementAndGet();
            boolean complete = false;
            boolean timed = r.nextBoolean();
            boolean set = maybeInterrupt(r, true);
            boolean threw = false;
            try {
                if (!timed) {
                    q.drain();
                    complete = true;
                } else {
                    complete = q.drain(Duration.ofMillis(r.nextInt(5)));
                }
            } catch (InterruptedException e) {
                threw = true;
            } catch (IllegalStateException e) {
                if (!q.isDestroyed() && !closing) {
                    violation("drain of live " + q + " refused: " + e);
                }
            } finally {
                s.drainEnds.incrementAndGet();
            }
            checkInterrupt(set, threw, "drain" + (timed ? "(Duration)" : "()") + " of " + q);
            if (complete) {
                checkFlushed(s, before, "drain of " + q);
            }
        }

        private void badInput(Item it, WorkQueue q, Random r) {
            int c = r.nextInt(4);
            String qn = q.name();
            try {
                switch (c) {
                    case 0 -> q.queueOn(r.nextBoolean() ? -1 : rt.cpus(), it.work);
                    case 1 -> {
                        if (it.delayed != null) {
                            q.queueDelayed(it.delayed, Duration.ofNanos(-1 - r.nextInt(1000)));
                        } else {
                            q.queueOn(-1, it.work);
                        }
                    }
                    case 2 -> q.queue(null);
                    default -> {
                        if (it.delayed != null) {
                            q.modDelayed(it.delayed, null);
                        } else {
                            q.queue(null);
                        }
                    }
                }
                violation("bad input " + c + " accepted by " + q + " for " + it.work.name());
            } catch (IllegalArgumentException | NullPointerException e) {
                if (!String.valueOf(e.getMessage()).contains("'" + qn + "'")) {
                    violation("bad input " + c + " refused without naming the queue: " + e);
                }
            } catch (IllegalStateException e) {
                if (!q.isDestroyed() && !closing) {
                    violation("bad input " + c + " refused with an ISE by a live queue: " + e);
                }
            }
        }

        /** Destroys a disposable slot's queue and gives the slot a new one. */
        private void replace(Slot s) {
            s.life.writeLock().lock();
            try {
                WorkQueue old = s.q;
                s.drainStarts.incrementAndGet(); // destroy drains, then refuses: a refusal meanwhile is expected
                try {
                    old.destroy();
                } finally {
                    s.drainEnds.incrementAndGet();
                }
                for (Item it : s.items) {
                    // a queue call in flight holds PENDING for a moment before it is refused
                    if (it.gate.writeLock().tryLock()) {
                        try {
                            // A disableSync() holds no gate, and the PENDING bit it took off a list
                            // stays set until it has counted the disable: its cancel in flight, read
                            // first, tells. One that begins after this read can only take a bit that
                            // a queued instance had set already.
                            if (it.cancelsInFlight.get() == 0 && it.work.isPending()) {
                                violation(it.work.name() + " pending after its queue's destroy() returned");
                            }
                        } finally {
                            it.gate.writeLock().unlock();
                        }
                    }
                }
                try {
                    s.q = s.kind.apply(rt.queueBuilder(s.name)).build();
                } catch (IllegalStateException e) {
                    if (!closing) {
                        violation("queue build refused by a live runtime: " + e);
                    }
                }
            } finally {
                s.life.writeLock().unlock();
            }
        }

        private void freezeHold(Random r) {
            // freeze() and thaw() are not counted: one thaw ends every freeze, and a freeze
            // waiting for running items returns at a thaw. One holder at a time.
            if (!freezeLock.tryLock()) {
                return;
            }
            try {
                freezeHoldLocked(r);
            } catch (IllegalStateException e) {
                frozenHeld = false;
                if (!closing) {
                    violation("freeze refused by a live runtime: " + e);
                }
            } finally {
                freezeLock.unlock();
            }
        }

        private void freezeHoldLocked(Random r) {
            rt.freeze();
            frozenHeld = true;
            for (int i = r.nextInt(200); i > 0; i--) {
                Thread.yield();
            }
            frozenHeld = false;
            rt.thaw();
        }

        void run() throws Exception {
            build();
            try (ChaosHooks chaos = ChaosHooks.installIfAsked()) {
                runProducersAndClose();
            }
        }

        private void runProducersAndClose() throws Exception {
            long t0 = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            List<Throwable> thrown = new CopyOnWriteArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                int pp = p;
                Thread th = new Thread(() -> {
                    try {
                        producer(pp);
                    } catch (Throwable e) {
                        thrown.add(e);
                    }
                }, "ledger-" + p);
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join(maxMillis + 60_000);
                if (th.isAlive()) {
                    StringBuilder sb = new StringBuilder();
                    for (Thread x : threads) {
                        sb.append(x.getName()).append(' ').append(x.getState()).append('\n');
                        for (StackTraceElement e : x.getStackTrace()) {
                            sb.append("    at ").append(e).append('\n');
                        }
                    }
                    throw new AssertionError("seed " + seed + ": producer hung\n" + sb + rt.dump());
                }
            }
            rt.thaw();
            closing = true;
            rt.close();
            closed = true;
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long credits = 0;
            long runs = 0;
            long cancels = 0;
            long reports = 0;
            for (Item it : items) {
                long open = it.credits.get() - it.ends.get() - it.cancels.get() - it.reports.get();
                credits += it.credits.get();
                runs += it.ends.get();
                cancels += it.cancels.get();
                reports += it.reports.get();
                if (it.starts.get() != it.ends.get()) {
                    violation(it.work.name() + ": " + it.starts.get() + " starts, " + it.ends.get() + " ends");
                }
                if (open != 0) {
                    violation(it.work.name() + ": queued " + it.credits.get() + ", ran " + it.ends.get() + ", cancelled "
                            + it.cancels.get() + ", reported " + it.reports.get()
                            + " -> " + (open < 0 ? "duplicated " + -open : "lost " + open));
                }
                if (it.work.isPending()) {
                    violation(it.work.name() + " still pending after close()");
                }
            }
            if (!fifoRan.equals(fifoQueued.subList(0, Math.min(fifoQueued.size(), fifoRan.size())))
                    || fifoRan.size() != fifoQueued.size()) {
                violation("ordered queue ran its producer's items as " + fifoRan + ", queued as " + fifoQueued);
            }
            for (Thread th : runtimeThreads) {
                if (th.isAlive()) {
                    violation("runtime thread alive after close(): " + th.getName());
                }
            }
            System.out.println("ledger: seed=" + seed + " ops=" + ops + " in " + ms + " ms, items=" + items.size()
                    + ", queued=" + credits + ", runs=" + runs + ", cancelled=" + cancels + ", reported=" + reports
                    + ", booms=" + booms + ", refusals=" + refusals + ", flush checks=" + flushChecks
                    + ", exclusive cancelSyncs=" + exclusiveCancels + ", disabled holds=" + disabledHolds
                    + ", delay checks=" + earlyChecks + ", fifo runs=" + fifoRan.size()
                    + (closeMidRun ? ", closed half-way" : "") + " -> violations="
                    + violations.size());
            assertThat(thrown).as("seed %d: producers threw", seed).isEmpty();
            assertThat(violations).as("seed %d (rerun with -Dworkqueue4j.ledger.seed=%d)", seed, seed).isEmpty();
        }
    }
}
