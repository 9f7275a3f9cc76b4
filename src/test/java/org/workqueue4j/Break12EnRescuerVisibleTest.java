package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An item running on a {@code memReclaim()} queue's rescuer (the thread factory fails, so no
 * worker can be made) is shown where a worker's item is: the dump's in-flight list (the
 * kernel's {@code show_pwq}, whose busy hash holds the rescuer while {@code process_one_work}
 * runs on it), a hung-waiter report of a flush waiting for it ("the items it waits for and
 * their workers' stacks"), and a lockup report's busy workers. Before (README faults table):
 * absent from all three (the dump's pwq row said active=1 and listed nothing; "waits for 0
 * running item(s)"; an empty "Showing backtraces of busy workers:"), while {@code stats()} said
 * running=1: they walked the pool's workers only.
 */
@Timeout(90)
class Break12EnRescuerVisibleTest {
    private final AtomicBoolean failFactory = new AtomicBoolean();
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private TestRuntime t;
    private WorkQueue q;

    @BeforeEach
    void itemOnTheRescuer() throws Exception {
        ThreadFactory base = r -> {
            if (failFactory.get()) {
                throw new OutOfMemoryError("unable to create native thread (test)");
            }
            return new Thread(r);
        };
        t = new TestRuntime(1, b -> b.watchdogThreshold(Duration.ofSeconds(1)).closeTimeout(Duration.ofSeconds(5)), base);
        q = t.rt.queueBuilder("mr").memReclaim().build();
        failFactory.set(true); // from now on no worker can be made: the rescuer runs the item
        q.queue(new Work("rescued-item", () -> {
            started.countDown();
            WorkQueueCoreTest.await(release);
        }));
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
    }

    @AfterEach
    void end() {
        failFactory.set(false);
        release.countDown();
        t.close();
    }

    /** The first report the runtime makes that matches, waited for (hang guard). */
    private String report(Predicate<String> which) {
        return Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> t.reports.stream().filter(which).findFirst().orElse(null), Objects::nonNull);
    }

    @Test
    void theDumpListsTheRescuersItemInFlight() {
        WorkQueueStats s = q.stats();
        WorkQueuesDump d = t.rt.dumpData();
        List<String> inFlight = d.queues().stream().filter(x -> x.name().equals("mr"))
                .flatMap(x -> x.pwqs().stream()).flatMap(x -> x.inFlight().stream()).toList();
        assertThat(s.running()).isEqualTo(1);
        assertThat(inFlight).singleElement().asString().contains("R-mr").endsWith(":rescued-item");
        assertThat(t.rt.dump()).contains("R-mr:rescued-item");
    }

    @Test
    void aHungFlushReportNamesTheItemRunningOnTheRescuer() throws Exception {
        Thread flusher = new Thread(q::flush, "the-flusher");
        flusher.start();
        String report = report(r -> r.contains("the-flusher") && r.contains("blocked for more than"));
        release.countDown();
        flusher.join();
        assertThat(report).contains("waits for 1 running item(s)").contains("'rescued-item' of queue 'mr' on ")
                .contains("R-mr");
    }

    @Test
    void aLockupReportShowsTheRescuerAndItsStack() {
        q.queue(new Work("second", () -> { })); // waits behind the rescuer's item: the pool makes no progress
        String report = report(r -> r.contains("lockup"));
        assertThat(report).contains("running 'rescued-item'").contains("WorkQueueCoreTest.await");
    }
}
