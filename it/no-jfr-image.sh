#!/usr/bin/env bash
# The README example on a JDK 17 runtime image without jdk.jfr (jlink --add-modules java.base),
# on the module path and on the class path; then, on the full JDK, checks that running items
# loads none of the JFR event classes while no recording is on. Needs the library jar
# (mvn install or mvn package first). Takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
JDK=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
JAR=$(ls target/workqueue4j-*.jar | grep -v -e sources -e javadoc | head -1)
OUT=target/no-jfr
rm -rf "$OUT"
mkdir -p "$OUT"
"$JDK/bin/jlink" --add-modules java.base --strip-debug --no-header-files --no-man-pages --output "$OUT/image"
if "$OUT/image/bin/java" --list-modules | grep -q '^jdk.jfr'; then
    echo "no-jfr: the image has jdk.jfr"; exit 1
fi
"$JDK/bin/javac" --release 17 -d "$OUT/classes" --module-path "$JAR" \
    $(find it/readme-example/src/readme.example -name '*.java')
echo "no-jfr: module path"
"$OUT/image/bin/java" --module-path "$JAR:$OUT/classes" -m readme.example/org.workqueue4j.example.ReadmeExample
echo "no-jfr: class path"
"$OUT/image/bin/java" -cp "$JAR:$OUT/classes" org.workqueue4j.example.ReadmeExample
echo "full JDK: no JFR event class loaded while nothing records"
"$JDK/bin/java" -Xlog:class+load=info -cp "$JAR:$OUT/classes" org.workqueue4j.example.ReadmeExample > "$OUT/classload.log"
grep -q 'OK: ' "$OUT/classload.log"
if grep -E "org.workqueue4j.internal.JfrEvents|jdk.jfr.internal" "$OUT/classload.log"; then
    echo "no-jfr: JFR was bootstrapped or its event classes loaded without a recording"; exit 1
fi
echo "no-jfr: passed"
