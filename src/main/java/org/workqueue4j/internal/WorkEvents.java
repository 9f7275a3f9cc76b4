package org.workqueue4j.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * Java Flight Recorder events: one per work execution and one per flush wait. While no
 * recording enables them, the cost is one read of the event type's enabled flag; nothing is
 * allocated.
 */
final class WorkEvents {
    private WorkEvents() {
    }

    /** A work item ran. */
    @Name("org.workqueue4j.WorkExecution")
    @Label("Work Execution")
    @Category("workqueue4j")
    @Description("A work item ran on a worker")
    static final class Execution extends Event {
        @Label("Queue")
        String queue;
        @Label("Work")
        String work;
        @Label("Worker")
        String worker;
    }

    /** A flush (queue or work), drain, or cancelSync waited. */
    @Name("org.workqueue4j.FlushWait")
    @Label("Flush Wait")
    @Category("workqueue4j")
    @Description("A thread waited in flush, drain, destroy or cancelSync")
    static final class FlushWait extends Event {
        @Label("Operation")
        String operation;
        @Label("Target")
        String target;
    }

    private static final EventType EXECUTION = typeOf(Execution.class);
    private static final EventType FLUSH = typeOf(FlushWait.class);

    private static EventType typeOf(Class<? extends Event> c) {
        try {
            return EventType.getEventType(c);
        } catch (Throwable e) { // JFR unavailable in this VM: events stay off
            return null;
        }
    }

    /** An event to end and commit after the run, or null when no recording wants it. */
    static Execution beginExecution() {
        if (EXECUTION == null || !EXECUTION.isEnabled()) {
            return null;
        }
        Execution e = new Execution();
        e.begin();
        return e;
    }

    static void commitExecution(Execution e, String queue, String work, String worker) {
        e.end();
        if (e.shouldCommit()) {
            e.queue = queue;
            e.work = work;
            e.worker = worker;
            e.commit();
        }
    }

    static FlushWait beginFlush() {
        if (FLUSH == null || !FLUSH.isEnabled()) {
            return null;
        }
        FlushWait e = new FlushWait();
        e.begin();
        return e;
    }

    static void commitFlush(FlushWait e, String operation, String target) {
        if (e == null) {
            return;
        }
        e.end();
        if (e.shouldCommit()) {
            e.operation = operation;
            e.target = target;
            e.commit();
        }
    }
}
