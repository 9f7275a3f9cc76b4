package org.workqueue4j;

import org.jspecify.annotations.Nullable;

/**
 * Receives what a work function threw, and the delayed items the engine could not queue. The
 * worker that ran the item lives on, and flushes waiting for the item complete as if it had
 * returned. Without a handler the engine logs each report through {@link System.Logger}
 * ({@code org.workqueue4j}, ERROR) with the queue and work names.
 *
 * <p>Where it is called: on the worker that ran the item; for a {@link DelayedWork} whose timer
 * fired into a queue that no longer accepts it, on the thread that fired it (the runtime's timer
 * thread, or a thread whose {@code flush} fired it early); for delayed items
 * still armed when their queue is destroyed, on the thread calling {@code destroy()} or
 * {@code close()}. Implementations must be thread-safe: several reports can run at once.
 *
 * <p>A work function's failure is reported on its worker as the last part of the item's run:
 * flushes of the item, and of its queue, return only after the handler did. So from this handler
 * a wait for that item ({@code flush}, {@code cancelSync}, {@code disableSync}) or for its queue
 * would wait for itself, and is refused with {@link IllegalStateException}, as from the item's
 * function; {@code cancel()} and {@code disable()}, which do not wait, work.
 *
 * <p>A reported delayed item ends when the handler returns: a flush, {@code cancelSync} or
 * {@code disableSync} of that item waits until then. So a handler must not wait for another
 * thread's flush or cancel of the item it is told about (that call waits for the handler: a
 * deadlock); flushing or cancelling it on the handler's own thread does not wait for this
 * report. A {@code destroy()} does not wait for the report of an expiry it made another
 * thread's insert refuse (that report may come after {@code destroy()} returned). A handler that blocks on the timer thread delays every timer of the runtime.
 *
 * <p>Such an item is idle before its report begins: it may be queued again meanwhile (by the
 * handler, to retry, or by any thread), and that later instance may run, and a flush of its
 * queue return, before the handler has returned. Only the waits on the item itself wait for
 * the report. It cannot come sooner: reported while the item was still pending, a retry from
 * the handler would find it pending and be lost; nor can a later instance wait for it: a
 * handler that flushes that instance's queue would wait for itself. So the instances of an
 * item end in the order they were queued, except that a report may come after later
 * instances have run.
 *
 * <p>If the handler throws, its failure is logged with the report it was given; if the logger
 * fails too, both go to {@code System.err}. Nothing the handler does stops the engine's work.
 */
@FunctionalInterface
// JSpecify is optional at run time (requires static): its @Nullable in this API is not re-exported on purpose.
@SuppressWarnings("exports")
public interface UncaughtWorkHandler {
    /**
     * Called after a work function threw, or when a delayed item could not be queued (see the
     * class description for the thread it is called on).
     *
     * @param queue the queue the item ran on (or was bound for)
     * @param work  the item; null when what threw was not a {@link Work} (an engine-internal item)
     * @param error what it threw
     */
    void uncaught(WorkQueue queue, @Nullable Work work, Throwable error);
}
