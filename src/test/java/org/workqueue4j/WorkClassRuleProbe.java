package org.workqueue4j;

import org.workqueue4j.lockdep.Lockdep;

/**
 * Runs in a fresh class loader (see {@link WorkLockClassTest}), so that no validating runtime
 * has existed in it yet: one item is made before the first validating runtime, one after, both
 * by the same source line. Uses only the JDK and the library.
 */
public final class WorkClassRuleProbe {
    private WorkClassRuleProbe() {
    }

    private static Work make(String name) {
        return new Work(name, () -> { });
    }

    /** Returns "same" if both items got one lock class, else both class names. */
    public static String run() {
        Work before = make("before");
        try (WorkQueues rt = WorkQueues.create(WorkQueuesConfig.builder().cpus(1)
                .validator(Lockdep.builder().quiet().build()).build())) {
            Work after = make("after");
            return before.lockMap().key() == after.lockMap().key() ? "same"
                    : before.lockMap().key() + " / " + after.lockMap().key();
        }
    }
}
