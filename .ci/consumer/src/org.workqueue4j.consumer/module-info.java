/** A minimal consumer of the published jar, compiled and run on the module path by consumer-smoke.sh. */
module org.workqueue4j.consumer {
    requires org.workqueue4j;
}
