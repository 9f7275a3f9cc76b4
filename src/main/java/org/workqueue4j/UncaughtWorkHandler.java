package org.workqueue4j;

/**
 * Receives what a work function threw. The worker that ran it lives on, and flushes waiting
 * for the item complete as if it had returned. The default handler logs through
 * {@link System.Logger} ({@code org.workqueue4j}) with the queue and work names.
 */
@FunctionalInterface
public interface UncaughtWorkHandler {
    /**
     * @param queue the queue the item ran on (or was bound for)
     * @param work  the item
     * @param error what it threw
     */
    void uncaught(WorkQueue queue, Work work, Throwable error);
}
