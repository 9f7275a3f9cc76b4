package org.workqueue4j.internal;

import org.workqueue4j.lockdep.LockMap;

/** A bare engine node for tests of the internal package: a name and a body, no lock map. */
final class TestNode extends WorkNode {
    private final String name;
    private final Runnable body;

    TestNode(String name, Runnable body) {
        this.name = name;
        this.body = body;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    protected void execute() {
        body.run();
    }

    @Override
    public LockMap lockMap() {
        return null;
    }
}
