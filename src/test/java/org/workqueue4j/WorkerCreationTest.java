package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.workqueue4j.LifecycleTest.await;
import static org.workqueue4j.LifecycleTest.join;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.workqueue4j.internal.TestHooks;
import org.junit.jupiter.api.Test;

/**
 * Worker creation: the thread factory outside the pool lock (issue 12 defect 10), the worker cap
 * (issue 13 defect 9), the mayday timer (issue 13 defect 10), thread names and priorities
 * (issue 16, operations).
 */
class WorkerCreationTest {
    private static final long BOUND_S = LifecycleTest.BOUND_S;

    /** A factory that blocks its first call after {@link #arm()} until {@link #release}. */
    static final class GatedFactory implements ThreadFactory {
        final AtomicBoolean armed = new AtomicBoolean();
        final CountDownLatch inFactory = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        void arm() {
            armed.set(true);
        }

        @Override
        public Thread newThread(Runnable r) {
            if (armed.compareAndSet(true, false)) {
                inFactory.countDown();
                await(release);
            }
            return new Thread(r);
        }
    }

    private static long poolWorkersAlive(TestRuntime t) {
        return t.threads.stream().filter(Thread::isAlive)
                .filter(th -> th.getName().matches(".*/kworker/(u?\\d+:\\d+H?)")).count();
    }

    private static String threadDump() {
        StringBuilder sb = new StringBuilder();
        Thread.getAllStackTraces().forEach((th, st) -> {
            if (th.getName().startsWith("wq-") || th.getName().equals("producer")) {
                sb.append('\n').append(th.getName()).append(' ').append(th.getState());
                for (StackTraceElement e : st) {
                    sb.append("\n    at ").append(e);
                }
            }
        });
        return sb.toString();
    }

    // ------------------------------------------------------------------ issue 12 defect 10

    /**
     * The first item of an idle pool does not wait for the pool's spare worker: the worker that
     * takes it asks the manager thread for the spare (kernel manage_workers, asynchronous here).
     * The item waits until the spare's creation has begun, and the factory holds that creation
     * until the item has run. When the worker made the spare itself before working, the item
     * could not start before the factory returned: it did not run within 20 s.
     */
    @Test
    void theFirstItemDoesNotWaitForItsWorkersSpare() throws Exception {
        CountDownLatch spareBegun = new CountDownLatch(1);
        CountDownLatch itemRan = new CountDownLatch(1);
        AtomicInteger poolWorkers = new AtomicInteger();
        AtomicReference<String> spareMadeOn = new AtomicReference<>();
        ThreadFactory f = r -> {
            // A pool worker's Runnable is its worker, named like its thread (kworker/0:0).
            if (r.toString().startsWith("kworker/0:") && poolWorkers.incrementAndGet() == 2) { // the spare
                spareMadeOn.set(Thread.currentThread().getName());
                spareBegun.countDown();
                try {
                    itemRan.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new Thread(r);
        };
        try (TestRuntime t = new TestRuntime(2, b -> { }, f)) {
            WorkQueue q = t.queue("first").build();
            q.queueOn(0, new Work("first", () -> {
                try {
                    spareBegun.await(20, TimeUnit.SECONDS); // the worker is busy: the manager makes the spare
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                itemRan.countDown();
            }));
            assertThat(itemRan.await(20, TimeUnit.SECONDS)).as("the first item ran while its spare was being made").isTrue();
            assertThat(spareBegun.getCount()).as("the spare's creation had begun").isZero();
            assertThat(spareMadeOn.get()).as("the spare is made by the manager thread").endsWith("kworker/manager");
            q.flush();
        }
    }

    @Test
    void aSlowThreadFactoryBlocksNoProducer() throws Exception {
        GatedFactory f = new GatedFactory();
        try (TestRuntime t = new TestRuntime(2, b -> { }, f)) {
            t.rt.system(); // made on first use, starting the manager and monitor: before the gate
            f.arm();
            CountDownLatch ran = new CountDownLatch(2);
            Thread p1 = new Thread(() -> t.rt.system().queueOn(0, new Work("w1", ran::countDown)), "p1");
            p1.start();
            await(f.inFactory); // the pool's first worker is being made
            Thread p2 = new Thread(() -> t.rt.system().queueOn(0, new Work("w2", ran::countDown)), "p2");
            p2.start();
            try {
                join(p2); // used to wait for the pool lock the factory's caller held
                join(p1);
            } finally {
                f.release.countDown();
            }
            await(ran);
        }
    }

    @Test
    void aFactoryThatQueuesWorkMakesNoTwoWorkersWithOneId() throws Exception {
        AtomicReference<WorkQueues> rt = new AtomicReference<>();
        AtomicBoolean armed = new AtomicBoolean();
        CountDownLatch ran = new CountDownLatch(2);
        ThreadFactory f = r -> {
            if (armed.compareAndSet(true, false)) {
                rt.get().system().queueOn(0, new Work("from-factory", ran::countDown));
            }
            return new Thread(r);
        };
        try (TestRuntime t = new TestRuntime(2, b -> { }, f)) {
            rt.set(t.rt);
            armed.set(true);
            t.rt.system().queueOn(0, new Work("first", ran::countDown));
            await(ran);
            List<String> names = t.threads.stream().map(Thread::getName).toList();
            assertThat(names).doesNotHaveDuplicates();
        }
    }

    // ------------------------------------------------------------------ issue 16: names, priority

    @Test
    void threadNamesCarryTheRuntimeAndHighPriorityIsReal() throws Exception {
        try (TestRuntime a = new TestRuntime(2, b -> b.name("alpha")); TestRuntime other = new TestRuntime()) {
            AtomicReference<String> name = new AtomicReference<>();
            AtomicInteger prio = new AtomicInteger();
            CountDownLatch ran = new CountDownLatch(1);
            a.rt.systemHighPri().queueOn(1, new Work("hi", () -> {
                name.set(Thread.currentThread().getName());
                prio.set(Thread.currentThread().getPriority());
                ran.countDown();
            }));
            await(ran);
            assertThat(name.get()).matches("wq-alpha/kworker/1:\\d+H");
            assertThat(prio.get()).isEqualTo(Thread.MAX_PRIORITY);
            assertThat(a.threads).allMatch(th -> th.getName().startsWith("wq-alpha/") && th.isDaemon());
            assertThat(other.threads).noneMatch(th -> th.getName().startsWith("wq-alpha/"))
                    .allMatch(th -> th.getName().matches("wq-\\d+/kworker/.*"));
            CountDownLatch block = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            a.rt.systemHighPri().queueOn(0, LifecycleTest.blocking("dumped", started, block, new AtomicBoolean()));
            await(started);
            String dump = a.rt.dump();
            block.countDown();
            assertThat(dump).doesNotContain("nice=-20").contains("prio=10");
        }
    }

    // ------------------------------------------------------------------ issue 13 defect 9

    @Test
    void theWorkerCapHoldsAndIsReportedOncePerEpisode() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(4))) {
            WorkQueue q = t.queue("blockers").unbound().build();
            AtomicInteger started = new AtomicInteger();
            AtomicInteger maxRunning = new AtomicInteger();
            AtomicInteger running = new AtomicInteger();
            CountDownLatch release = new CountDownLatch(1);
            int n = 12;
            for (int i = 0; i < n; i++) {
                q.queue(new Work("b" + i, () -> {
                    started.incrementAndGet();
                    maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                    await(release);
                    running.decrementAndGet();
                }));
            }
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S)).until(() -> started.get() == 4);
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                    .until(() -> t.reports.stream().anyMatch(r -> r.contains("worker cap reached")));
            assertThat(poolWorkersAlive(t)).isLessThanOrEqualTo(4);
            assertThat(started.get()).isEqualTo(4);
            // One report for the episode: it cannot end while items wait and no worker is free.
            assertThat(t.reports.stream().filter(r -> r.contains("worker cap reached"))).hasSize(1)
                    .allSatisfy(r -> assertThat(r).contains("4 workers").contains("maxWorkers"));
            release.countDown();
            q.flush();
            assertThat(started.get()).isEqualTo(n);
            assertThat(maxRunning.get()).isEqualTo(4);
        }
    }

    @Test
    void memReclaimQueuesKeepGoingAtTheCap() throws Exception {
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2))) {
            WorkQueue blockers = t.queue("blockers").unbound().build();
            WorkQueue reclaim = t.queue("reclaim").unbound().memReclaim().build();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(2);
            for (int i = 0; i < 2; i++) {
                blockers.queue(LifecycleTest.blocking("b" + i, started, release, new AtomicBoolean()));
            }
            await(started); // both slots taken by items blocked outside the library
            AtomicReference<String> by = new AtomicReference<>();
            CountDownLatch ran = new CountDownLatch(1);
            reclaim.queue(new Work("reclaim-item", () -> {
                by.set(Thread.currentThread().getName());
                ran.countDown();
            }));
            try {
                await(ran);
            } finally {
                release.countDown();
            }
            assertThat(by.get()).endsWith("/kworker/R-reclaim");
        }
    }

    /**
     * A worker retired to make room under the cap keeps its slot until its thread has ended: a
     * factory whose threads run code after the worker's loop (cleanup, a pool of its own) must not
     * see more live threads than the cap. Three pools want workers under a cap of 2; every thread
     * lingers after the library's loop until released; meanwhile a starved pool is refused, and no
     * third thread is made.
     */
    @Test
    void aRetiredWorkerHoldsItsSlotUntilItsThreadEnds() throws Exception {
        CountDownLatch leftLoop = new CountDownLatch(1);
        CountDownLatch mayEnd = new CountDownLatch(1);
        AtomicInteger alive = new AtomicInteger();
        AtomicInteger maxAlive = new AtomicInteger();
        ThreadFactory lingering = r -> new Thread(() -> {
            if (!Thread.currentThread().getName().matches(".*/kworker/(u?\\d+:\\d+H?)")) {
                r.run(); // timer, monitor, manager: not under the cap
                return;
            }
            maxAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
            try {
                r.run();
                leftLoop.countDown();
                await(mayEnd); // the factory's own code after the worker's loop
            } finally {
                alive.decrementAndGet();
            }
        });
        CountDownLatch refusedAfterExit = new CountDownLatch(1);
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.capRefused") && leftLoop.getCount() == 0) {
                refusedAfterExit.countDown();
            }
        });
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(2), lingering)) {
            CountDownLatch ran = new CountDownLatch(3);
            try {
                WorkQueue perCpu = t.queue("p").build();
                t.queue("u").unbound().build().queue(new Work("u", ran::countDown));
                perCpu.queueOn(0, new Work("p0", ran::countDown));
                perCpu.queueOn(1, new Work("p1", ran::countDown));
                await(leftLoop); // a worker retired for a starved pool; its thread still alive
                Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                        .until(() -> refusedAfterExit.getCount() == 0 || maxAlive.get() > 2);
                assertThat(maxAlive.get()).as("live worker threads at once, cap 2").isLessThanOrEqualTo(2);
            } finally {
                mayEnd.countDown();
            }
            await(ran);
            assertThat(maxAlive.get()).as("live worker threads at once, cap 2").isLessThanOrEqualTo(2);
        } finally {
            TestHooks.install(null);
        }
    }

    /**
     * A ThreadFactory whose thread ends without running the Runnable it was given (a common
     * factory bug) leaves a worker that never runs: the pool believed it idle, so the item
     * queued to it waited forever with no report. The monitor now finds the dead thread,
     * reports it, frees its slot, and the pool gets a new worker.
     */
    @Test
    void aWorkerThreadThatNeverRanTheLoopIsReportedAndReplaced() throws Exception {
        AtomicBoolean broken = new AtomicBoolean(true);
        ThreadFactory dropsFirstWorker = r -> new Thread(() -> {
            if (Thread.currentThread().getName().contains("/kworker/0:") && broken.compareAndSet(true, false)) {
                return; // the factory's bug: the worker's Runnable is never run
            }
            r.run();
        });
        try (TestRuntime t = new TestRuntime(2, b -> { }, dropsFirstWorker)) {
            CountDownLatch ran = new CountDownLatch(1);
            t.queue("dropped").build().queueOn(0, new Work("after-dropped-worker", ran::countDown));
            await(ran);
            assertThat(broken).as("the first cpu-0 worker's thread dropped its Runnable").isFalse();
            Awaitility.await().atMost(Duration.ofSeconds(BOUND_S))
                    .until(() -> t.reports.stream().anyMatch(r -> r.contains("ended without running")));
            assertThat(t.reports.stream().filter(r -> r.contains("ended without running")).findFirst().orElseThrow())
                    .contains("kworker/0:").contains("ThreadFactory");
        }
    }

    /** The stress suite's thread-count sampling, as its own test: random load against a small cap. */
    @Test
    void theWorkerCapHoldsUnderRandomLoad() throws Exception {
        int cap = 6;
        try (TestRuntime t = new TestRuntime(2, b -> b.maxWorkers(cap))) {
            List<WorkQueue> queues = List.of(t.queue("u").unbound().build(), t.queue("p").build(),
                    t.queue("h").highPriority().build(), t.queue("r").unbound().memReclaim().build(),
                    t.rt.systemLong());
            int rescuers = 1;
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger maxSeen = new AtomicInteger();
            Thread sampler = new Thread(() -> {
                while (!done.get()) {
                    maxSeen.accumulateAndGet((int) poolWorkersAlive(t), Math::max);
                    Thread.yield();
                }
            }, "sampler");
            sampler.start();
            AtomicInteger ranCount = new AtomicInteger();
            int producers = 3;
            int perProducer = 400;
            List<Thread> ps = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                Thread th = new Thread(() -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < perProducer; i++) {
                        WorkQueue q = queues.get(rnd.nextInt(queues.size()));
                        boolean blocks = rnd.nextInt(8) == 0;
                        q.queue(new Work("s" + i, () -> {
                            if (blocks) { // blocks outside the library: new workers are wanted
                                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                            }
                            ranCount.incrementAndGet();
                        }));
                    }
                }, "producer-" + p);
                th.start();
                ps.add(th);
            }
            for (Thread th : ps) {
                join(th);
            }
            for (WorkQueue q : queues) {
                q.flush();
            }
            done.set(true);
            join(sampler);
            assertThat(ranCount.get()).isEqualTo(producers * perProducer);
            assertThat(maxSeen.get()).isLessThanOrEqualTo(cap);
            assertThat(t.threads.stream().filter(Thread::isAlive).count())
                    .as("pool workers + rescuers + timer, monitor, manager")
                    .isLessThanOrEqualTo(cap + rescuers + 3);
        }
    }

    // ------------------------------------------------------------------ issue 13 defect 10

    @Test
    void rescuerIsCalledWhenAPoolCannotGetAWorkerIn10Ms() throws Exception {
        GatedFactory f = new GatedFactory();
        try (TestRuntime t = new TestRuntime(2, b -> { }, f)) {
            WorkQueue reclaim = t.queue("reclaim").unbound().memReclaim().build(); // rescuer made before arming
            f.arm();
            AtomicReference<String> by = new AtomicReference<>();
            CountDownLatch ran = new CountDownLatch(1);
            Thread producer = new Thread(() -> reclaim.queue(new Work("x", () -> {
                by.set(Thread.currentThread().getName());
                ran.countDown();
            })), "producer");
            producer.start();
            try {
                // The factory stays stuck (or, on a loaded machine, the manager has not even called
                // it yet): either way the pool has no worker after 10 ms, and the rescuer runs it.
                assertThat(ran.await(BOUND_S, TimeUnit.SECONDS)).as("ran by the rescuer; %s%s", t.rt.dump(),
                        threadDump()).isTrue();
                assertThat(by.get()).endsWith("/kworker/R-reclaim");
            } finally {
                f.release.countDown();
            }
            join(producer);
        }
    }

    /**
     * The default thread factory makes threads as Executors.defaultThreadFactory() does: in the
     * thread group of the thread that made the config's builder, at normal priority whatever
     * the creating thread's; the runtime then names them and makes them daemons.
     */
    @Test
    void defaultFactoryThreadsAreInTheBuildersGroupAtNormalPriority() throws Exception {
        ThreadGroup group = new ThreadGroup("config-maker");
        AtomicReference<WorkQueuesConfig> config = new AtomicReference<>();
        Thread maker = new Thread(group, () -> config.set(WorkQueuesConfig.builder().name("dflt").cpus(1).build()),
                "maker");
        maker.start();
        join(maker);
        Thread.currentThread().setPriority(Thread.MAX_PRIORITY - 1); // what a thread made here would inherit
        try (WorkQueues rt = WorkQueues.create(config.get())) {
            WorkQueue q = rt.queueBuilder("q").build();
            AtomicReference<Thread> ran = new AtomicReference<>();
            q.queue(new Work("where", () -> ran.set(Thread.currentThread())));
            q.flush();
            Thread t = ran.get();
            assertThat(t.getThreadGroup()).isSameAs(group);
            assertThat(t.getPriority()).isEqualTo(Thread.NORM_PRIORITY);
            assertThat(t.isDaemon()).isTrue();
            assertThat(t.getName()).startsWith("wq-dflt/kworker/0:");
        } finally {
            Thread.currentThread().setPriority(Thread.NORM_PRIORITY);
        }
    }

    /*
     * An Error (an allocation failure) making the Worker object, after the creation was claimed
     * (nrCreating counted, a worker id and a cap slot reserved) and before the factory call: it
     * was thrown outside the try that gives the claim back, so the pool counted a creation in
     * flight for ever, neither the manager nor the monitor ever made it a worker again, and the
     * manager thread died of it. Fails on that code: the item never runs.
     */
    @Test
    void anErrorMakingTheWorkerObjectGivesTheCreationBack() throws Exception {
        List<String> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Throwable> escaped = new java.util.concurrent.CopyOnWriteArrayList<>();
        ThreadFactory recording = r -> {
            Thread th = new Thread(r);
            th.setDaemon(true);
            th.setUncaughtExceptionHandler((x, e) -> escaped.add(e));
            return th;
        };
        AtomicInteger struck = new AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.newWorker") && struck.getAndIncrement() == 0) {
                throw new OutOfMemoryError("simulated: making a Worker");
            }
        });
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).threadFactory(recording)
                .reportListener(reports::add).build())) {
            WorkQueue q = rt.queueBuilder("q").build();
            CountDownLatch ran = new CountDownLatch(1);
            assertThat(q.queue(new Work("needs a worker", ran::countDown))).isTrue();
            assertThat(ran.await(BOUND_S, TimeUnit.SECONDS)).as("the item ran (a later creation made its worker)").isTrue();
            assertThat(struck.get()).as("the first creation was struck").isPositive();
            assertThat(reports).as("the failed creation was reported")
                    .anyMatch(r -> r.contains("failed to create a worker") && r.contains("simulated: making a Worker"));
            assertThat(escaped).as("nothing escaped a runtime thread").isEmpty();
        } finally {
            TestHooks.install(null);
        }
    }
    /*
     * An Error taking a worker id (the pool's id bitmap grows past 64 workers: an allocation)
     * came after the creation had taken its slot under the worker cap, outside the undo: each
     * such failure kept a slot for ever. With the cap at its smallest (2), two failures left no
     * slot, and no worker was ever made again (test point pool.workerId, struck five times).
     * Fails on that code: the items never run.
     */
    @Test
    void anErrorTakingAWorkerIdGivesTheCapSlotBack() throws Exception {
        AtomicInteger struck = new AtomicInteger();
        TestHooks.install((point, subject) -> {
            if (point.equals("pool.workerId") && struck.getAndIncrement() < 5) {
                throw new OutOfMemoryError("simulated: growing the worker ids");
            }
        });
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).maxWorkers(2).build())) {
            WorkQueue bound = rt.queueBuilder("bound").build();
            WorkQueue unbound = rt.queueBuilder("unbound").unbound().build();
            CountDownLatch ran = new CountDownLatch(2);
            assertThat(bound.queue(new Work("bound-item", ran::countDown))).isTrue();
            assertThat(unbound.queue(new Work("unbound-item", ran::countDown))).isTrue();
            assertThat(ran.await(BOUND_S, TimeUnit.SECONDS)).as("both items ran once creation worked again").isTrue();
            assertThat(struck.get()).as("creations were struck").isGreaterThanOrEqualTo(5);
            assertThat(rt.engine().workerCount()).as("the cap counts live workers only").isLessThanOrEqualTo(2);
        } finally {
            TestHooks.install(null);
        }
    }
}
