#!/usr/bin/env bash
# The Maven artifacts of the Java binding, from the native builds in $DIST:
#   1. per platform of packaging/platforms.json: libidaas_jni.so linked from $DIST/<triple>/lib/libidaas.a
#      with the triple's C compiler ("cc") and system libraries ($DIST/native-static-libs.<triple>),
#      by the binding's own link rule (bindings/java/Makefile jni-link), into native/<"java">/;
#   2. Maven (bindings/java/pom.xml, -Didaas.native.dir=that tree) packages the jar with every
#      platform inside, the -sources and -javadoc jars, and deploys them with the POM into
#      $DIST/maven-repo/, a Maven repository (checksums, maven-metadata.xml): what a public
#      repository receives, and what packaging/java/test.sh installs from.
#
#   packaging/java/build.sh [TRIPLE...]      (default: every triple of packaging/platforms.json)
#
# A release jar lacking a platform is a broken release: a triple whose inputs are missing fails.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
triples=${*:-$(all_triples)}
java_dir=$PKG_ROOT/bindings/java
repo=$DIST/maven-repo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
native=$work/native

for triple in $triples; do
  lib=$DIST/$triple/lib/libidaas.a
  libs=$DIST/native-static-libs.$triple
  for f in "$lib" "$libs"; do
    [ -f "$f" ] || { echo "packaging/java/build.sh: $f missing (run scripts/dist.sh)" >&2; exit 1; }
  done
  cc=$(platform_field "$triple" cc)
  platform=$(platform_field "$triple" java)
  command -v "$cc" >/dev/null || { echo "packaging/java/build.sh: $cc (the C compiler of $triple) not found" >&2; exit 1; }
  # jni.h and jni_md.h come from the build JDK: jni_md.h of linux is the same for every
  # architecture and libc (JNIEXPORT visibility and jint/jlong typedefs only).
  make -s --no-print-directory -C "$java_dir" jni-link LIBIDAAS="$lib" CC="$cc" PLATFORM="$platform" \
    STATIC_LIBS="$(cat "$libs")" NATIVE_DIR="$native"
  echo "packaging/java/build.sh: $platform: $(file -b "$native/$platform/libidaas_jni.so" | cut -d, -f1-2)"
done

# Tests are the binding's own (make -C bindings/java test) and the consumer test: not compiled here.
rm -rf "$repo"
(cd "$java_dir" && mvn -B -q -Dmaven.test.skip=true -Didaas.native.dir="$native" \
  -Didaas.build.dir="$work/target" -DaltDeploymentRepository="dist::file://$repo" deploy)

art=$repo/dev/idaas/idaas/$VERSION
for p in $triples; do
  platform=$(platform_field "$p" java)
  unzip -l "$art/idaas-$VERSION.jar" "native/$platform/libidaas_jni.so" >/dev/null \
    || { echo "packaging/java/build.sh: native/$platform missing from the jar" >&2; exit 1; }
done
for c in "" -sources -javadoc; do
  record_size "idaas-$VERSION$c.jar (Maven)" "$art/idaas-$VERSION$c.jar"
done
echo "packaging/java/build.sh: Maven repository in $repo (dev.idaas:idaas:$VERSION)"
