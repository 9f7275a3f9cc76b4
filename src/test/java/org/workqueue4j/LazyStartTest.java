package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workqueue4j.internal.TestHooks;

/**
 * Issue 13, cold start: {@code WorkQueues.create()} starts no thread; the manager, the monitor,
 * the timer and the system queues start when first needed, and a {@code close()} that races
 * such a start either joins the started thread or keeps it from ever starting. The races are
 * replayed deterministically: the starting thread is held in the thread factory (after the
 * start was claimed, before the thread exists) until close() has stopped the runtime's threads.
 */
class LazyStartTest {
    private final List<Thread> made = new CopyOnWriteArrayList<>();
    /** The factory holds the call whose Runnable is of this engine class until {@link #stopped} opens. */
    private volatile String holdFor;
    private final CountDownLatch inFactory = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private WorkQueues rt;

    @AfterEach
    void tearDown() {
        TestHooks.install(null);
        if (rt != null) {
            rt.close();
        }
    }

    private WorkQueues runtime(String name) {
        rt = WorkQueues.create(WorkQueuesConfig.builder().name(name).cpus(2).closeTimeout(Duration.ofSeconds(20))
                .threadFactory(r -> {
                    if (r.getClass().getName().equals(holdFor)) {
                        holdFor = null;
                        inFactory.countDown();
                        LifecycleTest.await(stopped);
                    }
                    Thread t = Executors.defaultThreadFactory().newThread(r);
                    made.add(t);
                    return t;
                }).build());
        return rt;
    }

    private List<String> madeNames() {
        return made.stream().map(Thread::getName).toList();
    }

    private void assertNothingAlive() {
        assertThat(made).as("threads of the runtime alive after close()").noneMatch(Thread::isAlive);
    }

    @Test
    void createStartsNoThreadAndEachRuntimeThreadStartsWhenFirstNeeded() throws Exception {
        runtime("lazy-each");
        assertThat(made).as("threads made by create()").isEmpty();
        assertThat(rt.queues()).as("system queues made by create()").isEmpty();

        WorkQueue q = rt.system();
        // A queue needs workers (the manager makes them) and is something to watch (the monitor).
        assertThat(madeNames()).containsExactly("wq-lazy-each/kworker/manager", "wq-lazy-each/kworker/monitor");
        assertThat(rt.queues()).containsExactly(q);

        CountDownLatch ran = new CountDownLatch(1);
        q.queue(new Work("first", ran::countDown));
        q.flush();
        assertThat(ran.getCount()).isZero();
        assertThat(madeNames()).as("no timer before a delayed item").noneMatch(n -> n.endsWith("kworker/timer"));

        DelayedWork later = new DelayedWork("later", () -> { });
        q.queueDelayed(later, Duration.ofHours(1));
        assertThat(madeNames()).contains("wq-lazy-each/kworker/timer");
        later.cancel();
        rt.close();
        assertNothingAlive();
    }

    @Test
    void aFactoryFailureAtTheFirstQueueLeavesNothingAndIsRetried() {
        AtomicReference<RuntimeException> fail = new AtomicReference<>(new IllegalStateException("factory down"));
        rt = WorkQueues.create(WorkQueuesConfig.builder().name("lazy-fail").cpus(2).threadFactory(r -> {
            RuntimeException e = fail.get();
            if (e != null) {
                throw e;
            }
            Thread t = new Thread(r);
            made.add(t);
            return t;
        }).build());
        assertThatThrownBy(() -> rt.queueBuilder("q").build()).hasMessage("factory down");
        assertThat(rt.queues()).as("a refused queue is not registered").isEmpty();
        assertThat(made).isEmpty();
        fail.set(null);
        WorkQueue q = rt.queueBuilder("q").build(); // the manager's start is tried again
        CountDownLatch ran = new CountDownLatch(1);
        q.queue(new Work("w", ran::countDown));
        LifecycleTest.await(ran);
        rt.close();
        assertNothingAlive();
    }

    /**
     * Holds the thread that starts the runtime thread whose body is {@code bodyClass} (an engine
     * class) in the thread factory, until a close() on another thread has stopped the runtime's
     * threads; returns the closer.
     */
    private Thread closeWhileStarting(String bodyClass, Runnable trigger) throws Exception {
        holdFor = "org.workqueue4j.internal." + bodyClass;
        TestHooks.install((point, subject) -> {
            if (point.equals("close.stopped") && subject == rt.engine()) {
                stopped.countDown();
            }
        });
        trigger.run();
        LifecycleTest.await(inFactory);
        Thread closer = new Thread(rt::close, "closer");
        closer.start();
        return closer;
    }

    private void assertNeverStarted(String which) {
        Thread t = made.stream().filter(th -> th.getName().endsWith(which)).findFirst().orElseThrow();
        assertThat(t.getState()).as("%s started after close() stopped the runtime's threads", which)
                .isEqualTo(Thread.State.NEW);
    }

    @Test
    void closeRacingTheManagerStartLeavesNoThreadAndRefusesTheQueue() throws Exception {
        runtime("lazy-manager");
        AtomicReference<Throwable> built = new AtomicReference<>();
        Thread builder = new Thread(() -> {
            try {
                rt.queueBuilder("q").build();
            } catch (Throwable e) {
                built.set(e);
            }
        }, "builder");
        Thread closer = closeWhileStarting("Manager", builder::start);
        LifecycleTest.join(closer);
        LifecycleTest.join(builder);
        assertThat(built.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertNeverStarted("kworker/manager");
        assertNothingAlive();
    }

    @Test
    void closeRacingTheMonitorStartJoinsTheManagerAndStartsNoMonitor() throws Exception {
        runtime("lazy-monitor");
        AtomicReference<Throwable> built = new AtomicReference<>();
        Thread builder = new Thread(() -> {
            try {
                rt.queueBuilder("q").build(); // starts the manager, then the monitor: held there
            } catch (Throwable e) {
                built.set(e);
            }
        }, "builder");
        Thread closer = closeWhileStarting("Monitor", builder::start);
        LifecycleTest.join(closer);
        LifecycleTest.join(builder);
        assertThat(built.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThat(madeNames()).contains("wq-lazy-monitor/kworker/manager"); // started, and joined by close()
        assertNeverStarted("kworker/monitor");
        assertNothingAlive();
    }

    @Test
    void closeRacingTheTimerStartLeavesNoThreadAndNothingArmed() throws Exception {
        runtime("lazy-timer");
        WorkQueue q = rt.queueBuilder("q").build();
        DelayedWork dw = new DelayedWork("dw", () -> { });
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread armer = new Thread(() -> {
            try {
                outcome.set(q.queueDelayed(dw, Duration.ofHours(1)));
            } catch (Throwable e) {
                outcome.set(e);
            }
        }, "armer");
        Thread closer = closeWhileStarting("TimerQueue", armer::start);
        LifecycleTest.join(closer);
        LifecycleTest.join(armer);
        assertThat(outcome.get()).as("queueDelayed on a queue destroyed meanwhile")
                .isInstanceOf(IllegalStateException.class);
        assertThat(dw.isPending()).as("armed on a closed runtime").isFalse();
        assertNeverStarted("kworker/timer");
        assertNothingAlive();
    }

    @Test
    void aTimerFirstNeededAfterCloseIsNeverStarted() {
        runtime("lazy-timer-late");
        WorkQueue q = rt.queueBuilder("q").build();
        rt.close(); // no delayed item yet: the runtime has made no timer
        DelayedWork dw = new DelayedWork("dw", () -> { });
        assertThatThrownBy(() -> q.queueDelayed(dw, Duration.ofHours(1))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("destroyed");
        assertThat(dw.isPending()).as("armed on a closed runtime").isFalse();
        assertThat(madeNames()).as("a timer thread made after close()").noneMatch(n -> n.endsWith("kworker/timer"));
        assertNothingAlive();
    }

    @Test
    void systemQueuesAreMadeOnFirstUseOnceAndRefusedAfterClose() {
        runtime("lazy-system");
        assertThat(rt.systemLong()).isSameAs(rt.systemLong());
        assertThat(rt.queues()).extracting(WorkQueue::name).containsExactly("events_long");
        rt.close();
        assertThatThrownBy(rt::systemUnbound).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("events_unbound").hasMessageContaining("closed");
        assertThatThrownBy(() -> rt.systemLong().queue(new Work("late", () -> { })))
                .isInstanceOf(IllegalStateException.class);
        assertNothingAlive();
    }
}
