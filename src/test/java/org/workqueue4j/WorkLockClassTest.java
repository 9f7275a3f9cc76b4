package org.workqueue4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.workqueue4j.lockdep.LockClassKey;

/**
 * An item's lock class follows one rule, whatever happened earlier in the JVM (issue 14,
 * defect 6): the class of its function. Items whose functions come from the same lambda or
 * method reference in the source (or are instances of one Runnable class) share a class.
 */
class WorkLockClassTest {

    private static Work fromSiteA(String name) {
        return new Work(name, () -> { });
    }

    private static Work fromSiteB(String name) {
        return new Work(name, () -> { });
    }

    @Test
    void theRuleDoesNotDependOnWhetherAValidatingRuntimeExistedBefore() throws Exception {
        URL[] path = {Path.of("target/classes").toUri().toURL(), Path.of("target/test-classes").toUri().toURL()};
        try (URLClassLoader fresh = new URLClassLoader(path, ClassLoader.getPlatformClassLoader())) {
            Object verdict = fresh.loadClass(WorkClassRuleProbe.class.getName()).getMethod("run").invoke(null);
            assertThat(verdict).isEqualTo("same");
        }
    }

    @Test
    void itemsMadeByOneLambdaShareAClassAndOtherLambdasDoNot() {
        Work a1 = fromSiteA("a1");
        Work a2 = fromSiteA("a2");
        Work b = fromSiteB("b");
        assertThat(a1.lockMap().key()).isSameAs(a2.lockMap().key());
        assertThat(b.lockMap().key()).isNotSameAs(a1.lockMap().key());
        assertThat(a1.lockMap().key().name()).startsWith("(work_completion)WorkLockClassTest$$Lambda");
        assertThat(a1.lockMap().name()).isEqualTo("(work_completion)a1");
    }

    @Test
    void anExplicitKeyWins() {
        LockClassKey k = new LockClassKey("mine");
        assertThat(new Work("x", k, () -> { }).lockMap().key()).isSameAs(k);
    }
}
