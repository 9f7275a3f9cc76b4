package org.workqueue4j.internal;

/**
 * The item {@code work.flush()} links behind its target (kernel {@code wq_barrier}): running it
 * completes the flusher's wait. It never counts toward max_active (always INACTIVE) but does
 * count in its colour's in-flight total, so queue flushes and drains wait for it too.
 */
final class Barrier extends WorkNode {
    final Completion done = new Completion(1);
    private final String target;

    Barrier(String target) {
        this.target = target;
    }

    @Override
    public String name() {
        return "BAR(" + target + ")";
    }

    @Override
    public org.workqueue4j.lockdep.LockMap lockMap() {
        return null;
    }

    @Override
    protected void execute() {
        done.countDown();
    }
}
