#!/usr/bin/env bash
# Runs every test of workqueue4j on a fresh machine (JDK 17 + Maven):
#   1. the library's JUnit suite (the bounded stress run and the Lincheck model-checking tests
#      included), then installs the library;
#   2. a compile of the JMH benchmarks (jmh/);
#   3. a quick jcstress pass over the CI set of races (jcstress/ci-tests.regex).
# Fails on any test failure, and on any jcstress test that failed (a FORBIDDEN outcome) or erred
# (a STALE, hung or crashed test).
set -euo pipefail
cd "$(dirname "$0")"
MVN=(mvn -B -ntp)

"${MVN[@]}" install

"${MVN[@]}" -q -f jmh/pom.xml package
echo "jmh: benchmarks compiled to jmh/target/benchmarks.jar"

"${MVN[@]}" -q -f jcstress/pom.xml package
mkdir -p target
log=target/jcstress.log
set +e
java -jar jcstress/target/jcstress.jar -m quick -sc false -jvmArgs "-Xms256m -Xmx256m" \
    -r target/jcstress-results -t "$(cat jcstress/ci-tests.regex)" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# jcstress exits non-zero on a failed test; also insist on its own summary saying so.
if [ "$rc" -ne 0 ] || ! grep -q 'Failed tests: No matches.' "$log" || ! grep -q 'Error tests: No matches.' "$log"; then
    echo "jcstress: failures (exit code $rc); see $log"
    exit 1
fi
echo "jcstress: CI set passed"

# One closing line for the whole run (JUnit totals; the jcstress set passed above).
awk -F'[ ,:]+' '/^Tests run:/ {t+=$3; f+=$5; e+=$7; s+=$9} END {printf "tests: %d passed, %d failed, %d skipped\n", t-f-e-s, f+e, s}' \
    target/surefire-reports/*.txt
