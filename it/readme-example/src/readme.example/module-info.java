/** The README's "Twenty lines", as a program: run on a runtime image without jdk.jfr. */
module readme.example {
    requires org.workqueue4j;
}
