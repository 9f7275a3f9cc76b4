package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.workqueue4j.lockdep.LockClassKey;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.LockdepReport;
import org.workqueue4j.lockdep.ReportPolicy;
import org.workqueue4j.lockdep.ValidatedLock;

/**
 * DEFER_UNTIL_USED keeps at most 16 distinct latent waits per never-used queue
 * ({@code WorkqueueStruct.MAX_LATENT_WAITS}); the 17th distinct held stack is dropped with only
 * {@code v.dropLatentWaits(1)} (a counter shared with "destroyed unused" drops) and no report.
 *
 * <p>Kernel: {@code __flush_workqueue()} does {@code lock_map_acquire(&wq->lockdep_map)}
 * unconditionally (FlushAnnotation.ALWAYS), so L17 -> wq is recorded and a later item of that
 * queue taking L17 closes wq -> L17 -> wq: "possible circular locking dependency detected".
 * Every capacity limit of lockdep itself degrades with a one-time message
 * ({@code "BUG: MAX_LOCKDEP_KEYS too low!"} etc.). Here the default policy silently misses the
 * cycle: the queue is then used and the item takes L17, and no report of any kind is made —
 * the only trace is {@code stats().latentDropped()}, which also counts the benign drops of a
 * queue destroyed unused. The 16 kept waits are reported, the 17th (same shape) is not.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break9LdLatentWaitOverflowTest {
    private final List<LockdepReport> reports = new CopyOnWriteArrayList<>();
    private WorkQueues rt;

    @AfterEach
    void close() {
        if (rt != null) {
            rt.close();
        }
    }

    @Test
    void theSeventeenthDistinctFlushUnderALockIsMissedWithoutAnyMessage() {
        Lockdep lockdep = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1).validator(lockdep)
                .flushAnnotation(FlushAnnotation.DEFER_UNTIL_USED).build());
        WorkQueue q = rt.queueBuilder("never").build();
        List<ValidatedLock> locks = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            locks.add(new ValidatedLock("L" + i, new LockClassKey("L" + i), lockdep));
        }
        for (ValidatedLock l : locks) {          // 17 flushes of the never-used queue, each under its own lock
            l.lock();
            try {
                q.flush();
            } finally {
                l.unlock();
            }
        }
        ValidatedLock last = locks.get(16);
        Work w = new Work("takes-L16", () -> {
            last.lock();
            last.unlock();
        });
        q.queue(w);                              // first use: the latent waits are replayed
        q.flush();                               // the item ran: wq -> L16 recorded
        assertThat(reports)
                .as("L16 -> wq (the 17th flush) and wq -> L16 (the item) form a cycle the kernel reports;"
                        + " dropped latent waits: " + lockdep.stats().latentDropped())
                .isNotEmpty();
    }
}
