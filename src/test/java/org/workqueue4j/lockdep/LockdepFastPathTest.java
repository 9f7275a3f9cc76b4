package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The acquire/release fast path: a validated lock hands the stack of its last holder back to
 * the validator as a hint, and a cached chain is pushed without the graph lock. The hint must
 * never put an acquisition on another thread's stack, and the cache must never let a chain
 * skip its checks.
 */
class LockdepFastPathTest {

    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
    private final ValidatedLock a = new ValidatedLock("a", new LockClassKey("A"), lockdep);
    private final ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), lockdep);

    @Test
    @DisplayName("a lock last held by another thread is recorded on the caller's own stack")
    void hintOfAnotherThreadIsNotUsed() throws Exception {
        CountDownLatch firstDone = new CountDownLatch(1);
        CountDownLatch mayExit = new CountDownLatch(1);
        Thread first = new Thread(() -> {
            a.lock();
            b.lock();
            b.unlock();
            a.unlock();
            firstDone.countDown();
            awaitQuietly(mayExit); // stays alive, so the snapshot below still lists its stack
        }, "first");
        first.start();
        assertThat(firstDone.await(30, TimeUnit.SECONDS)).isTrue();
        a.lock(); // a's hint is the first thread's stack
        b.lock();
        try {
            assertThat(lockdep.isHeld(a.map())).isTrue();
            assertThat(lockdep.isHeld(b.map())).isTrue();
            LockdepSnapshot s = lockdep.snapshot();
            String me = Thread.currentThread().getName();
            assertThat(s.threads()).filteredOn(t -> t.thread().equals(me)).singleElement()
                    .satisfies(t -> assertThat(t.held()).hasSize(2));
            assertThat(s.threads()).filteredOn(t -> t.thread().equals("first")).singleElement()
                    .satisfies(t -> assertThat(t.held()).isEmpty());
        } finally {
            b.unlock();
            a.unlock();
            mayExit.countDown();
        }
        first.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(lockdep.isHeld(a.map())).isFalse();
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("a cached chain is a hit, counted, and a new order after it is still validated")
    void cachedChainHitsAndNewOrderIsChecked() {
        nest(a, b);
        LockdepStats before = lockdep.stats();
        for (int i = 0; i < 100; i++) {
            nest(a, b);
        }
        LockdepStats after = lockdep.stats();
        assertThat(after.chainHits() - before.chainHits()).isEqualTo(200);
        assertThat(after.chainMisses()).isEqualTo(before.chainMisses());
        nest(b, a); // the reverse order misses the cache and closes the cycle
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    @DisplayName("a lock released after reset() leaves the stack empty, and the new generation relearns the order")
    void resetWhileHeld() {
        nest(a, b);
        a.lock();
        lockdep.reset();
        a.unlock(); // fast pop: needs no class of the new generation
        assertThat(lockdep.isHeld(a.map())).isFalse();
        nest(a, b);
        assertThat(lockdep.stats().chainMisses()).isPositive();
        nest(b, a);
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    @DisplayName("after a work item leaked a lock, the next holder's lock and unlock are its own")
    void leakReleaseThenAnotherHolder() throws Exception {
        LockMap item = new LockMap("item", new LockClassKey("item"));
        runOn("worker", () -> {
            lockdep.acquire(item);
            a.lock(); // leaked: the item returns holding it
            lockdep.checkLeaks(item, "leaky_fn", "q");
            lockdep.release(item);
        });
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.LEAKED_LOCK));
        a.lock(); // a's hint is the worker's stack, which checkLeaks already emptied
        assertThat(lockdep.isHeld(a.map())).isTrue();
        a.unlock();
        assertThat(lockdep.isHeld(a.map())).isFalse();
        assertThat(lockdep.reports()).hasSize(1);
    }

    @Test
    @DisplayName("an out-of-order release takes the general path and keeps the stack right")
    void outOfOrderRelease() {
        a.lock();
        b.lock();
        a.unlock(); // not the top entry
        assertThat(lockdep.isHeld(a.map())).isFalse();
        assertThat(lockdep.isHeld(b.map())).isTrue();
        b.unlock();
        assertThat(lockdep.isHeld(b.map())).isFalse();
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("a slot emptied by an out-of-order release is re-filled with its lock's class on the fast path")
    void slotEmptiedByOutOfOrderReleaseIsRefilled() {
        ValidatedLock c = new ValidatedLock("c", new LockClassKey("C"), lockdep);
        a.lock();
        b.lock();
        a.unlock(); // general path: b moves down, the slot above it is emptied
        b.unlock();
        a.lock();
        b.lock(); // the chain a -> b is cached: the fast path fills the emptied slot
        try {
            assertThat(heldByMe()).hasSize(2).anySatisfy(l -> assertThat(l).contains("B"));
            c.lock(); // a new chain: the slow path reads the class of every held entry
            c.unlock();
        } finally {
            b.unlock();
            a.unlock();
        }
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("after reset() a chain cached by another thread fills a slot of the old generation with the new class")
    void oldGenerationSlotIsRefilledAfterReset() throws Exception {
        ValidatedLock p = new ValidatedLock("p", new LockClassKey("P"), lockdep);
        ValidatedLock q = new ValidatedLock("q", new LockClassKey("Q"), lockdep);
        nest(a, b); // this thread's slots now hold a and b of the first generation
        lockdep.reset(); // class uids start again: p and q get the uids a and b had
        runOn("other", () -> nest(p, q)); // caches the chain p -> q of the new generation
        p.lock(); // slow path: moves this thread's stack to the new generation
        q.lock(); // the cached chain: the fast path, on the slot b's acquisition left
        try {
            assertThat(heldByMe()).hasSize(2).anySatisfy(l -> assertThat(l).contains("Q"));
            a.lock(); // a new chain: the slow path reads the class of every held entry
            a.unlock();
        } finally {
            q.unlock();
            p.unlock();
        }
        assertThat(lockdep.reports()).isEmpty();
    }

    private List<String> heldByMe() {
        String me = Thread.currentThread().getName();
        return lockdep.snapshot().threads().stream().filter(t -> t.thread().equals(me)).findFirst()
                .orElseThrow().held();
    }

    private static void nest(ValidatedLock first, ValidatedLock second) {
        first.lock();
        second.lock();
        second.unlock();
        first.unlock();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("test thread was never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void runOn(String name, Runnable r) throws Exception {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failed.set(e);
            } finally {
                done.countDown();
            }
        }, name);
        t.start();
        assertThat(done.await(30, TimeUnit.SECONDS)).as("thread '%s' finished", name).isTrue();
        t.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(failed.get()).isNull();
    }
}
