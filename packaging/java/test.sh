#!/usr/bin/env bash
# Consumer test of the Maven artifacts that packaging/java/build.sh put in $DIST/maven-repo:
#   - the artifacts: jar (<= 10 MiB, a native/<platform>/libidaas_jni.so per platform of
#     packaging/platforms.json), -sources and -javadoc jars, a POM with the metadata a public
#     repository requires (name, description, url, licenses, scm, developers);
#   - each platform's JNI library loaded and called (packaging/java/jni-probe.c built with the
#     platform's cc, run with its "run" prefix: aarch64 under qemu, musl on musl's loader), since
#     only the x86_64 glibc JVM runs here;
#   - a user's Maven project (packaging/java/consumer-project) in a temporary directory, depending
#     on dev.idaas:idaas only: the artifacts installed into a throwaway local repository
#     (install:install-file), the plugins the build needs fetched into it (an online build of a
#     copy of the project), then the project built with `mvn -o -Dmaven.repo.local=<throwaway>` and run against the emulator, with a
#     PATH holding java, mvn and the few shell tools mvn's script uses: no cc, gcc, cargo, rustc.
#
#   packaging/java/test.sh
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
art=$DIST/maven-repo/dev/idaas/idaas/$VERSION
jar=$art/idaas-$VERSION.jar
for c in "" -sources -javadoc; do
  [ -f "$art/idaas-$VERSION$c.jar" ] || { echo "packaging/java/test.sh: $art/idaas-$VERSION$c.jar missing (run packaging/java/build.sh)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'stop_emulator; rm -rf "$work"' EXIT
fail() { echo "FAIL $*" >&2; exit 1; }
MVN="mvn -B -q"

# --- the artifacts
size=$(stat -c %s "$jar")
[ "$size" -le $((10 * 1024 * 1024)) ] || fail "jar is $size bytes (> 10 MiB)"
echo "ok   jar size $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.2f", b / 1048576 }') MiB <= 10 MiB)"
unzip -l "$art/idaas-$VERSION-sources.jar" dev/idaas/IdaasClient.java >/dev/null || fail "sources jar lacks dev/idaas/IdaasClient.java"
unzip -l "$art/idaas-$VERSION-javadoc.jar" index.html dev/idaas/IdaasClient.html >/dev/null || fail "javadoc jar lacks its pages"
echo "ok   sources and javadoc jars"
python3 - "$art/idaas-$VERSION.pom" <<'PY' || fail "POM metadata"
import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
p = ET.parse(sys.argv[1]).getroot()
need = ["m:name", "m:description", "m:url", "m:licenses/m:license/m:name", "m:licenses/m:license/m:url",
        "m:scm/m:url", "m:scm/m:connection", "m:developers/m:developer/m:name"]
missing = [k for k in need if not (p.findtext(k, namespaces=ns) or "").strip()]
if missing:
    sys.exit("missing: " + ", ".join(missing))
if p.findtext("m:licenses/m:license/m:name", namespaces=ns) != "Apache-2.0":
    sys.exit("license is not Apache-2.0")
PY
echo "ok   POM metadata (name, description, url, licenses, scm, developers)"

# --- every platform's JNI library: packaged, loaded, called
jh=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
unzip -q "$jar" 'native/*' -d "$work/jar"
for triple in $(all_triples); do
  platform=$(platform_field "$triple" java)
  cc=$(platform_field "$triple" cc)
  run=$(platform_field "$triple" run)
  so=$work/jar/native/$platform/libidaas_jni.so
  [ -f "$so" ] || fail "$platform: native/$platform/libidaas_jni.so not in the jar"
  "$cc" -std=c11 -Wall -Wextra -Werror -I"$jh/include" -I"$jh/include/linux" \
    "$PKG_ROOT/packaging/java/jni-probe.c" -o "$work/probe-$platform" -ldl
  # shellcheck disable=SC2086
  out=$($run "$work/probe-$platform" "$so" 2>&1) || fail "$platform: $out"
  [ "$out" = "idaas $VERSION" ] || fail "$platform: $out"
  needed=$(readelf -d "$so" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | paste -sd' ' -)
  glibc=$(readelf -V "$so" | { grep -o 'GLIBC_[0-9.]*' || true; } | sort -uV | tail -n1)
  echo "ok   $platform: $(file -b "$so" | cut -d, -f2 | sed 's/^ //') library (needs $needed${glibc:+, $glibc}) loads (RTLD_NOW) in a $cc-built process${run:+ under ${run%% *}} and answers \"$out\""
done

# --- a user's project, offline from a throwaway local repository
m2=$work/m2
proj=$work/get-token
cp -r "$PKG_ROOT/packaging/java/consumer-project" "$proj"
# Seeding (network: the install plugin, then the consumer's plugins and Gson from Maven Central).
$MVN -Dmaven.repo.local="$m2" org.apache.maven.plugins:maven-install-plugin:3.2.0:install-file \
  -Dfile="$jar" -DpomFile="$art/idaas-$VERSION.pom" \
  -Dsources="$art/idaas-$VERSION-sources.jar" -Djavadoc="$art/idaas-$VERSION-javadoc.jar" >"$work/seed.log" 2>&1 \
  || { cat "$work/seed.log" >&2; fail "install-file"; }
# The plugins: one online build of a copy of the project (dependency:go-offline misses what Maven
# resolves while building, e.g. the plexus-utils Maven 3.8 adds to older plugins).
cp -r "$proj" "$work/warm-up"
(cd "$work/warm-up" && $MVN -Dmaven.repo.local="$m2" package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt) >>"$work/seed.log" 2>&1 || { cat "$work/seed.log" >&2; fail "seeding build"; }
echo "ok   throwaway local repository seeded (install:install-file, one online build of a copy)"

bin=$(user_path "$work/bin" java mvn sh dirname uname tr ls expr find cat sed grep readlink)
for t in cc gcc cargo rustc; do
  if PATH=$bin command -v "$t" >/dev/null; then fail "$t on the consumer's PATH"; fi
done
export XDG_CACHE_HOME=$work/cache   # where the loader extracts the library: ours, checked below
(cd "$proj" && env -u JAVA_HOME PATH="$bin" $MVN -o -Dmaven.repo.local="$m2" package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt) >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "offline build"; }
echo "ok   consumer project built offline (mvn -o -Dmaven.repo.local=<throwaway>), no cc/gcc/cargo/rustc on PATH"
(cd "$proj" && env -u JAVA_HOME PATH="$bin" $MVN -o -Dmaven.repo.local="$m2" dependency:copy \
  -Dartifact="dev.idaas:idaas:$VERSION:jar:sources" -DoutputDirectory=target/src \
  && env -u JAVA_HOME PATH="$bin" $MVN -o -Dmaven.repo.local="$m2" dependency:copy \
  -Dartifact="dev.idaas:idaas:$VERSION:jar:javadoc" -DoutputDirectory=target/src) >"$work/src.log" 2>&1 \
  || { cat "$work/src.log" >&2; fail "sources/javadoc offline"; }
echo "ok   sources and javadoc jars resolve offline"

start_emulator "$work"
out=$(cd "$proj" && PATH="$bin" java -cp "target/get-token-1.0.jar:$(cat target/classpath.txt)" example.GetToken 2>&1) \
  || fail "consumer run: $out"
grep -Eq "^idaas $VERSION: token for the default scope: .{12}\.\.\. \([0-9]+ bytes\)$" <<<"$out" || fail "consumer run: $out"
echo "ok   consumer run: $(head -n1 <<<"$out")"
# The library came from the jar (linux-x86_64 here), extracted into the user's cache.
loaded=$(sed -n 's/^native library: //p' <<<"$out")
case $loaded in "$XDG_CACHE_HOME"/idaas-java/libidaas_jni-*.so) ;; *) fail "loaded from $loaded" ;; esac
[ "$(sha256sum <"$loaded")" = "$(sha256sum <"$work/jar/native/linux-x86_64/libidaas_jni.so")" ] \
  || fail "$loaded is not the jar's linux-x86_64 library"
echo "ok   the jar's linux-x86_64 library was chosen and extracted to \$XDG_CACHE_HOME/idaas-java"
echo "packaging/java/test.sh: every Java consumer test passed"
