package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.workqueue4j.lockdep.LockdepFastPathTest.awaitQuietly;
import static org.workqueue4j.lockdep.LockdepFastPathTest.blockedOnLock;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Attacks on the lockdep fast path's two shortcuts: a held-stack slot re-used when its
 * left-over acquisition matches ({@link HeldLocks#validatedSlot}), and {@link ValidatedLock#unlock()}
 * releasing from the stack its {@code holder} field names without an ownership check
 * ({@link Lockdep#releaseOwned}). Every way the underlying {@code ReentrantLock} can change
 * owner or be re-acquired is driven with a second thread that has the lock recorded on top of
 * its own stack (it called {@code lock()} and is blocked), which is exactly the stack a stale
 * holder field would make the holder's {@code unlock()} pop. After each sequence the held
 * stacks of both threads must be exact, and the graph must learn and report later orders as
 * it would have without the shortcuts. Interleavings are forced with latches and by waiting
 * until a thread is parked inside the lock (a fair lock where queue order matters); no sleeps.
 */
class LockdepFastPathAttackTest {

    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
    private final ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), lockdep);
    /** Fair: a thread queued on it first gets it first, so hand-offs happen in a fixed order. */
    private final ValidatedLock f = ValidatedLock.builder("f", new LockClassKey("F"), lockdep).fair(true).build();

    // ---------------------------------------------------------------- conditions

    /** How the other thread ends the waiter's wait. */
    enum Wake { SIGNAL, SIGNAL_ALL, INTERRUPT, INTERRUPT_THEN_SIGNAL, TIMEOUT }

    /** One of the condition's waits; {@code nanos} bounds the timed ones. */
    interface AwaitCall {
        void await(Condition c, long nanos) throws InterruptedException;
    }

    static Stream<Arguments> waits() {
        AwaitCall await = (c, n) -> c.await();
        AwaitCall uninterruptibly = (c, n) -> c.awaitUninterruptibly();
        AwaitCall nanos = (c, n) -> c.awaitNanos(n);
        AwaitCall timed = (c, n) -> c.await(n, TimeUnit.NANOSECONDS);
        AwaitCall until = (c, n) -> c.awaitUntil(new Date(System.currentTimeMillis() + TimeUnit.NANOSECONDS.toMillis(n)));
        List<Arguments> out = new ArrayList<>();
        for (int holds = 1; holds <= 2; holds++) {
            for (Wake w : List.of(Wake.SIGNAL, Wake.SIGNAL_ALL, Wake.INTERRUPT)) {
                out.add(Arguments.of("await()", await, w, holds));
            }
            out.add(Arguments.of("awaitUninterruptibly()", uninterruptibly, Wake.SIGNAL, holds));
            out.add(Arguments.of("awaitUninterruptibly()", uninterruptibly, Wake.INTERRUPT_THEN_SIGNAL, holds));
            for (Wake w : List.of(Wake.SIGNAL, Wake.INTERRUPT, Wake.TIMEOUT)) {
                out.add(Arguments.of("awaitNanos()", nanos, w, holds));
                out.add(Arguments.of("await(long, TimeUnit)", timed, w, holds));
                out.add(Arguments.of("awaitUntil()", until, w, holds));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} woken by {2}, hold count {3}")
    @MethodSource("waits")
    @DisplayName("after any condition wait, however it ends, unlock() releases from the waiter's own stack")
    void everyConditionWaitRestoresTheHolder(String name, AwaitCall call, Wake wake, int holds) throws Exception {
        Condition cond = f.newCondition();
        Thread me = Thread.currentThread();
        CountDownLatch checked = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                f.lock(); // #1: queued before the wait; gets the lock when the wait releases it; holder := its stack
                try {
                    switch (wake) {
                        case SIGNAL -> cond.signal(); // moves the waiter to the lock's queue, ahead of #2
                        case SIGNAL_ALL -> cond.signalAll();
                        case INTERRUPT_THEN_SIGNAL -> {
                            me.interrupt(); // does not end an uninterruptible wait
                            cond.signal();
                        }
                        case INTERRUPT -> me.interrupt();
                        case TIMEOUT -> { }
                    }
                    if (wake == Wake.INTERRUPT || wake == Wake.TIMEOUT) {
                        // the waiter queues itself for re-acquisition: wait until it has, so it is ahead of #2
                        await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(me));
                    }
                } finally {
                    f.unlock();
                }
                lockHoldUntil(checked); // #2: recorded on this thread's stack, then queued behind the waiter
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "other");
        for (int i = 0; i < holds; i++) {
            f.lock();
        }
        other.start();
        await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(other)); // #1 is queued
        long nanos = wake == Wake.TIMEOUT ? TimeUnit.MILLISECONDS.toNanos(1) : TimeUnit.SECONDS.toNanos(60);
        boolean interruptedOut = false;
        try {
            call.await(cond, nanos);
        } catch (InterruptedException e) {
            interruptedOut = true;
        }
        boolean flagSet = Thread.interrupted();
        assertThat(interruptedOut).as("InterruptedException").isEqualTo(wake == Wake.INTERRUPT);
        assertThat(flagSet).as("interrupt status kept").isEqualTo(wake == Wake.INTERRUPT_THEN_SIGNAL);
        assertThat(f.isHeldByCurrentThread()).isTrue();
        try {
            await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(other)); // #2 recorded and blocked
            assertThat(heldBy("other")).singleElement().satisfies(l -> assertThat(l).contains("F"));
            assertThat(heldByMe()).singleElement().satisfies(l -> assertThat(l).contains("F"));
            for (int i = holds; i > 0; i--) {
                assertThat(lockdep.isHeld(f.map())).as("held before unlock #%d", holds - i + 1).isTrue();
                f.unlock(); // the outermost one must pop this thread's entry, not the one #2 recorded
            }
            assertThat(lockdep.isHeld(f.map())).isFalse();
            assertThat(heldByMe()).isEmpty();
            assertThat(heldBy("other")).singleElement().satisfies(l -> assertThat(l).contains("F"));
        } finally {
            checked.countDown();
        }
        other.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(other.isAlive()).isFalse();
        assertThat(failed.get()).isNull();
        assertLaterOrdersLearnt(f);
    }

    @Test
    @DisplayName("a non-holder's signal, signalAll and waits throw IllegalMonitorStateException and leave the holder's record alone")
    void conditionCallsOfANonHolderThrow() throws Exception {
        Condition cond = f.newCondition();
        runOn("stranger", () -> nest(f, b), true); // the stranger's stack was f's holder hint
        f.lock(); // this thread's stack in the holder field again
        try {
            List<Throwable> thrown = new ArrayList<>();
            runOn("stranger2", () -> {
                for (Runnable r : List.<Runnable>of(cond::signal, cond::signalAll, cond::awaitUninterruptibly,
                        () -> uncheckedAwait(() -> cond.await()),
                        () -> uncheckedAwait(() -> cond.awaitNanos(1)),
                        () -> uncheckedAwait(() -> cond.await(1, TimeUnit.SECONDS)),
                        () -> uncheckedAwait(() -> cond.awaitUntil(new Date())))) {
                    try {
                        r.run();
                    } catch (Throwable t) {
                        thrown.add(t);
                    }
                }
            }, true);
            assertThat(thrown).hasSize(7).allSatisfy(t -> assertThat(t).isInstanceOf(IllegalMonitorStateException.class));
            assertThat(heldByMe()).singleElement().satisfies(l -> assertThat(l).contains("F"));
        } finally {
            f.unlock();
        }
        assertThat(heldByMe()).isEmpty();
        assertLaterOrdersLearnt(f);
    }

    @Test
    @DisplayName("waits that throw before releasing (interrupted on entry, a null unit or deadline) leave the holder's record exact")
    void waitsThatThrowBeforeReleasing() throws Exception {
        Condition cond = f.newCondition();
        runOn("stranger", () -> nest(f, b), true); // the last holder hint before ours: another thread's stack
        f.lock();
        try {
            List<Wait> interruptible = List.of(cond::await, () -> cond.awaitNanos(1), () -> cond.await(1, TimeUnit.SECONDS),
                    () -> cond.awaitUntil(new Date(System.currentTimeMillis() + 1000)));
            for (Wait w : interruptible) {
                Thread.currentThread().interrupt();
                assertThatThrownBy(w::run).isInstanceOf(InterruptedException.class);
                assertThat(f.isHeldByCurrentThread()).isTrue();
            }
            assertThatThrownBy(() -> cond.await(1, null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> cond.awaitUntil(null)).isInstanceOf(NullPointerException.class);
            assertThat(f.isHeldByCurrentThread()).isTrue();
            assertThat(heldByMe()).singleElement().satisfies(l -> assertThat(l).contains("F"));
        } finally {
            f.unlock();
        }
        assertThat(heldByMe()).isEmpty();
        assertLaterOrdersLearnt(f);
    }

    // ---------------------------------------------------------------- acquire paths

    /** The ways a thread can come to hold {@link #f}. */
    enum How { LOCK, LOCK_INTERRUPTIBLY, TRY_LOCK, TRY_LOCK_TIMEOUT, LOCK_NESTED, LOCK_NEST_LOCK, REENTRANT_TWICE, AFTER_AWAIT }

    @ParameterizedTest
    @EnumSource(How.class)
    @DisplayName("whichever path took the lock, its unlock() pops the holder's entry, not the one a blocked thread recorded")
    void everyAcquirePathLeavesTheHoldersStack(How how) throws Exception {
        ValidatedLock nest = new ValidatedLock("n", new LockClassKey("N"), lockdep);
        CountDownLatch primed = new CountDownLatch(1);
        CountDownLatch mainHolds = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                f.lock(); // f's holder hint: this thread's stack
                f.unlock();
                primed.countDown();
                awaitQuietly(mainHolds);
                lockHoldUntil(checked); // recorded on this thread's stack, then blocks: the main thread holds f
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "other");
        other.start();
        assertThat(primed.await(30, TimeUnit.SECONDS)).isTrue();
        int holds = 1;
        switch (how) {
            case LOCK -> f.lock();
            case LOCK_INTERRUPTIBLY -> f.lockInterruptibly();
            case TRY_LOCK -> assertThat(f.tryLock()).isTrue();
            case TRY_LOCK_TIMEOUT -> assertThat(f.tryLock(30, TimeUnit.SECONDS)).isTrue();
            case LOCK_NESTED -> f.lockNested(1);
            case LOCK_NEST_LOCK -> {
                nest.lock();
                f.lockNestLock(nest);
            }
            case REENTRANT_TWICE -> {
                f.lock();
                f.lock();
                holds = 2;
            }
            case AFTER_AWAIT -> {
                f.lock();
                assertThat(f.newCondition().awaitNanos(1)).isNotPositive(); // re-acquired inside the ReentrantLock
            }
        }
        mainHolds.countDown();
        try {
            await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(other));
            assertThat(heldBy("other")).singleElement().satisfies(l -> assertThat(l).contains("F"));
            for (int i = 0; i < holds; i++) {
                f.unlock();
            }
            assertThat(lockdep.isHeld(f.map())).isFalse();
            assertThat(heldByMe()).hasSize(how == How.LOCK_NEST_LOCK ? 1 : 0);
            assertThat(heldBy("other")).singleElement().satisfies(l -> assertThat(l).contains("F"));
        } finally {
            checked.countDown();
            if (how == How.LOCK_NEST_LOCK) {
                nest.unlock();
            }
        }
        other.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(other.isAlive()).isFalse();
        assertThat(failed.get()).isNull();
        assertThat(heldByMe()).isEmpty();
        assertLaterOrdersLearnt(f);
    }

    @Test
    @DisplayName("a failed tryLock(timeout) and an interrupted lockInterruptibly() leave nothing on the failing thread's stack")
    void failedAcquisitionsLeaveNoRecord() throws Exception {
        f.lock();
        try {
            CountDownLatch blocked = new CountDownLatch(1);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    assertThat(f.tryLock(1, TimeUnit.MILLISECONDS)).isFalse();
                    assertThat(lockdep.isHeld(f.map())).isFalse();
                    assertThat(f.tryLock()).isFalse();
                    assertThat(lockdep.isHeld(f.map())).isFalse();
                    blocked.countDown();
                    assertThatThrownBy(f::lockInterruptibly).isInstanceOf(InterruptedException.class);
                    assertThat(lockdep.isHeld(f.map())).isFalse();
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "failing");
            t.start();
            assertThat(blocked.await(30, TimeUnit.SECONDS)).isTrue();
            await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(t));
            t.interrupt();
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(failed.get()).isNull();
            assertThat(heldByMe()).singleElement().satisfies(l -> assertThat(l).contains("F"));
        } finally {
            f.unlock();
        }
        assertThat(heldByMe()).isEmpty();
        assertLaterOrdersLearnt(f);
    }

    // ---------------------------------------------------------------- misuse

    @Test
    @DisplayName("unlock() by a thread that does not hold the lock throws, is reported, and leaves the holder's stack alone")
    void unlockByANonHolder() throws Exception {
        f.lock();
        try {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            runOn("stranger", () -> {
                try {
                    f.unlock();
                } catch (Throwable t) {
                    thrown.set(t);
                }
                assertThat(lockdep.isHeld(f.map())).isFalse();
            }, true);
            assertThat(thrown.get()).isInstanceOf(IllegalMonitorStateException.class);
            assertThat(f.isHeldByCurrentThread()).isTrue();
            assertThat(heldByMe()).singleElement().satisfies(l -> assertThat(l).contains("F"));
            assertThat(lockdep.reports()).singleElement()
                    .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RELEASE_NOT_HELD));
        } finally {
            f.unlock();
        }
        assertThat(heldByMe()).isEmpty();
        assertThat(lockdep.reports()).hasSize(1);
    }

    @Test
    @DisplayName("an out-of-order release while another thread is blocked on the released lock keeps both stacks exact")
    void outOfOrderReleaseWithAWaiter() throws Exception {
        CountDownLatch checked = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        f.lock();
        b.lock();
        Thread other = new Thread(() -> {
            try {
                f.lock(); // recorded, then blocks
                try {
                    awaitQuietly(checked);
                } finally {
                    f.unlock();
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "other");
        other.start();
        await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(other));
        try {
            f.unlock(); // not the top entry
            await().atMost(30, TimeUnit.SECONDS).until(() -> !blockedOnLock(other));
            assertThat(heldByMe()).singleElement().satisfies(l -> assertThat(l).contains("B"));
            assertThat(heldBy("other")).singleElement().satisfies(l -> assertThat(l).contains("F"));
        } finally {
            checked.countDown();
            b.unlock();
        }
        other.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(failed.get()).isNull();
        assertThat(heldByMe()).isEmpty();
        assertThat(afterOf("F")).containsExactly("B");
        nest(b, f);
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    // ---------------------------------------------------------------- left-over slots

    @Test
    @DisplayName("a slot left by a trylock is not re-used for a blocking acquisition of the same class, nor the reverse")
    void trylockFlagOfALeftOverSlot() {
        ValidatedLock c = new ValidatedLock("c", new LockClassKey("C"), lockdep);
        ValidatedLock d = new ValidatedLock("d", new LockClassKey("D"), lockdep);
        f.lock();
        assertThat(b.tryLock()).isTrue(); // slot 1: b, trylock
        b.unlock();
        b.lock(); // same class, same slot, blocking: a different chain key, so the slot is rewritten
        c.lock(); // walks down from b: b is not a trylock, so the walk stops there: only b -> c
        c.unlock();
        b.unlock();
        assertThat(b.tryLock()).isTrue(); // back to the trylock slot
        d.lock(); // b is a trylock: the walk goes on to f, but f -> d is implied by f -> b -> d
        d.unlock();
        b.unlock();
        f.unlock();
        assertThat(afterOf("F")).containsExactly("B");
        assertThat(afterOf("B")).containsExactlyInAnyOrder("C", "D");
        assertThat(lockdep.reports()).isEmpty();
        nest(c, f); // f -> b -> c learnt: closes a cycle
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    @DisplayName("locks held across reset(), with a new generation re-using the class uids in another order, keep exact stacks and relearn")
    void resetWhileHeldWithUidCollision() throws Exception {
        ValidatedLock c = new ValidatedLock("c", new LockClassKey("C"), lockdep);
        ValidatedLock f2 = new ValidatedLock("f2", f.map().key(), lockdep); // another instance of f's class
        f.lock(); // generation 1: F uid 1
        b.lock(); // B uid 2: slot 1 keeps key(F1, B2) after the pop
        b.unlock();
        lockdep.reset();
        runOn("other", () -> nest(f2, c), true); // generation 2: F uid 1, C uid 2: the chain f -> c has the same key as f -> b had
        // a flush under f: moves this thread's stack to the new generation without pushing anything
        assertThat(lockdep.deferWait(new LockMap("flush", new LockClassKey("W")))).isNotNull();
        c.lock(); // the cached chain f -> c: the fast path, on the slot b left, whose key is f -> c's
        try {
            assertThat(heldByMe()).hasSize(2).satisfies(l -> assertThat(l.get(1)).contains("C"));
            b.lock(); // a new chain under f, c: reads the class of every held entry
            b.unlock();
        } finally {
            c.unlock();
            f.unlock();
        }
        assertThat(heldByMe()).isEmpty();
        assertThat(afterOf("C")).containsExactly("B");
        assertThat(afterOf("F")).containsExactly("C"); // f -> c learnt by the other thread; f, c, b adds c -> b only
        nest(b, f);
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    @DisplayName("two validators: a thread's stack in one is never the other's, and each learns only its own locks")
    void twoValidators() {
        Lockdep other = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();
        ValidatedLock x = new ValidatedLock("x", new LockClassKey("X"), other);
        ValidatedLock y = new ValidatedLock("y", new LockClassKey("Y"), other);
        for (int i = 0; i < 3; i++) { // cached chains the second time round: the fast paths of both
            f.lock();
            x.lock();
            b.lock();
            y.lock();
            f.unlock(); // out of order in this validator
            y.unlock();
            b.unlock();
            x.unlock();
        }
        assertThat(heldByMe()).isEmpty();
        assertThat(other.isHeld(x.map())).isFalse();
        assertThat(afterOf("F")).containsExactly("B");
        assertThat(other.snapshot().classes()).filteredOn(ci -> ci.name().contains("X")).singleElement()
                .satisfies(ci -> assertThat(ci.after()).singleElement().satisfies(n -> assertThat(n).contains("Y")));
        assertThat(lockdep.reports()).isEmpty();
        assertThat(other.reports()).isEmpty();
    }

    @Test
    @DisplayName("a slot left by a downgraded write hold (read mode) is rewritten by the next write acquisition")
    void slotLeftByADowngradeIsRewritten() {
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), lockdep);
        for (int i = 0; i < 2; i++) { // the second round on cached chains: the fast path's slots
            rw.writeLock().lock();
            rw.readLock().lock(); // downgrade: the entry becomes a read hold when the write side is released
            rw.writeLock().unlock();
            rw.assertHeldRead();
            rw.readLock().unlock(); // pops the read entry: its mode and key stay in the slot
            rw.writeLock().lock();
            rw.assertHeldWrite(); // reported if the slot kept the read mode
            rw.writeLock().unlock();
        }
        assertThat(heldByMe()).isEmpty();
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("a listener's Error during lock()'s report leaves the lock free and the stack as it was")
    void listenerErrorDuringLock() throws Exception {
        AtomicBoolean armed = new AtomicBoolean(true);
        Lockdep throwing = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(r -> {
            if (armed.get()) {
                throw new ListenerError(r.title());
            }
        }).build();
        ValidatedLock p = new ValidatedLock("p", new LockClassKey("P"), throwing);
        ValidatedLock q = new ValidatedLock("q", new LockClassKey("Q"), throwing);
        nest(p, q);
        q.lock();
        try {
            assertThatThrownBy(p::lock).isInstanceOf(ListenerError.class); // the cycle's report
            assertThat(p.isHeldByCurrentThread()).isFalse();
            assertThat(throwing.isHeld(p.map())).isFalse();
            assertThat(heldBy(Thread.currentThread().getName(), throwing)).singleElement()
                    .satisfies(l -> assertThat(l).contains("Q"));
        } finally {
            q.unlock();
        }
        assertThat(throwing.isHeld(q.map())).isFalse();
        armed.set(false);
        runOn("other", () -> nest(p, q), true);
        assertThat(throwing.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    // ---------------------------------------------------------------- exceptions from reporting

    @Test
    @DisplayName("under THROW a refused acquisition leaves the stack as it was, on every acquire path")
    void throwRefusalLeavesStackExact() throws Exception {
        Lockdep strict = Lockdep.builder().policy(ReportPolicy.THROW).quiet().build();
        ValidatedLock p = new ValidatedLock("p", new LockClassKey("P"), strict);
        ValidatedLock q = new ValidatedLock("q", new LockClassKey("Q"), strict);
        nest(p, q);
        q.lock();
        try {
            assertThatThrownBy(p::lock).isInstanceOf(PotentialDeadlockException.class);
            assertThatThrownBy(p::lockInterruptibly).isInstanceOf(PotentialDeadlockException.class);
            assertThatThrownBy(() -> p.tryLock(1, TimeUnit.SECONDS)).isInstanceOf(PotentialDeadlockException.class);
            assertThatThrownBy(() -> p.lockNested(0)).isInstanceOf(PotentialDeadlockException.class);
            assertThat(p.isHeldByCurrentThread()).isFalse();
            assertThat(strict.isHeld(p.map())).isFalse();
            assertThat(strict.isHeld(q.map())).isTrue();
        } finally {
            q.unlock();
        }
        assertThat(strict.isHeld(q.map())).isFalse();
        nest(p, q); // still the cached, allowed order
        assertThat(strict.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    /** What a listener throws: an Error, which the validator does not catch. */
    static final class ListenerError extends Error {
        private static final long serialVersionUID = 1L;

        ListenerError(String message) {
            super(message);
        }
    }

    @Test
    @DisplayName("a tryLock() whose record throws (a listener's Error on a capacity report) leaves the lock free and no thread's stack touched")
    void tryLockWhoseRecordThrowsReleasesTheLock() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        Lockdep small = Lockdep.builder().policy(ReportPolicy.WARN).quiet().maxChains(2).listener(r -> {
            if (armed.get()) {
                throw new ListenerError(r.title());
            }
        }).build();
        ValidatedLock p = new ValidatedLock("p", new LockClassKey("P"), small);
        ValidatedLock q = new ValidatedLock("q", new LockClassKey("Q"), small);
        CountDownLatch primed = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch acquired = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                q.lock(); // chain [q], the first of two; q's holder hint: this thread's stack
                q.unlock();
                primed.countDown();
                awaitQuietly(go);
                q.lock(); // recorded on this thread's stack (validation is off by now), then maybe blocks
                try {
                    acquired.countDown();
                    awaitQuietly(done);
                } finally {
                    q.unlock();
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "other");
        other.start();
        assertThat(primed.await(30, TimeUnit.SECONDS)).isTrue();
        p.lock(); // chain [p], the second
        try {
            armed.set(true);
            // chain [p, q(try)] is the third: a capacity report, whose listener throws after q was taken
            assertThatThrownBy(q::tryLock).isInstanceOf(ListenerError.class);
            armed.set(false);
            boolean leftHeld = q.isHeldByCurrentThread();
            go.countDown();
            if (leftHeld) { // the defect: let the other thread record q, then release it from here
                await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnLock(other));
                q.unlock();
            }
            assertThat(acquired.await(30, TimeUnit.SECONDS)).isTrue();
            try {
                assertThat(heldBy("other", small)).as("the other thread's stack").singleElement()
                        .satisfies(l -> assertThat(l).contains("Q"));
                assertThat(heldBy(Thread.currentThread().getName(), small)).singleElement()
                        .satisfies(l -> assertThat(l).contains("P"));
                assertThat(leftHeld).as("q left held by a tryLock() that threw").isFalse();
            } finally {
                done.countDown();
            }
        } finally {
            p.unlock();
        }
        other.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(failed.get()).isNull();
        assertThat(heldBy(Thread.currentThread().getName(), small)).isEmpty();
    }

    @Test
    @DisplayName("the read side's tryLock() whose record throws leaves the read-write lock free")
    void readWriteTryLockWhoseRecordThrowsReleasesTheLock() {
        AtomicBoolean armed = new AtomicBoolean();
        Lockdep small = Lockdep.builder().policy(ReportPolicy.WARN).quiet().maxChains(1).listener(r -> {
            if (armed.get()) {
                throw new ListenerError(r.title());
            }
        }).build();
        ValidatedLock p = new ValidatedLock("p", new LockClassKey("P"), small);
        ValidatedReadWriteLock rw = new ValidatedReadWriteLock("rw", new LockClassKey("RW"), small);
        p.lock(); // chain [p], the only one
        try {
            armed.set(true);
            // chain [p, rw(read, try)]: a capacity report, whose listener throws after the read lock was taken
            assertThatThrownBy(() -> rw.readLock().tryLock()).isInstanceOf(ListenerError.class);
        } finally {
            armed.set(false);
            p.unlock();
        }
        assertThat(small.isHeld(rw.map())).isFalse();
        assertThat(rw.writeLock().tryLock()).as("free again").isTrue();
        rw.writeLock().unlock();
        assertThat(small.isHeld(rw.map())).isFalse();
    }

    // ---------------------------------------------------------------- read-write lock

    @Test
    @DisplayName("the write side's condition wait and a hand-off leave exact stacks (its unlock() trusts the holder its condition restores)")
    void writeSideConditionHandOff() throws Exception {
        ValidatedReadWriteLock rw = ValidatedReadWriteLock.builder("rw", new LockClassKey("RW"), lockdep).fair(true).build();
        Lock w = rw.writeLock();
        Condition cond = w.newCondition();
        CountDownLatch checked = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread me = Thread.currentThread();
        Thread other = new Thread(() -> {
            try {
                w.lock(); // queued before the wait; holder := its stack
                try {
                    cond.signal();
                } finally {
                    w.unlock();
                }
                w.lock(); // recorded, queued behind the waiter
                try {
                    awaitQuietly(checked);
                    assertThat(lockdep.isHeld(rw.map())).isTrue();
                } finally {
                    w.unlock();
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "other");
        w.lock();
        other.start();
        await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnRw(other));
        assertThat(cond.await(60, TimeUnit.SECONDS)).isTrue();
        try {
            await().atMost(30, TimeUnit.SECONDS).until(() -> blockedOnRw(other));
            w.unlock();
            assertThat(heldByMe()).isEmpty();
            assertThat(heldBy("other")).singleElement().satisfies(l -> assertThat(l).contains("RW"));
        } finally {
            checked.countDown();
        }
        other.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(failed.get()).isNull();
        assertThat(me.isInterrupted()).isFalse();
        assertThat(lockdep.reports()).isEmpty();
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Takes {@link #f} (recorded on this thread's stack before blocking), holds it until
     * {@code checked}, and releases it, checking that its own stack had it and no longer has.
     */
    private void lockHoldUntil(CountDownLatch checked) {
        f.lock();
        try {
            awaitQuietly(checked);
            assertThat(lockdep.isHeld(f.map())).isTrue();
        } finally {
            f.unlock();
        }
        assertThat(lockdep.isHeld(f.map())).isFalse();
    }

    /**
     * After the sequence, this validator still learns and reports as it should: {@code l} -> b
     * is learnt (a cached or new chain), b -> {@code l} closes the cycle, reported once.
     */
    private void assertLaterOrdersLearnt(ValidatedLock l) {
        assertThat(lockdep.reports()).isEmpty();
        nest(l, b);
        nest(l, b);
        assertThat(lockdep.reports()).isEmpty();
        nest(b, l);
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
        assertThat(heldByMe()).isEmpty();
    }

    private List<String> afterOf(String cls) {
        return lockdep.snapshot().classes().stream().filter(c -> c.name().equals(cls)).findFirst()
                .map(LockdepSnapshot.ClassInfo::after).orElse(List.of());
    }

    /** True once {@code t} is parked inside a {@code ReentrantReadWriteLock} acquisition. */
    private static boolean blockedOnRw(Thread t) {
        Object blocker = LockSupport.getBlocker(t);
        return t.getState() == Thread.State.WAITING && blocker != null
                && blocker.getClass().getName().startsWith("java.util.concurrent.locks.ReentrantReadWriteLock");
    }

    private List<String> heldByMe() {
        return heldBy(Thread.currentThread().getName());
    }

    private List<String> heldBy(String thread) {
        return heldBy(thread, lockdep);
    }

    private static List<String> heldBy(String thread, Lockdep ld) {
        return ld.snapshot().threads().stream().filter(t -> t.thread().equals(thread) && t.alive()).findFirst()
                .orElseThrow(() -> new AssertionError("no live thread '" + thread + "' in the snapshot")).held();
    }

    private static void nest(Lock first, Lock second) {
        first.lock();
        second.lock();
        second.unlock();
        first.unlock();
    }

    /** An interruptible wait, for a list of plain runnables; an interrupt here is a test failure. */
    private interface Wait {
        void run() throws InterruptedException;
    }

    private static void uncheckedAwait(Wait w) {
        try {
            w.run();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void runOn(String name, Runnable r, boolean mustSucceed) throws Exception {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                failed.set(e);
            }
        }, name);
        t.start();
        t.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(t.isAlive()).as("thread '%s' finished", name).isFalse();
        if (mustSucceed) {
            assertThat(failed.get()).isNull();
        }
    }
}
