package org.workqueue4j;

/** {@link ColdStartClassesTest}'s child JVM: the {@code ColdStart} benchmark's sequence, then a marker line. */
final class ColdStartChild {
    static final String DONE = "COLD-START-CHILD: first flush returned";

    private ColdStartChild() {
    }

    public static void main(String[] args) {
        try (WorkQueues rt = WorkQueues.create()) {
            WorkQueue q = rt.system();
            q.queue(new Work("first", () -> { }));
            q.flush();
            System.out.println(DONE);
        }
    }
}
