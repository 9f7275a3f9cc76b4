package org.workqueue4j;

import org.jspecify.annotations.Nullable;
import org.workqueue4j.internal.TimerQueue;
import org.workqueue4j.internal.WorkNode;
import org.workqueue4j.lockdep.LockMap;

/**
 * The engine's node of one {@link Work}: the state word and intrusive links the pools operate
 * on, delegating name, body, lock map and timer to its item. A {@code Work} holds exactly one,
 * created with it, and this package alone hands it to the engine; users never see it, so they
 * cannot reach the state word or the links (composition, not inheritance, as j.u.c keeps
 * {@code ThreadPoolExecutor.Worker} private).
 */
final class ItemNode extends WorkNode {
    /** The item; final, so a node read from any list (under its pool lock) sees it. */
    final Work work;

    ItemNode(Work work) {
        this.work = work;
    }

    /**
     * The item of an engine node, or null for the engine's own nodes (barriers).
     *
     * @param n a node, or null
     * @return its {@code Work}, or null
     */
    static @Nullable Work workOf(@Nullable WorkNode n) {
        return n instanceof ItemNode ? ((ItemNode) n).work : null;
    }

    @Override
    public String name() {
        return work.name();
    }

    @Override
    protected void execute() {
        work.execute();
    }

    @Override
    protected Object item() {
        return work;
    }

    @Override
    protected void neverRuns(Throwable reason) {
        work.neverRuns(reason);
    }

    @Override
    public LockMap lockMap() {
        return work.lockMap();
    }

    @Override
    public @Nullable LockMap timerLockMap() {
        return work.timerLockMap();
    }

    @Override
    protected @Nullable TimerQueue armedTimer() {
        return work.armedTimer();
    }

    @Override
    public String toString() {
        return work.toString();
    }
}
