package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
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

    @Test
    @DisplayName("a left-over slot above a slot re-filled with another lock is not reused: its chain was built on the old one")
    void slotAboveARefilledSlotIsNotReused() {
        ValidatedLock c = new ValidatedLock("c", new LockClassKey("C"), lockdep);
        nest(a, b); // slot 1 is left holding b on top of a
        nest(c, b); // slot 0 now holds c: b on top of it is a new chain, c -> b must be learnt
        assertThat(lockdep.reports()).isEmpty();
        nest(b, c);
        assertOneCycleReported(); // through the edge c -> b
    }

    @Test
    @DisplayName("locks held across reset() are validated again when re-acquired: their re-keyed slots are not trusted")
    void heldAcrossResetIsValidatedWhenReacquired() {
        ValidatedLock c = new ValidatedLock("c", new LockClassKey("C"), lockdep);
        a.lock();
        b.lock();
        lockdep.reset();
        c.lock(); // slow path: moves the stack to the new generation, re-keying a and b unvalidated
        c.unlock();
        b.unlock();
        b.lock(); // a -> b is not known to the new generation: it must be learnt now
        b.unlock();
        a.unlock();
        assertThat(lockdep.reports()).isEmpty();
        nest(b, a);
        assertOneCycleReported(); // through the edge a -> b
    }

    @Test
    @DisplayName("after a condition wait, whose re-acquisition bypasses lock(), unlock() releases from the waiter's own stack")
    void unlockAfterConditionAwaitUsesTheWaitersStack() throws Exception {
        Condition ready = a.newCondition();
        CountDownLatch waiting = new CountDownLatch(1);
        CountDownLatch reacquired = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            awaitQuietly(waiting);
            a.lock(); // a's holder hint becomes this thread's stack
            ready.signal();
            a.unlock();
            awaitQuietly(reacquired);
            a.lock(); // recorded on this thread's stack, then blocks: the waiter holds a again
            awaitQuietly(checked); // holds a until the waiter's release has been checked
            a.unlock();
        }, "other");
        a.lock();
        other.start();
        waiting.countDown();
        assertThat(ready.await(30, TimeUnit.SECONDS)).isTrue(); // re-acquired inside the ReentrantLock
        reacquired.countDown();
        await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(other));
        try {
            a.unlock(); // must pop this thread's a, not the one the other thread recorded before blocking
            assertThat(lockdep.isHeld(a.map())).isFalse();
        } finally {
            checked.countDown();
        }
        other.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(other.isAlive()).isFalse();
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("a lock taken with lockNested() is released from its holder's own stack")
    void unlockAfterLockNestedUsesTheHoldersStack() throws Exception {
        a.lock(); // a's holder hint: this thread's stack
        a.unlock();
        Thread me = Thread.currentThread();
        CountDownLatch taken = new CountDownLatch(1);
        CountDownLatch released = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                a.lockNested(1);
                taken.countDown();
                await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(me));
                a.unlock(); // must pop this thread's entry, not the one the blocked thread recorded
                assertThat(lockdep.isHeld(a.map())).isFalse();
            } catch (Throwable e) {
                failed.set(e);
            } finally {
                released.countDown();
            }
        }, "other");
        other.start();
        assertThat(taken.await(30, TimeUnit.SECONDS)).isTrue();
        a.lock(); // recorded on this thread's stack, then blocks until the other thread unlocks
        try {
            assertThat(released.await(30, TimeUnit.SECONDS)).isTrue(); // its release is complete
            assertThat(lockdep.isHeld(a.map())).isTrue();
        } finally {
            a.unlock();
        }
        other.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(failed.get()).isNull();
        assertThat(lockdep.isHeld(a.map())).isFalse();
        assertThat(lockdep.reports()).isEmpty();
    }

    /** True once {@code t} is parked inside a {@code ReentrantLock} acquisition (not on a latch). */
    static boolean blockedOnLock(Thread t) {
        Object blocker = LockSupport.getBlocker(t);
        return t.getState() == Thread.State.WAITING && blocker != null
                && blocker.getClass().getName().startsWith("java.util.concurrent.locks.ReentrantLock");
    }

    private void assertOneCycleReported() {
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
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

    static void awaitQuietly(CountDownLatch latch) {
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
