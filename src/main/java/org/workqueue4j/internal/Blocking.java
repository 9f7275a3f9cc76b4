package org.workqueue4j.internal;

import java.util.concurrent.ForkJoinPool;

/** Managed blocking for user code running on workers (kernel: a sleeping worker). */
public final class Blocking {
    private Blocking() {
    }

    /** See {@code WorkQueues.managedBlock}. */
    public static void managedBlock(ForkJoinPool.ManagedBlocker blocker) throws InterruptedException {
        if (blocker.isReleasable()) {
            return;
        }
        Worker w = Worker.current();
        if (w != null) {
            w.sleeping();
        }
        try {
            while (!blocker.isReleasable() && !blocker.block()) {
                // block() returned false: it wants to be asked again
            }
        } finally {
            if (w != null) {
                w.running();
            }
        }
    }
}
