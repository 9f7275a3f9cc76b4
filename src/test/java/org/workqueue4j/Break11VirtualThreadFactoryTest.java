package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A virtual-thread factory (JDK 21+) made every runtime thread virtual, the service threads
 * included: virtual threads are not time-sliced, so CPU-bound items on every carrier held back
 * the timer, the watchdog, the hung-wait reports and the manager (a delayed item due in 10 ms ran
 * after 986 ms behind 20 CPU-bound items of 100 ms; close() then reported the monitor and manager
 * still alive). The service threads are platform threads now, whatever the factory makes; the
 * workers may stay virtual. Skipped on a JDK without virtual threads (reflection: the suite
 * compiles for 17 and runs on 17 and 25).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Break11VirtualThreadFactoryTest {
    private static ThreadFactory virtualFactory() {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder");
            return (ThreadFactory) ofVirtual.getMethod("factory").invoke(builder);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    private static boolean isVirtual(Thread t) {
        try {
            return (Boolean) Thread.class.getMethod("isVirtual").invoke(t);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theServiceThreadsArePlatformThreadsWhileTheWorkersMayBeVirtual() throws Exception {
        ThreadFactory vf = virtualFactory();
        assumeTrue(vf != null, "virtual threads need JDK 21+");
        Thread[] worker = new Thread[1];
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().name("vt").cpus(2).threadFactory(vf)
                .closeTimeout(Duration.ofSeconds(30)).build())) {
            WorkQueue q = rt.queueBuilder("q").build();
            CountDownLatch ran = new CountDownLatch(1);
            q.queue(new Work("w", () -> {
                worker[0] = Thread.currentThread();
                ran.countDown();
            }));
            DelayedWork d = new DelayedWork("d", () -> { });
            q.queueDelayed(d, Duration.ofMillis(1)); // makes the timer thread
            assertThat(ran.await(30, TimeUnit.SECONDS)).isTrue();
            d.flush();
            assertThat(isVirtual(worker[0])).as("a worker is the factory's virtual thread").isTrue();
            // Thread.getAllStackTraces lists platform threads only
            Set<String> platform = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(n -> n.startsWith("wq-vt/")).collect(Collectors.toSet());
            assertThat(platform).as("the runtime's platform threads").contains("wq-vt/kworker/timer", "wq-vt/kworker/monitor", "wq-vt/kworker/manager");
        }
    }
}
