/** Must not compile: the engine package is not exported. */
module org.workqueue4j.consumer.bad {
    requires org.workqueue4j;
}
