#!/usr/bin/env bash
# Builds the library twice, from two copies of the working tree in two different directories, and
# fails unless every jar of the Central set (main, sources, javadoc) and the pom are byte-identical.
# Run by test-all.sh; by hand: .ci/check-reproducible.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MVN=(mvn -B -ntp -q)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The two builds run side by side (each is mostly single-threaded javac and javadoc work).
pids=()
for side in a b; do
    mkdir -p "$work/$side"
    cp -r pom.xml src "$work/$side/"
    [ -d .mvn ] && cp -r .mvn "$work/$side/"
    "${MVN[@]}" -f "$work/$side/pom.xml" -Prelease -DskipTests -Denforcer.skip=false package > "$work/$side.log" 2>&1 &
    pids+=($!)
done
for i in 0 1; do
    if ! wait "${pids[$i]}"; then
        side=$([ "$i" -eq 0 ] && echo a || echo b)
        cat "$work/$side.log"
        echo "release build $side failed"
        exit 1
    fi
done
status=0
for a in "$work"/a/target/*.jar; do
    name=$(basename "$a")
    b="$work/b/target/$name"
    sa=$(sha256sum "$a" | cut -d' ' -f1)
    sb=$(sha256sum "$b" 2>/dev/null | cut -d' ' -f1 || true)
    if [ "$sa" = "$sb" ]; then
        echo "reproducible: $name $sa"
    else
        echo "NOT reproducible: $name ($sa vs ${sb:-missing})"
        status=1
    fi
done
count=$(ls "$work"/a/target/*.jar | wc -l)
if [ "$count" -ne 3 ]; then
    echo "expected 3 jars (main, sources, javadoc), found $count"
    status=1
fi
exit $status
