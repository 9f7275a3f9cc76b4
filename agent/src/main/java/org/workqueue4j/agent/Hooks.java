package org.workqueue4j.agent;

import java.util.Arrays;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.lockdep.AcquireMode;
import org.workqueue4j.lockdep.LockDependencyValidator;
import org.workqueue4j.lockdep.LockMap;
import org.workqueue4j.lockdep.Lockdep;
import org.workqueue4j.lockdep.PotentialDeadlockException;

/**
 * The static methods instrumented code calls. Public only because code in other packages and
 * class loaders must link to them; not an API.
 */
public final class Hooks {

    /*
     * Implementation Overview
     *
     * Every lock operation reports to the one JVM-wide Lockdep the agent installed, the
     * way ValidatedAcquire does for the library's own locks: a blocking acquisition is
     * reported before blocking (so under THROW the report is thrown instead of
     * deadlocking, and the lock is not taken), a successful tryLock() after the fact as a
     * trylock (no dependencies), and a release after the lock is let go.
     *
     * Re-entry. The thread's Held table counts holds per lock instance; only the first
     * hold of an instance is reported, only the last release releases. synchronized code is
     * structured, so a monitor entered by instrumented code is exited by the same method; a JDK
     * lock taken in uninstrumented code and released in instrumented code is not in the table and
     * is ignored.
     *
     * Fast path. #monitorEnter is one ThreadLocal lookup and a scan of the (short) held
     * table, a volatile array read for the site, then Lockdep#acquire: another ThreadLocal,
     * the chain hash and one probe of the chain cache. Nothing is allocated once the chain is known.
     *
     * Waits. Object.wait and Condition.await release the lock and take it back:
     * the validator is told so (release, then acquire of the same map after the wait). The
     * re-acquisition happens after the JVM has taken the lock again, so under THROW a report there
     * is thrown from the wait with the lock held; the hold is then marked untracked so that its
     * release does not count as a bad unlock.
     */

    /** Set by {@link LockdepAgent} before any instrumented class is defined. */
    static final Lockdep V = LockdepAgent.validator();
    private static final FlushAnnotation FLUSH = LockdepAgent.flushAnnotation();

    private static final ThreadLocal<Held> HELD = ThreadLocal.withInitial(Held::new);

    private Hooks() {
    }

    // ---- the library's runtime configuration (WorkQueuesConfig.defaultValidator() and defaultFlushAnnotation() return these)

    /**
     * Returns the validator of every runtime whose configuration names none, while the agent runs.
     *
     * @return the agent's validator
     */
    public static LockDependencyValidator defaultValidator() {
        return V;
    }

    /**
     * Returns the flush-annotation policy of every runtime whose configuration names none.
     *
     * @return the agent's {@code flush=} option
     */
    public static FlushAnnotation defaultFlushAnnotation() {
        return FLUSH;
    }

    // ---- synchronized

    /**
     * Before {@code monitorenter} (and at the start of a synchronized method whose flag the
     * rewrite strips: it enters the monitor itself, after this).
     *
     * @param monitor the monitor; null leaves the NullPointerException to {@code monitorenter}
     * @param site the site number
     * @throws PotentialDeadlockException under THROW, before the monitor is entered
     */
    public static void monitorEnter(Object monitor, int site) {
        enter(monitor, site, true);
    }

    /**
     * At the start of a synchronized method that keeps its flag: the JVM has entered the
     * monitor already, so that it is held says nothing about an outer hold.
     *
     * @param monitor the method's monitor
     * @param site the site number
     * @throws PotentialDeadlockException under THROW
     */
    public static void synchronizedMethodEntered(Object monitor, int site) {
        enter(monitor, site, false);
    }

    /** @param before true when the monitor is not entered yet by this acquisition (see monitorEnter) */
    private static void enter(Object monitor, int site, boolean before) {
        if (monitor == null) {
            return;
        }
        Held h = HELD.get();
        int i = h.findMonitor(monitor);
        if (i >= 0) {
            if (Thread.holdsLock(monitor)) {
                h.counts[i]++;
                return;
            }
            h.counts[i] = 1; // not held any more: its exit hooks were lost to Errors thrown in them
            exit(h, i);
        }
        Site s = Sites.get(site);
        LockMap m = !s.hasField() ? LockNames.ofMonitor(monitor)
                : monitor instanceof Lock ? LockNames.map(s.fieldClassName() + " (monitor)") // not the Lock itself
                : LockNames.ofField(s);
        if (before && Thread.holdsLock(monitor)) {
            // Held already, entered where the agent does not look (a JDK or excluded class, e.g. a
            // synchronized collection's forEach calling back): this entry is a re-entry, which
            // cannot wait. Not validated, and kept untracked, as that outer hold is.
            h.push(monitor, Held.MONITOR, m, AcquireMode.EXCLUSIVE, false);
            return;
        }
        V.acquire(m, AcquireMode.EXCLUSIVE, false);
        h.push(monitor, Held.MONITOR, m, AcquireMode.EXCLUSIVE, true);
    }

    /**
     * After {@code monitorexit} (and on every way out of a synchronized method), outside the
     * exception ranges that would exit the monitor again. Throws nothing of its own; a
     * StackOverflowError can still strike it, and its exit is then lost: the thread's count of
     * the monitor is corrected from {@link Thread#holdsLock} at the next exit or entry of the
     * same monitor.
     *
     * @param monitor the monitor
     */
    public static void monitorExit(Object monitor) {
        if (monitor != null) {
            Held h = HELD.get();
            int i = h.findMonitor(monitor);
            if (i >= 0 && h.counts[i] > 1 && !Thread.holdsLock(monitor)) {
                h.counts[i] = 1; // released by the JVM: exits were lost to Errors thrown in this hook
            }
            exit(h, i);
        }
    }

    /**
     * Replaces {@code monitor.wait()}.
     *
     * @param monitor the monitor waited on
     * @throws InterruptedException as {@link Object#wait()}
     */
    public static void objectWait(Object monitor) throws InterruptedException {
        objectWait(monitor, 0L, 0);
    }

    /**
     * Replaces {@code monitor.wait(millis)}.
     *
     * @param monitor the monitor waited on
     * @param millis as {@link Object#wait(long)}
     * @throws InterruptedException as {@link Object#wait(long)}
     */
    public static void objectWait(Object monitor, long millis) throws InterruptedException {
        objectWait(monitor, millis, 0);
    }

    /**
     * Replaces {@code monitor.wait(millis, nanos)}: the validator sees the monitor released for
     * the wait and taken again after it.
     *
     * @param monitor the monitor waited on
     * @param millis as {@link Object#wait(long, int)}
     * @param nanos as {@link Object#wait(long, int)}
     * @throws InterruptedException as {@link Object#wait(long, int)}
     */
    public static void objectWait(Object monitor, long millis, int nanos) throws InterruptedException {
        Held h = HELD.get();
        int i = monitor == null ? -1 : h.findMonitor(monitor);
        if (i < 0 || !h.tracked[i]) {
            monitor.wait(millis, nanos);
            return;
        }
        LockMap m = h.maps[i];
        V.release(m);
        try {
            monitor.wait(millis, nanos);
        } finally {
            reacquire(h, monitor, Held.MONITOR, m, AcquireMode.EXCLUSIVE);
        }
    }

    // ---- java.util.concurrent.locks

    /**
     * Replaces {@code lock.lock()}.
     *
     * @param l the lock
     * @param site the site number
     * @throws PotentialDeadlockException under THROW, before blocking
     */
    public static void lock(Lock l, int site) {
        try {
            acquire(l, site, LOCK);
        } catch (InterruptedException e) {
            throw new AssertionError("Lock.lock() is not interruptible", e);
        }
    }

    /**
     * Replaces {@code lock.lockInterruptibly()}.
     *
     * @param l the lock
     * @param site the site number
     * @throws InterruptedException as {@link Lock#lockInterruptibly()}; nothing is recorded then
     * @throws PotentialDeadlockException under THROW, before blocking
     */
    public static void lockInterruptibly(Lock l, int site) throws InterruptedException {
        acquire(l, site, LOCK_INTERRUPTIBLY);
    }

    /**
     * Replaces {@code lock.tryLock()}: a success is recorded as a trylock (lockdep: held, but no
     * dependency on the locks already held, since it never waited).
     *
     * @param l the lock
     * @param site the site number
     * @return as {@link Lock#tryLock()}
     */
    public static boolean tryLock(Lock l, int site) {
        try {
            return acquire(l, site, TRY_LOCK);
        } catch (InterruptedException e) {
            throw new AssertionError("Lock.tryLock() is not interruptible", e);
        }
    }

    /**
     * Replaces {@code lock.tryLock(time, unit)}. With a positive time it can wait, so (as the
     * library's validated locks do) it is reported before waiting as a blocking acquisition, and
     * taken back if it fails; with a time of zero or less it does not wait at all (the
     * {@link Lock} contract) and is recorded, once it succeeded, as a trylock, as
     * {@code tryLock()} is (and as {@code ValidatedLock} records it).
     *
     * @param l the lock
     * @param time as {@link Lock#tryLock(long, TimeUnit)}
     * @param unit as {@link Lock#tryLock(long, TimeUnit)}
     * @param site the site number
     * @return as {@link Lock#tryLock(long, TimeUnit)}
     * @throws InterruptedException as {@link Lock#tryLock(long, TimeUnit)}
     * @throws PotentialDeadlockException under THROW, before waiting
     */
    public static boolean tryLock(Lock l, long time, TimeUnit unit, int site) throws InterruptedException {
        return acquire(l, site, x -> x.tryLock(time, unit), time <= 0);
    }

    /**
     * Replaces {@code lock.unlock()}, and implements the method reference {@code Lock::unlock}.
     *
     * @param l the lock
     * @throws NullPointerException when {@code l} is null, without a message and with the
     *     application's frame on top, as the reference's call throws it without the agent
     */
    public static void unlock(Lock l) {
        if (l == null) {
            throw nullReceiver();
        }
        l.unlock(); // throws IllegalMonitorStateException when not held: then nothing changes
        if (JucLocks.mode(l) != null) {
            Held h = HELD.get();
            exit(h, h.findLock(l));
        }
    }

    /**
     * The NullPointerException of {@code unlock()} called on null where no null path of the
     * caller made the original call (a method reference {@code Lock::unlock} applied to null, whose
     * implementation is {@link #unlock(Lock)}): as the JVM throws it from the class it spins for
     * the reference, no message (that class's frames are hidden) and the hooks' frames left out
     * of its stack trace, so its top frame is the application's.
     */
    private static NullPointerException nullReceiver() {
        NullPointerException e = new NullPointerException();
        StackTraceElement[] trace = e.getStackTrace();
        int from = 0;
        while (from < trace.length && trace[from].getClassName().equals(Hooks.class.getName())) {
            from++;
        }
        e.setStackTrace(Arrays.copyOfRange(trace, from, trace.length));
        return e;
    }

    /**
     * Implements a method reference {@code lock::unlock} on a {@code ReentrantLock}: a captured
     * receiver must have the implementation's parameter type exactly.
     *
     * @param l the lock
     */
    public static void unlock(ReentrantLock l) {
        unlock((Lock) l);
    }

    /**
     * Implements a method reference {@code readLock::unlock}.
     *
     * @param l the read lock
     */
    public static void unlock(ReentrantReadWriteLock.ReadLock l) {
        unlock((Lock) l);
    }

    /**
     * Implements a method reference {@code writeLock::unlock}.
     *
     * @param l the write lock
     */
    public static void unlock(ReentrantReadWriteLock.WriteLock l) {
        unlock((Lock) l);
    }

    /**
     * Records a lock constructed at an instrumented site, for its class name.
     *
     * @param lock the new {@code ReentrantLock} or {@code ReentrantReadWriteLock}
     * @param site the site number
     */
    public static void created(Object lock, int site) {
        JucLocks.created(lock, Sites.get(site));
    }

    /**
     * Replaces {@code condition.await()}.
     *
     * @param c the condition
     * @throws InterruptedException as {@link Condition#await()}
     */
    public static void await(Condition c) throws InterruptedException {
        awaitReleased(c, () -> {
            c.await();
            return null;
        });
    }

    /**
     * Replaces {@code condition.await(time, unit)}.
     *
     * @param c the condition
     * @param time as {@link Condition#await(long, TimeUnit)}
     * @param unit as {@link Condition#await(long, TimeUnit)}
     * @return as {@link Condition#await(long, TimeUnit)}
     * @throws InterruptedException as {@link Condition#await(long, TimeUnit)}
     */
    public static boolean await(Condition c, long time, TimeUnit unit) throws InterruptedException {
        return awaitReleased(c, () -> c.await(time, unit));
    }

    /**
     * Replaces {@code condition.awaitNanos(nanos)}.
     *
     * @param c the condition
     * @param nanos as {@link Condition#awaitNanos(long)}
     * @return as {@link Condition#awaitNanos(long)}
     * @throws InterruptedException as {@link Condition#awaitNanos(long)}
     */
    public static long awaitNanos(Condition c, long nanos) throws InterruptedException {
        return awaitReleased(c, () -> c.awaitNanos(nanos));
    }

    /**
     * Replaces {@code condition.awaitUninterruptibly()}.
     *
     * @param c the condition
     */
    public static void awaitUninterruptibly(Condition c) {
        try {
            awaitReleased(c, () -> {
                c.awaitUninterruptibly();
                return null;
            });
        } catch (InterruptedException e) {
            throw new AssertionError("awaitUninterruptibly() is not interruptible", e);
        }
    }

    /**
     * Replaces {@code condition.awaitUntil(deadline)}.
     *
     * @param c the condition
     * @param deadline as {@link Condition#awaitUntil(Date)}
     * @return as {@link Condition#awaitUntil(Date)}
     * @throws InterruptedException as {@link Condition#awaitUntil(Date)}
     */
    public static boolean awaitUntil(Condition c, Date deadline) throws InterruptedException {
        return awaitReleased(c, () -> c.awaitUntil(deadline));
    }

    // ---------------------------------------------------------------------------------------

    /** One blocking attempt at a lock: true when it was taken. */
    @FunctionalInterface
    private interface Attempt {
        boolean take(Lock l) throws InterruptedException;
    }

    private static final Attempt LOCK = l -> {
        l.lock();
        return true;
    };
    private static final Attempt LOCK_INTERRUPTIBLY = l -> {
        l.lockInterruptibly();
        return true;
    };
    /**
     * {@code tryLock()}: it never waits, so it is recorded after it succeeded, as a trylock (as is
     * a timed one with no time to wait, see {@link #tryLock(Lock, long, TimeUnit, int)}).
     */
    private static final Attempt TRY_LOCK = Lock::tryLock;

    /** A wait on a condition, with the condition's lock released for its duration. */
    @FunctionalInterface
    private interface Wait<T> {
        T await() throws InterruptedException;
    }

    /**
     * An acquisition: a re-entry is counted; a first hold is reported before blocking and taken
     * back if the attempt fails or throws, or, for {@link #TRY_LOCK}, reported as a trylock
     * once it succeeded.
     */
    private static boolean acquire(Lock l, int site, Attempt attempt) throws InterruptedException {
        return acquire(l, site, attempt, attempt == TRY_LOCK);
    }

    /** @param trylock the attempt never waits: recorded as a trylock once it succeeded */
    private static boolean acquire(Lock l, int site, Attempt attempt, boolean trylock) throws InterruptedException {
        AcquireMode mode = JucLocks.mode(l);
        if (mode == null) {
            return attempt.take(l);
        }
        Held h = HELD.get();
        int i = h.findLock(l);
        if (i >= 0) {
            if (!attempt.take(l)) {
                return false;
            }
            h.counts[i]++;
            return true;
        }
        Object key = JucLocks.key(l);
        LockMap m = JucLocks.classOf(h, key, l, Sites.get(site));
        if (JucLocks.heldExclusivelyByCaller(l)) {
            // Held already, taken where the agent does not look (a JDK or excluded class): a
            // re-entry, which cannot wait. Not validated; untracked, as that outer hold is.
            if (!attempt.take(l)) {
                return false;
            }
            h.push(l, key, m, mode, false);
            return true;
        }
        boolean report = reported(h, key, mode);
        if (trylock) {
            if (!attempt.take(l)) {
                return false;
            }
            if (report) {
                V.acquire(m, mode, true);
            }
            h.push(l, key, m, mode, report);
            return true;
        }
        if (report) {
            V.acquire(m, mode, false);
        }
        boolean acquired = false;
        try {
            acquired = attempt.take(l);
        } finally {
            if (!acquired && report) {
                V.release(m);
            }
        }
        if (acquired) {
            h.push(l, key, m, mode, report);
        }
        return acquired;
    }

    /** Runs a condition wait, telling the validator the condition's lock is released and re-taken. */
    private static <T> T awaitReleased(Condition c, Wait<T> w) throws InterruptedException {
        Held h = HELD.get();
        int i = conditionLock(h, c);
        if (i < 0) {
            return w.await();
        }
        Object lock = h.objs[i];
        Object key = h.keys[i];
        LockMap m = h.maps[i];
        V.release(m);
        try {
            return w.await();
        } finally {
            reacquire(h, lock, key, m, AcquireMode.EXCLUSIVE);
        }
    }

    /**
     * Whether a new hold is reported: not for a read lock taken while the thread holds the
     * write side of the same lock (ReentrantReadWriteLock allows it; it is the first half of a
     * downgrade, completed in {@link #exit}).
     */
    private static boolean reported(Held h, Object key, AcquireMode mode) {
        return mode != AcquireMode.READ || h.findKey(key, AcquireMode.EXCLUSIVE) < 0;
    }

    /** Counts one exit of entry {@code i} (none if -1); on the last one, releases it (or downgrades a write hold to a held read). */
    private static void exit(Held h, int i) {
        if (i < 0 || --h.counts[i] > 0) {
            return;
        }
        Object lock = h.objs[i];
        LockMap m = h.maps[i];
        Object key = h.keys[i];
        AcquireMode mode = h.modes[i];
        boolean wasTracked = h.tracked[i];
        h.remove(i);
        if (!wasTracked) {
            return;
        }
        int reader = mode == AcquireMode.EXCLUSIVE && key != Held.MONITOR && key != lock
                ? h.findKey(key, AcquireMode.READ) : -1;
        if (reader >= 0 && !h.tracked[reader]) {
            V.downgrade(m, AcquireMode.READ); // write released, read kept: the validator's lock_downgrade()
            h.tracked[reader] = true;
        } else {
            V.release(m);
        }
    }

    /** After a wait: the lock is held again; tell the validator. */
    private static void reacquire(Held h, Object lock, Object key, LockMap m, AcquireMode mode) {
        try {
            V.acquire(m, mode, false);
        } catch (PotentialDeadlockException e) {
            int i = key == Held.MONITOR ? h.findMonitor(lock) : h.findLock(lock);
            if (i >= 0) {
                h.tracked[i] = false; // held by the JVM, refused by the validator: do not release it later
            }
            throw e;
        }
    }

    /** Returns the held entry of the lock {@code c} belongs to, or -1 (unknown or not tracked). */
    private static int conditionLock(Held h, Condition c) {
        Object owner = JucLocks.owner(c);
        if (owner == null) {
            return -1;
        }
        int i = h.findKey(owner, AcquireMode.EXCLUSIVE);
        return i >= 0 && h.tracked[i] ? i : -1;
    }
}
