#!/usr/bin/env bash
# Runs every test of workqueue4j on a fresh machine (JDK 17 + Maven):
#   1. the library's JUnit suite (the bounded stress run and the Lincheck model-checking tests
#      included) on JDK 17, then installs the
#      library; the same suite again on JDK 25 against the same class files (JDK25_HOME, default
#      Temurin 25; skipped with a SKIPPED notice on a machine without it); the README example on
#      a runtime image without jdk.jfr (it/no-jfr-image.sh); the consumer smoke test
#      (.ci/consumer-smoke.sh: module path and class path);
#   2. the examples (examples/: their tests, then one run of the demo) and a compile of the JMH
#      benchmarks (jmh/);
#   3. the Java agent (agent/): its jar is built and its sample programs run in forked JVMs with it;
#   4. a quick jcstress pass over the CI set of races (jcstress/ci-tests.regex);
#   5. the reproducibility check: two release builds of this tree are byte-identical.
# Fails on any test failure, and on any jcstress test that failed (a FORBIDDEN outcome) or erred
# (a STALE, hung or crashed test).
set -euo pipefail
cd "$(dirname "$0")"
MVN=(mvn -B -ntp)

"${MVN[@]}" install

# The README example on a JDK 17 image without jdk.jfr, module path and class path (a few seconds).
it/no-jfr-image.sh

# JDK 25: the suite once more, chosen by JAVA_HOME, against the class files JDK 17's javac built.
jdk25=${JDK25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
rm -rf target/surefire-reports-jdk25
if [ -x "$jdk25/bin/java" ]; then
    # The long randomized runs (stress ledger, model checking) run once, on JDK 17, above.
    JAVA_HOME="$jdk25" "${MVN[@]}" surefire:test -Dsurefire.reportsDirectory=target/surefire-reports-jdk25 \
        -Dtest='!StressTest,!QueueModelCheckTest' -Dsurefire.failIfNoSpecifiedTests=false
    echo "junit: suite passed on JDK 25 ($jdk25)"
else
    echo "junit: no JDK 25 at $jdk25; JDK 25 run SKIPPED (set JDK25_HOME)"
fi

.ci/consumer-smoke.sh

"${MVN[@]}" -q -f examples/pom.xml package
java -jar examples/target/workqueue4j-demo.jar > target/demo.log 2>&1 || { cat target/demo.log; echo "demo: failed"; exit 1; }
echo "examples: tests passed, demo ran (output in target/demo.log)"

"${MVN[@]}" -q -f jmh/pom.xml package
echo "jmh: benchmarks compiled to jmh/target/benchmarks.jar"

"${MVN[@]}" -q -f agent/pom.xml verify
echo "agent: agent/target/workqueue4j-agent.jar built; sample programs verified with it"

"${MVN[@]}" -q -f jcstress/pom.xml package
mkdir -p target
log=target/jcstress.log
set +e
java -jar jcstress/target/jcstress.jar -m quick -f 1 -sc false -jvmArgs "-Xms256m -Xmx256m" \
    -r target/jcstress-results -t "$(cat jcstress/ci-tests.regex)" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# jcstress exits non-zero on a failed test; also insist on its own summary saying so.
if [ "$rc" -ne 0 ] || ! grep -q 'Failed tests: No matches.' "$log" || ! grep -q 'Error tests: No matches.' "$log"; then
    echo "jcstress: failures (exit code $rc); see $log"
    exit 1
fi
echo "jcstress: CI set passed"

.ci/check-reproducible.sh

# One closing line for the whole run (JUnit totals; the jcstress set passed above).
awk -F'[ ,:]+' '/^Tests run:/ {t+=$3; f+=$5; e+=$7; s+=$9} END {printf "tests: %d passed, %d failed, %d skipped\n", t-f-e-s, f+e, s}' \
    target/surefire-reports/*.txt target/surefire-reports-jdk25/*.txt examples/target/surefire-reports/*.txt \
    agent/target/surefire-reports/*.txt agent/target/failsafe-reports/*.txt
