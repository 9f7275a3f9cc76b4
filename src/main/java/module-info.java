/**
 * workqueue4j: the Linux kernel's concurrency-managed workqueue with a lockdep-style lock
 * dependency validator.
 *
 * <p>{@code org.workqueue4j} is the workqueue API; {@code org.workqueue4j.lockdep} is the
 * validator, usable on its own. {@code org.workqueue4j.internal} is not exported.
 */
module org.workqueue4j {
    exports org.workqueue4j;
    exports org.workqueue4j.lockdep;
    // JFR is optional: without jdk.jfr in the runtime image the events stay off (WorkEvents).
    requires static jdk.jfr;
    // JMX is optional too: without java.management a runtime works, unregistered.
    requires static java.management;
    requires static org.jspecify;
}
