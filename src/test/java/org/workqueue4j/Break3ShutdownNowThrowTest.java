package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.InjectedThrows.Injected;
import org.workqueue4j.internal.TestHooks;

/** shutdownNow() whose cancel of one taken task throws (test point cancel.grabbed), with other tasks taken too. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Break3ShutdownNowThrowTest {
    private final TestRuntime t = new TestRuntime(2);

    @AfterEach
    void close() {
        TestHooks.install(null);
        t.close();
    }

    /**
     * Two scheduled tasks; shutdownNow takes both and the first cancel throws: the call throws,
     * so the caller gets no list. README: "shutdownNow() returns exactly the tasks that never
     * started ... none of them starts afterwards"; faults table: a taken instance whose cancel
     * throws "is reported to the uncaught-work handler with what was thrown (an executor task's
     * future fails)". The other task was taken back too and is neither returned (the call threw)
     * nor run nor failed: nobody can ever complete its future, and a get() on it waits for good.
     *
     * <p>Fails: one of the two futures is never done (finishTaken fails only the task whose
     * cancel threw, and the list of the others is lost with the throw).
     */
    @Test
    void everyTaskTakenByAThrowingShutdownNowHasADoneFuture() throws Exception {
        WorkQueue q = t.queue("ses").build();
        ScheduledExecutorService ses = q.asScheduledExecutorService();
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> f1 = ses.schedule(runs::incrementAndGet, 1, TimeUnit.HOURS);
        ScheduledFuture<?> f2 = ses.schedule(runs::incrementAndGet, 1, TimeUnit.HOURS);
        AtomicBoolean armed = InjectedThrows.throwOnceAt("cancel.grabbed");
        Throwable thrown = null;
        List<Runnable> list = null;
        try {
            list = ses.shutdownNow();
        } catch (Injected e) {
            thrown = e;
        }
        TestHooks.install(null);
        assertThat(armed).as("the point was reached").isFalse();
        assertThat(thrown).as("the Error reached the caller").isNotNull();
        assertThat(list).isNull();
        assertThat(ses.awaitTermination(20, TimeUnit.SECONDS)).as("view terminates").isTrue();
        assertThat(runs.get()).isZero();
        assertThat(f1.isDone() && f2.isDone())
                .as("both taken tasks' futures are done (f1 %s, f2 %s; reported %s)", f1.isDone(), f2.isDone(), t.errorWork)
                .isTrue();
    }

    /**
     * The same with submitted tasks waiting behind a running one on an ordered queue's view
     * (ExecutorService): a Future of a task the throwing shutdownNow took, but whose own cancel did
     * not throw, must not be left for ever incomplete.
     *
     * <p>Fails: one of the two waiting tasks' futures is never done.
     */
    @Test
    void everySubmittedTaskTakenByAThrowingShutdownNowHasADoneFuture() throws Exception {
        WorkQueue q = t.queue("es").ordered().build();
        java.util.concurrent.ExecutorService es = q.asExecutorService();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.Future<?> running = es.submit(() -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
        AtomicInteger runs = new AtomicInteger();
        java.util.concurrent.Future<?> f1 = es.submit(runs::incrementAndGet);
        java.util.concurrent.Future<?> f2 = es.submit(runs::incrementAndGet);
        AtomicBoolean armed = InjectedThrows.throwOnceAt("cancel.grabbed");
        Throwable thrown = null;
        try {
            es.shutdownNow();
        } catch (Injected e) {
            thrown = e;
        }
        TestHooks.install(null);
        release.countDown();
        // a task's item still in its pool's inbox is cancelled without passing the test point
        org.junit.jupiter.api.Assumptions.assumeFalse(armed.get(), "the point was reached");
        assertThat(thrown).as("the Error reached the caller").isNotNull();
        assertThat(es.awaitTermination(20, TimeUnit.SECONDS)).as("view terminates").isTrue();
        assertThat(running.isDone()).isTrue();
        assertThat(runs.get()).isZero();
        assertThat(f1.isDone() && f2.isDone())
                .as("both taken tasks' futures are done (f1 %s, f2 %s; reported %s)", f1.isDone(), f2.isDone(), t.errorWork)
                .isTrue();
    }
}
