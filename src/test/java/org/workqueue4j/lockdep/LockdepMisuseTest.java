package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Misuse reports and pseudo-lock (wait annotation) scenarios. */
class LockdepMisuseTest {

    private final Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().build();

    @Test
    @DisplayName("releasing a lock twice is a bad-unlock-balance report")
    void doubleUnlock() {
        LockMap a = new LockMap("a", new LockClassKey("A"));
        lockdep.acquire(a);
        lockdep.release(a);
        lockdep.release(a);
        assertThat(lockdep.reports()).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RELEASE_NOT_HELD);
            assertThat(r.text()).contains("WARNING: bad unlock balance detected!",
                    "is trying to release lock (A) at:", "but there are no more locks to release!");
        });
    }

    @Test
    @DisplayName("initializing a lock held by another thread is reported")
    void initHeldByAnotherThread() throws Exception {
        LockMap a = new LockMap("a", new LockClassKey("A"));
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            lockdep.acquire(a);
            held.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            lockdep.release(a);
        }, "holder");
        holder.start();
        held.await();
        lockdep.initialize(a);
        done.countDown();
        holder.join();
        assertThat(lockdep.reports()).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.INIT_HELD);
            assertThat(r.text()).contains("but the lock is still held by holder:");
        });
        lockdep.initialize(a);
        assertThat(lockdep.reportCount()).isEqualTo(1);
    }

    @Test
    @DisplayName("waiting on a pseudo-lock while holding it (flush from inside the queue) is recursive locking")
    void touchingAHeldPseudoLockIsRecursive() {
        LockMap queue = new LockMap("(wq_completion)events", new LockClassKey("(wq_completion)events"));
        lockdep.acquire(queue);
        lockdep.touch(queue);
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.RECURSIVE));
    }

    @Test
    @DisplayName("holding M while waiting for work W that takes M is circular")
    void flushWhileHoldingALockTheWorkTakes() throws Exception {
        LockMap m = new LockMap("m", new LockClassKey("M"));
        LockMap work = new LockMap("(work_completion)(&w)", new LockClassKey("(work_completion)(&w)"));
        Thread worker = new Thread(() -> {
            lockdep.acquire(work);
            lockdep.acquire(m);
            lockdep.release(m);
            lockdep.release(work);
        }, "kworker/0:1");
        worker.start();
        worker.join();
        lockdep.acquire(m);
        lockdep.touch(work);
        lockdep.release(m);
        assertThat(lockdep.reports()).singleElement().satisfies(r -> {
            assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR);
            assertThat(r.classes()).containsExactly("(work_completion)(&w)", "M");
        });
    }

    @Test
    @DisplayName("releasing out of order keeps the stack consistent and learns the new chains")
    void outOfOrderRelease() {
        LockMap a = new LockMap("a", new LockClassKey("A"));
        LockMap b = new LockMap("b", new LockClassKey("B"));
        LockMap c = new LockMap("c", new LockClassKey("C"));
        lockdep.acquire(a);
        lockdep.acquire(b);
        lockdep.acquire(c);
        lockdep.release(b);
        assertThat(lockdep.isHeld(a)).isTrue();
        assertThat(lockdep.isHeld(b)).isFalse();
        assertThat(lockdep.isHeld(c)).isTrue();
        lockdep.release(a);
        lockdep.release(c);
        lockdep.acquire(c);
        lockdep.acquire(a);
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.kind()).isEqualTo(LockdepReport.Kind.CIRCULAR));
    }

    @Test
    @DisplayName("trylocks are held but add no dependencies")
    void trylockAddsNoDependency() {
        LockMap a = new LockMap("a", new LockClassKey("A"));
        LockMap b = new LockMap("b", new LockClassKey("B"));
        lockdep.acquire(a);
        lockdep.acquire(b, AcquireMode.EXCLUSIVE, true);
        assertThat(lockdep.isHeld(b)).isTrue();
        lockdep.release(b);
        lockdep.release(a);
        lockdep.acquire(b);
        lockdep.acquire(a);
        assertThat(lockdep.reports()).isEmpty();
    }

    @Test
    @DisplayName("an A/C inversion hidden behind a recursive read of B is still found")
    void inversionBehindRecursiveReader() {
        LockMap a = new LockMap("a", new LockClassKey("A"));
        LockMap b = new LockMap("b", new LockClassKey("B"));
        LockMap c = new LockMap("c", new LockClassKey("C"));
        lockdep.acquire(a);
        lockdep.acquire(b, AcquireMode.RECURSIVE_READ, false);
        lockdep.acquire(c);
        lockdep.release(c);
        lockdep.release(b);
        lockdep.release(a);
        lockdep.acquire(c);
        lockdep.acquire(a);
        assertThat(lockdep.reports()).singleElement()
                .satisfies(r -> assertThat(r.classes()).containsExactly("A", "C"));
    }

    @Test
    @DisplayName("forCallSite interns one key per source line")
    void callSiteKeys() {
        LockClassKey[] keys = new LockClassKey[2];
        for (int i = 0; i < 2; i++) {
            keys[i] = LockClassKey.forCallSite("wq:");
        }
        LockClassKey other = LockClassKey.forCallSite("wq:");
        assertThat(keys[0]).isSameAs(keys[1]).isNotSameAs(other);
        assertThat(keys[0].name()).startsWith("wq:" + LockdepMisuseTest.class.getName() + ".callSiteKeys:");
    }
}
