package org.workqueue4j.lockdep;

import java.util.List;

/**
 * A wait that was not recorded yet: the locks a thread held when it flushed, drained or
 * destroyed a queue that had never been used ({@code FlushAnnotation.DEFER_UNTIL_USED}). The
 * queue keeps it; when the queue is first queued to, {@link LockDependencyValidator#addLatentWaits}
 * adds "each held lock &rarr; queue" with the full check, reporting with this original stack,
 * marked deferred; when the queue is destroyed unused it is dropped
 * ({@link LockDependencyValidator#dropLatentWaits}). Immutable; safe to hand between threads.
 */
public final class LatentWait {
    final LockMap[] maps;
    /**
     * The class each lock was held as when the wait was deferred: a replay skips an entry whose
     * class has since been freed (its key unregistered, a destroyed queue's, or collected), as
     * its dependencies were freed with it; looking its map up again would register the key anew.
     */
    final LockClass[] classes;
    /** The subclass each lock was held as (a {@code lockNested} acquisition's, else its map's). */
    final int[] subclasses;
    final AcquireMode[] modes;
    final boolean[] trylocks;
    final List<String> trace;
    final String thread;
    /** Identity of the held stack, to keep one latent wait per distinct stack. */
    final long heldKey;

    LatentWait(LockMap[] maps, LockClass[] classes, int[] subclasses, AcquireMode[] modes, boolean[] trylocks,
               List<String> trace, String thread, long heldKey) {
        this.maps = maps;
        this.classes = classes;
        this.subclasses = subclasses;
        this.modes = modes;
        this.trylocks = trylocks;
        this.trace = trace;
        this.thread = thread;
        this.heldKey = heldKey;
    }

    /**
     * Returns whether {@code other} records the same held stack (the same lock classes and modes
     * in the same order), so that a queue keeps only one of them.
     *
     * @param other another latent wait; not null
     * @return true if both would add the same dependencies
     */
    public boolean sameHeldLocks(LatentWait other) {
        return heldKey == other.heldKey;
    }

    /** {@return the name of the thread that waited} */
    public String thread() {
        return thread;
    }

    @Override
    public String toString() {
        return "LatentWait[" + thread + ", " + maps.length + " held, at " + (trace.isEmpty() ? "?" : trace.get(0)) + "]";
    }
}
