package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * destroy() (and close()) returns only once the queue is destroyed, whichever thread calls it,
 * as issue 13 asks of the runtime's close() and as ExecutorService.close() does.
 */
class ConcurrentDestroyTest {
    private final TestRuntime t = new TestRuntime();

    @AfterEach
    void close() {
        t.close();
    }

    /*
     * A second destroy() of a queue whose first destroy() is still draining it returned at once
     * ("calling it again does nothing") with the queue's item still running and the queue not
     * destroyed: a caller that then freed what the items use raced them. Before the fix the
     * second caller saw isDestroyed() false and the item unfinished on its return.
     */
    @Test
    void aSecondConcurrentDestroyReturnsOnlyOnceTheQueueIsDestroyed() throws InterruptedException {
        WorkQueue q = t.queue("destroyed-twice").build();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        q.queue(new Work("held", () -> {
            running.countDown();
            WorkQueueCoreTest.await(release);
            finished.countDown();
        }));
        WorkQueueCoreTest.await(running);

        Thread first = new Thread(q::destroy, "first-destroyer");
        first.start();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> first.getState() == Thread.State.WAITING);

        AtomicReference<String> seenOnReturn = new AtomicReference<>();
        Thread second = new Thread(() -> {
            q.close();
            seenOnReturn.set("destroyed=" + q.isDestroyed() + " itemFinished=" + (finished.getCount() == 0));
        }, "second-destroyer");
        second.start();
        // The second caller either returned (the defect) or waits for the first: only then is the item let go.
        Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> second.getState() == Thread.State.WAITING || second.getState() == Thread.State.TERMINATED);
        release.countDown();
        first.join(TimeUnit.SECONDS.toMillis(20));
        second.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(first.isAlive()).isFalse();
        assertThat(second.isAlive()).isFalse();
        assertThat(seenOnReturn.get()).as("what the second destroyer saw when its close() returned")
                .isEqualTo("destroyed=true itemFinished=true");
    }

    /*
     * The uncaught-work handler told by destroy() of delayed work left armed runs on the
     * destroying thread; a destroy() of the same queue from it returns at once (it would wait for
     * the destroy that called it), as before the second destroy() began to wait.
     */
    @Test
    void aDestroyFromTheHandlerOfTheDestroyingThreadReturnsAtOnce() throws InterruptedException {
        List<String> handled = new CopyOnWriteArrayList<>();
        WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(2).uncaughtWorkHandler((q, w, e) -> {
            q.destroy(); // on the destroying thread, inside its destroy()
            handled.add(w.name() + " destroyed=" + q.isDestroyed());
        }).build());
        try {
            WorkQueue q = rt.queueBuilder("armed-at-destroy").build();
            DelayedWork d = new DelayedWork("armed", () -> { });
            assertThat(q.queueDelayed(d, Duration.ofHours(1))).isTrue();
            Thread destroyer = new Thread(q::destroy, "destroyer");
            destroyer.start();
            destroyer.join(TimeUnit.SECONDS.toMillis(20));
            assertThat(destroyer.isAlive()).as("destroy() returned").isFalse();
            assertThat(q.isDestroyed()).isTrue();
            assertThat(handled).containsExactly("armed destroyed=false");
        } finally {
            rt.close();
        }
    }
}
