package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the start-up check-in of the runtime threads (timer, manager, monitor): the call
 * that starts one waits until its body runs, and refuses the operation if the factory's thread
 * ended without running it. Every call that goes on as if the thread existed must have a thread
 * that runs the body; a refused call must say so, and an interrupt is never eaten.
 */
class StartCheckInAttackTest {
    private final List<Thread> made = new CopyOnWriteArrayList<>();
    private WorkQueues rt;

    @AfterEach
    void tearDown() {
        if (rt != null) {
            rt.close();
        }
    }

    private WorkQueues runtime(String name, ThreadFactory f) {
        rt = WorkQueues.create(WorkQueuesConfig.builder().name(name).cpus(2).closeTimeout(Duration.ofSeconds(20))
                .watchdogThreshold(Duration.ZERO)
                .threadFactory(r -> {
                    Thread t = f.newThread(r);
                    made.add(t);
                    return t;
                }).build());
        return rt;
    }

    private static boolean is(Runnable r, String engineClass) {
        return r.getClass().getSimpleName().equals(engineClass);
    }

    /** {@code th} ended, or is parked inside OnDemandThread (waiting for a start or a check-in). */
    private static boolean parkedInStart(Thread th) {
        Thread.State s = th.getState();
        if (s == Thread.State.TERMINATED) {
            return true;
        }
        if (s != Thread.State.WAITING && s != Thread.State.TIMED_WAITING) {
            return false;
        }
        for (StackTraceElement e : th.getStackTrace()) {
            if (e.getClassName().endsWith("OnDemandThread")) {
                return true;
            }
        }
        return false;
    }

    private static void awaitParkedInStart(Thread th) {
        Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() -> parkedInStart(th));
    }

    private static Thread run(String name, AtomicReference<Throwable> failure, Runnable action) {
        Thread th = new Thread(() -> {
            try {
                action.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, name);
        th.start();
        return th;
    }

    /**
     * Attack: two threads arm the first delayed items at once; the factory's timer thread drops
     * its Runnable (stays alive until released, then ends). The first call waits for the
     * check-in; the second, arriving during that wait, found STARTED and went on: its item was
     * armed on a timer that never ran and never fired, silently, while the first call was
     * refused. Failed before the fix ("b armed while no timer thread ever ran" after 10 s).
     */
    @Test
    void aDelayedItemArmedDuringAnotherCallsCheckInWaitIsRefusedOrFires() throws Exception {
        CountDownLatch dropRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        runtime("drop-timer-started", r -> {
            if (is(r, "TimerQueue")) {
                return new Thread(() -> { // a wrapper that forgets the Runnable
                    dropRunning.countDown();
                    LifecycleTest.await(release);
                });
            }
            return new Thread(r);
        });
        WorkQueue q = rt.queueBuilder("q").build();
        AtomicReference<Throwable> aFail = new AtomicReference<>();
        Thread a = run("first-arm", aFail, () -> q.queueDelayed(new DelayedWork("a", () -> { }), Duration.ofMillis(1)));
        LifecycleTest.await(dropRunning);
        awaitParkedInStart(a);
        secondArmRefusedOrFires(q, a, aFail, release);
    }

    /**
     * Attack: as above, but the second call comes while the first is still inside the thread
     * factory (state CREATING); the factory then returns a thread that drops the Runnable. The
     * second call returned at once and its item was armed with no timer. Failed before the fix
     * ("b armed while no timer thread ever ran").
     */
    @Test
    void aDelayedItemArmedWhileTheFirstIsInTheFactoryIsRefusedOrFires() throws Exception {
        CountDownLatch inFactory = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger timerCalls = new AtomicInteger();
        runtime("drop-timer-creating", r -> {
            if (is(r, "TimerQueue") && timerCalls.getAndIncrement() == 0) {
                inFactory.countDown();
                LifecycleTest.await(release);
                return new Thread(() -> { }); // ends at once without running r
            }
            return new Thread(r);
        });
        WorkQueue q = rt.queueBuilder("q").build();
        AtomicReference<Throwable> aFail = new AtomicReference<>();
        Thread a = run("first-arm", aFail, () -> q.queueDelayed(new DelayedWork("a", () -> { }), Duration.ofMillis(1)));
        LifecycleTest.await(inFactory);
        secondArmRefusedOrFires(q, a, aFail, release);
    }

    /**
     * Arms a second delayed item while {@code a} (arming the first) waits in the timer's start,
     * then releases the factory's thread: a is refused, and the second item is refused too or
     * fires (never armed on a timer that never ran).
     */
    private static void secondArmRefusedOrFires(WorkQueue q, Thread a, AtomicReference<Throwable> aFail,
                                                CountDownLatch release) throws InterruptedException {
        AtomicReference<Throwable> bFail = new AtomicReference<>();
        CountDownLatch bRan = new CountDownLatch(1);
        Thread b = run("second-arm", bFail, () -> q.queueDelayed(new DelayedWork("b", bRan::countDown),
                Duration.ofMillis(1)));
        awaitParkedInStart(b);
        release.countDown();
        LifecycleTest.join(a);
        LifecycleTest.join(b);
        assertThat(aFail.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/timer");
        if (bFail.get() == null) {
            assertThat(bRan.await(10, TimeUnit.SECONDS)).as("b armed while no timer thread ever ran").isTrue();
        } else {
            assertThat(bFail.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/timer");
        }
    }

    /**
     * Attack: two first queue builds at once, the factory's monitor thread dropping its Runnable
     * (alive until released). The second build, during the first one's check-in wait, succeeded
     * and left a queue with no monitor (no reaping, no watchdog, no reports) while the first was
     * refused. Failed before the fix (second build returned, no monitor body ever ran).
     */
    @Test
    void aQueueBuiltDuringAnotherBuildsCheckInWaitIsRefusedOrWatched() throws Exception {
        CountDownLatch dropRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch monitorRan = new CountDownLatch(1);
        AtomicInteger monitorCalls = new AtomicInteger();
        runtime("drop-monitor", r -> {
            if (is(r, "Monitor")) {
                if (monitorCalls.getAndIncrement() == 0) {
                    return new Thread(() -> {
                        dropRunning.countDown();
                        LifecycleTest.await(release);
                    });
                }
                return new Thread(() -> {
                    monitorRan.countDown();
                    r.run();
                });
            }
            return new Thread(r);
        });
        AtomicReference<Throwable> aFail = new AtomicReference<>();
        Thread a = run("first-build", aFail, () -> rt.queueBuilder("qa").build());
        LifecycleTest.await(dropRunning);
        awaitParkedInStart(a);
        AtomicReference<Throwable> bFail = new AtomicReference<>();
        Thread b = run("second-build", bFail, () -> rt.queueBuilder("qb").build());
        awaitParkedInStart(b);
        release.countDown();
        LifecycleTest.join(a);
        LifecycleTest.join(b);
        assertThat(aFail.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/monitor");
        if (bFail.get() == null) {
            assertThat(monitorRan.await(10, TimeUnit.SECONDS)).as("queue qb built while no monitor ever ran").isTrue();
        } else {
            assertThat(bFail.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/monitor");
            assertThat(rt.queues()).as("refused builds register nothing").isEmpty();
        }
    }

    /**
     * Attack: an interrupt set before the first delayed item (whose call waits for the timer's
     * check-in) and one arriving during the wait are both kept, on success and on refusal.
     * Held (passed before).
     */
    @Test
    void anInterruptAroundTheCheckInWaitIsKept() throws Exception {
        CountDownLatch dropRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger timerCalls = new AtomicInteger();
        runtime("interrupt-checkin", r -> {
            if (is(r, "TimerQueue") && timerCalls.getAndIncrement() == 0) {
                return new Thread(() -> {
                    dropRunning.countDown();
                    LifecycleTest.await(release);
                });
            }
            return new Thread(r);
        });
        WorkQueue q = rt.queueBuilder("q").build();
        AtomicReference<Throwable> aFail = new AtomicReference<>();
        AtomicReference<Boolean> keptA = new AtomicReference<>();
        Thread a = run("interrupted-during", aFail, () -> {
            try {
                q.queueDelayed(new DelayedWork("a", () -> { }), Duration.ofHours(1));
            } finally {
                keptA.set(Thread.interrupted());
            }
        });
        LifecycleTest.await(dropRunning);
        awaitParkedInStart(a);
        a.interrupt();
        Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S)).until(() -> parkedInStart(a));
        release.countDown();
        LifecycleTest.join(a);
        assertThat(aFail.get()).isInstanceOf(IllegalStateException.class);
        assertThat(keptA.get()).as("interrupt during a refused check-in kept").isTrue();

        AtomicReference<Throwable> bFail = new AtomicReference<>();
        AtomicReference<Boolean> keptB = new AtomicReference<>();
        DelayedWork dw = new DelayedWork("b", () -> { });
        Thread b = run("interrupted-before", bFail, () -> {
            Thread.currentThread().interrupt();
            try {
                q.queueDelayed(dw, Duration.ofHours(1));
            } finally {
                keptB.set(Thread.interrupted());
            }
        });
        LifecycleTest.join(b);
        assertThat(bFail.get()).isNull();
        assertThat(keptB.get()).as("interrupt set before a successful check-in kept").isTrue();
        assertThat(dw.isPending()).isTrue();
        dw.cancel();
    }

    /**
     * Attack: close() while the first delayed item's call waits for a timer thread that runs its
     * Runnable only late (after close() stopped the runtime threads and joins them). The late
     * body checks in, sees the stop and ends; the waiting call is refused by the destroyed
     * queue; nothing is left armed or alive. Held (passed before).
     */
    @Test
    void closeDuringTheCheckInWaitOfALateTimer() throws Exception {
        CountDownLatch lateRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        runtime("late-timer", r -> {
            if (is(r, "TimerQueue")) {
                return new Thread(() -> {
                    lateRunning.countDown();
                    LifecycleTest.await(release);
                    r.run();
                });
            }
            return new Thread(r);
        });
        WorkQueue q = rt.queueBuilder("q").build();
        DelayedWork dw = new DelayedWork("late", () -> { });
        AtomicReference<Throwable> aFail = new AtomicReference<>();
        Thread a = run("arming", aFail, () -> q.queueDelayed(dw, Duration.ofHours(1)));
        LifecycleTest.await(lateRunning);
        awaitParkedInStart(a);
        Thread c = new Thread(rt::close, "closer");
        c.start();
        // close() reaches the join of the (still blocked) timer thread, or a arms first and close destroys q
        Awaitility.await().atMost(Duration.ofSeconds(LifecycleTest.BOUND_S))
                .until(() -> c.getState() == Thread.State.TIMED_WAITING || c.getState() == Thread.State.WAITING
                        || c.getState() == Thread.State.TERMINATED);
        release.countDown();
        LifecycleTest.join(c);
        LifecycleTest.join(a);
        assertThat(dw.isPending()).as("armed on a closed runtime").isFalse();
        assertThat(made).as("threads alive after close()").noneMatch(Thread::isAlive);
    }

    /**
     * Attack: a factory thread that hands the Runnable to another thread of its own and ends:
     * the body on the foreign thread returns at once (checkIn is false there), the starter is
     * refused, and the next need calls the factory again and works. Held (passed before).
     */
    @Test
    void aBodyRunOnAForeignThreadIsRefusedAndRetried() throws Exception {
        AtomicInteger monitorCalls = new AtomicInteger();
        List<Thread> foreign = new CopyOnWriteArrayList<>();
        runtime("foreign-monitor", r -> {
            if (is(r, "Monitor") && monitorCalls.getAndIncrement() == 0) {
                return new Thread(() -> {
                    Thread other = new Thread(r);
                    foreign.add(other);
                    other.start();
                    try {
                        other.join(); // the body must return at once there
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            return new Thread(r);
        });
        AtomicReference<Throwable> fail = new AtomicReference<>();
        Thread a = run("first-build", fail, () -> rt.queueBuilder("qa").build());
        LifecycleTest.join(a);
        assertThat(fail.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/monitor");
        assertThat(foreign).singleElement().satisfies(t -> assertThat(t.isAlive()).isFalse());
        WorkQueue q = rt.queueBuilder("qb").build();
        CountDownLatch ran = new CountDownLatch(1);
        q.queue(new Work("w", ran::countDown));
        LifecycleTest.await(ran);
        assertThat(monitorCalls.get()).isEqualTo(2);
    }

    /**
     * Attack: a factory's timer thread that outlives the check-in wait (alive, not running its
     * Runnable, so the first delayed item's call goes on after CHECK_IN_NANOS as for a slow
     * thread) and then ends without ever running it. The start had settled, so every later
     * delayed item was armed on that dead timer too: none ever fired, and nothing said so.
     * Failed before the fix ("items armed on a timer thread that ended unrun" after 10 s).
     */
    @Test
    void aTimerThreadThatEndsUnrunAfterTheCheckInWaitIsReplacedAtTheNextNeed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger timerCalls = new AtomicInteger();
        AtomicReference<Thread> dropped = new AtomicReference<>();
        runtime("drop-timer-late", r -> {
            if (is(r, "TimerQueue") && timerCalls.getAndIncrement() == 0) {
                Thread t = new Thread(() -> LifecycleTest.await(release)); // never runs r
                dropped.set(t);
                return t;
            }
            return new Thread(r);
        });
        WorkQueue q = rt.queueBuilder("q").build();
        CountDownLatch ran = new CountDownLatch(2);
        q.queueDelayed(new DelayedWork("a", ran::countDown), Duration.ofMillis(1)); // returns once the wait gives up
        assertThat(dropped.get().isAlive()).as("the dropping thread outlived the check-in wait").isTrue();
        release.countDown();
        LifecycleTest.join(dropped.get());
        q.queueDelayed(new DelayedWork("b", ran::countDown), Duration.ofMillis(1));
        assertThat(ran.await(10, TimeUnit.SECONDS)).as("items armed on a timer thread that ended unrun").isTrue();
        assertThat(timerCalls.get()).isEqualTo(2);
    }

    /**
     * Attack: the thread factory fails at the lazy timer's first start (the timer object is made
     * then, its thread is not): the delayed item is refused with the factory's exception and
     * left idle; the next delayed item calls the factory again, and both the retried item and a
     * third one fire. Then two threads race the first use of a system queue while the factory
     * fails the monitor once: exactly one is refused, all end with the one queue, and the
     * monitor is made by a second factory call. Held before, except when the second user came
     * during the first one's failing factory call: it went on without a monitor, which was
     * then never made (the same defect as the tests above).
     */
    @Test
    void factoryFailuresAtTheLazyTimerAndSystemQueuesAreRefusedAndRetried() throws Exception {
        AtomicInteger timerCalls = new AtomicInteger();
        AtomicInteger monitorCalls = new AtomicInteger();
        runtime("lazy-factory-fail", r -> {
            if (is(r, "TimerQueue") && timerCalls.getAndIncrement() == 0) {
                throw new IllegalStateException("timer factory down");
            }
            if (is(r, "Monitor") && monitorCalls.getAndIncrement() == 0) {
                throw new IllegalStateException("monitor factory down");
            }
            return new Thread(r);
        });
        AtomicReference<Throwable> f1 = new AtomicReference<>();
        AtomicReference<Throwable> f2 = new AtomicReference<>();
        AtomicReference<WorkQueue> s1 = new AtomicReference<>();
        AtomicReference<WorkQueue> s2 = new AtomicReference<>();
        Thread u1 = run("user-1", f1, () -> s1.set(rt.systemLong()));
        Thread u2 = run("user-2", f2, () -> s2.set(rt.systemLong()));
        LifecycleTest.join(u1);
        LifecycleTest.join(u2);
        assertThat(java.util.stream.Stream.of(f1.get(), f2.get()).filter(java.util.Objects::nonNull))
                .as("the one failing factory call refuses exactly one first user").singleElement()
                .satisfies(f -> assertThat(f).hasMessage("monitor factory down"));
        WorkQueue q = rt.systemLong(); // a refused first user retries here
        assertThat(List.of(s1, s2)).allSatisfy(ref -> {
            if (ref.get() != null) {
                assertThat(ref.get()).isSameAs(q);
            }
        });
        assertThat(rt.queues()).as("one events_long, nothing of a refused build").containsExactly(q);
        assertThat(monitorCalls.get()).as("the monitor asked of the factory again after its failure").isEqualTo(2);

        CountDownLatch ran = new CountDownLatch(2);
        DelayedWork first = new DelayedWork("first", ran::countDown);
        AtomicReference<Throwable> refused = new AtomicReference<>();
        Thread armer = run("armer", refused, () -> q.queueDelayed(first, Duration.ofMillis(1)));
        LifecycleTest.join(armer);
        assertThat(refused.get()).hasMessage("timer factory down");
        assertThat(first.isPending()).as("a refused arm leaves the item idle").isFalse();
        assertThat(q.queueDelayed(first, Duration.ofMillis(1))).isTrue();
        assertThat(q.queueDelayed(new DelayedWork("second", ran::countDown), Duration.ofMillis(1))).isTrue();
        LifecycleTest.await(ran);
        assertThat(timerCalls.get()).isEqualTo(2);
    }

    /**
     * Attack: the factory's monitor thread throws an Error before running its Runnable (the
     * build is refused naming the thread, nothing registered), then the retried factory call
     * returns a wrapper that runs the Runnable twice: the second run, after close() stopped the
     * monitor, returns at once, and close() ends every thread. Held (passed before).
     */
    @Test
    void anErrorBeforeTheCheckInRefusesAndABodyRunTwiceEndsAtClose() throws Exception {
        AtomicInteger monitorCalls = new AtomicInteger();
        AtomicInteger bodyRuns = new AtomicInteger();
        runtime("error-then-twice", r -> {
            if (is(r, "Monitor")) {
                if (monitorCalls.getAndIncrement() == 0) {
                    Thread t = new Thread(() -> {
                        throw new AssertionError("wrapper fails before the Runnable");
                    });
                    t.setUncaughtExceptionHandler((th, e) -> { }); // expected: keep the test log clean
                    return t;
                }
                return new Thread(() -> {
                    bodyRuns.incrementAndGet();
                    r.run();
                    bodyRuns.incrementAndGet();
                    r.run();
                });
            }
            return new Thread(r);
        });
        AtomicReference<Throwable> fail = new AtomicReference<>();
        Thread a = run("first-build", fail, () -> rt.queueBuilder("qa").build());
        LifecycleTest.join(a);
        assertThat(fail.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("kworker/monitor");
        assertThat(rt.queues()).isEmpty();
        WorkQueue q = rt.queueBuilder("qb").build();
        CountDownLatch ran = new CountDownLatch(1);
        q.queue(new Work("w", ran::countDown));
        LifecycleTest.await(ran);
        rt.close();
        assertThat(bodyRuns.get()).as("the second run happened, after the stop").isEqualTo(2);
        assertThat(made).as("threads alive after close()").noneMatch(Thread::isAlive);
    }
}
