package org.workqueue4j.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.workqueue4j.FlushAnnotation;
import org.workqueue4j.lockdep.ReportPolicy;

class AgentOptionsTest {

    @Test
    void defaultsInstrumentEverythingOutsideTheJdkAndTheLibrary() {
        AgentOptions o = AgentOptions.parse(null);
        assertThat(o.policy).isEqualTo(ReportPolicy.WARN_ONCE);
        assertThat(o.flush).isEqualTo(FlushAnnotation.SKIP_NEVER_USED);
        assertThat(o.out).isNull();
        assertThat(o.stats).isFalse();
        assertThat(o.instruments("com/acme/Foo")).isTrue();
        assertThat(o.instruments("java/util/concurrent/locks/ReentrantLock")).isFalse();
        assertThat(o.instruments("jdk/internal/misc/Unsafe")).isFalse();
        assertThat(o.instruments("org/workqueue4j/internal/Worker")).isFalse();
        assertThat(o.instruments("org/workqueue4j/agent/Hooks")).isFalse();
        assertThat(o.instruments("org/workqueue4j/lockdep/Lockdep")).isFalse();
        assertThat(o.instruments("org/workqueue4j/WorkQueue")).isFalse();
        assertThat(o.instruments("org/workqueue4j/jmh/NestedLockBenchmark")).isTrue();
    }

    @Test
    void includeAndExcludeArePackagePrefixesNotNamePrefixes() {
        AgentOptions o = AgentOptions.parse("include=com.acme:org.example,exclude=com.acme.generated");
        assertThat(o.instruments("com/acme/Foo")).isTrue();
        assertThat(o.instruments("com/acme/sub/Foo")).isTrue();
        assertThat(o.instruments("com/acmex/Foo")).isFalse();
        assertThat(o.instruments("org/example/Bar")).isTrue();
        assertThat(o.instruments("com/acme/generated/Foo")).isFalse();
        assertThat(o.instruments("net/other/Foo")).isFalse();
    }

    @Test
    void policyFlushOutAndStatsAreParsed() {
        AgentOptions o = AgentOptions.parse("policy=throw,flush=ALWAYS,out=/tmp/lockdep.txt,stats=true");
        assertThat(o.policy).isEqualTo(ReportPolicy.THROW);
        assertThat(o.flush).isEqualTo(FlushAnnotation.ALWAYS);
        assertThat(o.out).isEqualTo(Path.of("/tmp/lockdep.txt"));
        assertThat(o.stats).isTrue();
        assertThat(AgentOptions.parse("out=stderr").out).isNull();
    }

    @Test
    void badOptionsAreRefusedByName() {
        assertThatThrownBy(() -> AgentOptions.parse("polcy=WARN"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option 'polcy'");
        assertThatThrownBy(() -> AgentOptions.parse("policy=LOUD"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("policy=LOUD");
        assertThatThrownBy(() -> AgentOptions.parse("stats"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'stats' is not key=value");
        assertThatThrownBy(() -> AgentOptions.parse("stats=yes"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stats=yes");
        assertThatThrownBy(() -> AgentOptions.parse("include=com.*.acme"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("include=com.*.acme");
    }

    @Test
    void aTrailingWildcardMeansThePackage() {
        AgentOptions o = AgentOptions.parse("include=com.acme.*:org.example.**");
        assertThat(o.instruments("com/acme/Foo")).isTrue();
        assertThat(o.instruments("com/acme/sub/Foo")).isTrue();
        assertThat(o.instruments("org/example/Bar")).isTrue();
        assertThat(o.instruments("net/other/Foo")).isFalse();
    }

    @Test
    void anExplicitIncludeUnderJavaxOrComSunWinsOverTheDefaultExclusion() {
        AgentOptions o = AgentOptions.parse("include=javax.servlet:com.acme");
        assertThat(o.instruments("javax/servlet/GenericServlet")).isTrue();
        assertThat(o.instruments("javax/swing/JFrame")).isFalse();
        assertThat(o.instruments("com/acme/Foo")).isTrue();
        assertThat(AgentOptions.parse(null).instruments("javax/servlet/GenericServlet")).isFalse();
        assertThat(AgentOptions.parse("include=java.util").instruments("java/util/HashMap")).isFalse();
    }
}
