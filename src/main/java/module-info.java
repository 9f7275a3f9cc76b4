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
    requires java.logging;
    requires jdk.jfr;
    requires java.management;
    requires static org.jspecify;
}
