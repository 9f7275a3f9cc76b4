package org.workqueue4j.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * The JFR side of {@link WorkEvents}: the event classes, touched only once JFR is initialized.
 * While no recording enables an event the cost is one read of its type's enabled flag; nothing
 * is allocated. Defaults: no stack trace; executions of 1 ms or more, flush waits of 10 ms or
 * more (lower the threshold in the recording's settings to see more).
 */
final class JfrEvents {
    /** A work item ran. */
    @Name("org.workqueue4j.WorkExecution")
    @Label("Work Execution")
    @Category("workqueue4j")
    @Description("A work item ran on a worker")
    @StackTrace(false)
    @Threshold("1 ms")
    static final class Execution extends Event {
        @Label("Queue")
        String queue;
        @Label("Work")
        String work;
        @Label("Worker")
        String worker;
        @Label("Queue To Start")
        @Description("From the queue() that made the item pending to the start of this run; 0 if it was queued before JFR started")
        @Timespan(Timespan.NANOSECONDS)
        long queueToStart;
    }

    /** A flush (queue or work), drain, or cancelSync waited. */
    @Name("org.workqueue4j.FlushWait")
    @Label("Flush Wait")
    @Category("workqueue4j")
    @Description("A thread waited in flush, drain, destroy or cancelSync")
    @StackTrace(false)
    @Threshold("10 ms")
    static final class FlushWait extends Event {
        @Label("Operation")
        String operation;
        @Label("Target")
        String target;
    }

    private final EventType execution = EventType.getEventType(Execution.class);
    private final EventType flush = EventType.getEventType(FlushWait.class);

    /** Registers the event types; only once JFR is initialized (see WorkEvents). */
    JfrEvents() {
    }

    Object beginExecution() {
        if (!execution.isEnabled()) {
            return null;
        }
        Execution e = new Execution();
        e.begin();
        return e;
    }

    void commitExecution(Object event, String queue, String work, String worker, long queueToStartNanos) {
        Execution e = (Execution) event;
        e.end();
        if (e.shouldCommit()) {
            e.queue = queue;
            e.work = work;
            e.worker = worker;
            e.queueToStart = queueToStartNanos;
            e.commit();
        }
    }

    Object beginFlush() {
        if (!flush.isEnabled()) {
            return null;
        }
        FlushWait e = new FlushWait();
        e.begin();
        return e;
    }

    void commitFlush(Object event, String operation, String target) {
        FlushWait e = (FlushWait) event;
        e.end();
        if (e.shouldCommit()) {
            e.operation = operation;
            e.target = target;
            e.commit();
        }
    }
}
