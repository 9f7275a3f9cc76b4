package org.workqueue4j;

/**
 * Whether waiting on a queue that never had an item is reported to the lock validator (the
 * 2020 LKML thread on {@code sb_init_dio_done_wq()}; SPEC §2).
 *
 * <p>Flush, drain and destroy "acquire" the queue's pseudo-lock, so a caller holding lock L
 * records L &rarr; queue. If the queue's lock class is shared with queues whose items take L, a
 * destroy of a queue that never had an item is reported as a circular dependency, although it
 * cannot deadlock.
 *
 * <p>Immutable; safe to share between threads.
 */
public enum FlushAnnotation {
    /**
     * The fix the thread converged on (the default): each queue remembers whether an item was
     * ever queued, and flush, drain and destroy annotate only once it was. Far fewer false
     * negatives than skipping queues that are merely empty right now; the known one: an item
     * of q1 flushing a never-used q2 records nothing.
     */
    SKIP_NEVER_USED,
    /** The kernel's behaviour: always annotate (reproduces the 2020 report). */
    ALWAYS
}
