package org.workqueue4j.lockdep;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code unregisterKey(K)} while a thread holds a lock of class K (the kernel's
 * {@code lockdep_unregister_key()} of a held lock's key). Kernel: the held entry's class is no
 * longer in {@code lock_classes_in_use}; the next {@code __lock_acquire}/{@code hlock_class()}
 * hits {@code DEBUG_LOCKS_WARN_ON(!test_bit(class_idx, lock_classes_in_use))}: a warning, and
 * lockdep is turned off (debug_locks_off) — never a silent wrong answer.
 *
 * <p>Here: nothing is reported, the held entry keeps the zapped class, the acquisition of B on
 * top of it adds no A -&gt; B (snapshot: edges=0) but caches a chain "A, B" naming the freed
 * class (never freed again). Another thread then takes the <em>same two instances</em> in the
 * opposite order (b, then a: a real ABBA with the first thread's a-then-b) and nothing is
 * reported either: a false negative with no message. Suspected cause:
 * {@code DependencyGraph.unregister} / {@code Lockdep.unregisterKey} do not look at held
 * stacks, and {@code DependencyGraph.check} silently skips zapped held classes.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Break9LdUnregisterHeldKeyTest {
    final List<LockdepReport> reports = new CopyOnWriteArrayList<>();

    @Test
    void unregisteringAHeldLocksKeyLosesARealAbbaSilently() throws Exception {
        Lockdep ld = Lockdep.builder().policy(ReportPolicy.WARN).quiet().listener(reports::add).build();
        LockClassKey ka = new LockClassKey("A");
        ValidatedLock a = new ValidatedLock("a", ka, ld);
        ValidatedLock b = new ValidatedLock("b", new LockClassKey("B"), ld);
        a.lock();
        ld.unregisterKey(ka);          // A's class freed while `a` is held
        b.lock();                      // a then b
        b.unlock();
        a.unlock();
        Thread t = new Thread(() -> {  // b then a: the same two instances, the opposite order
            b.lock();
            a.lock();
            a.unlock();
            b.unlock();
        });
        t.start();
        t.join();
        assertThat(reports)
                .as("either the freed held class is reported (kernel: DEBUG_LOCKS_WARN_ON in hlock_class) or"
                        + " the ABBA is; snapshot:%n%s", ld.snapshot().text())
                .isNotEmpty();
    }
}
