#!/usr/bin/env bash
# Consumer smoke test: a tiny program (.ci/consumer/) compiled with -Xlint:all -Werror and run
# against the built library jar, once on the module path and once on the class path; plus a
# program that reaches into org.workqueue4j.internal, which must NOT compile on the module path.
# Needs target/workqueue4j-*.jar (mvn package). Run by test-all.sh; by hand: .ci/consumer-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jar=$(ls target/workqueue4j-*.jar | grep -v -e '-sources' -e '-javadoc' | head -1)
src=.ci/consumer/src/org.workqueue4j.consumer
out=target/consumer
rm -rf "$out"
mkdir -p "$out/mp" "$out/cp"

# Module path: the consumer is a named module requiring org.workqueue4j.
javac -Xlint:all -Werror --release 17 --module-path "$jar" -d "$out/mp" $(find "$src" -name '*.java')
java --module-path "$jar:$out/mp" -m org.workqueue4j.consumer/org.workqueue4j.consumer.Main module

# Class path: the same program without its module descriptor.
javac -Xlint:all -Werror --release 17 -cp "$jar" -d "$out/cp" $(find "$src" -name '*.java' ! -name module-info.java)
java -cp "$jar:$out/cp" org.workqueue4j.consumer.Main class

# Encapsulation: the internal package is not reachable from a module.
if javac --release 17 --module-path "$jar" -d "$out/bad" $(find .ci/consumer/negative -name '*.java') 2> "$out/bad.log"; then
    echo "consumer: a module compiled against org.workqueue4j.internal; it must not be exported"
    exit 1
fi
grep -q 'package org.workqueue4j.internal is not visible' "$out/bad.log" \
    || { cat "$out/bad.log"; echo "consumer: the negative compile failed for another reason"; exit 1; }
echo "consumer: org.workqueue4j.internal is not visible to a module (as intended)"
