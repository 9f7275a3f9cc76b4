package org.workqueue4j;

import org.jspecify.annotations.Nullable;

/**
 * Receives what a work function threw. The worker that ran it lives on, and flushes waiting
 * for the item complete as if it had returned. The default handler logs through
 * {@link System.Logger} ({@code org.workqueue4j}) with the queue and work names.
 *
 * <p>Implementations must be thread-safe: the handler is called on worker threads, several at once
 * when items of several pools fail together.
 */
@FunctionalInterface
// JSpecify is optional at run time (requires static): its @Nullable in this API is not re-exported on purpose.
@SuppressWarnings("exports")
public interface UncaughtWorkHandler {
    /**
     * Called on the worker thread after a work function threw.
     *
     * @param queue the queue the item ran on (or was bound for)
     * @param work  the item; null when what threw was not a {@link Work} (an engine-internal item)
     * @param error what it threw
     */
    void uncaught(WorkQueue queue, @Nullable Work work, Throwable error);
}
