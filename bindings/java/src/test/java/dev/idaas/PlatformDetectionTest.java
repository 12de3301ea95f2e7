package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** NativeLoader.detect with injected os.name / os.arch, /proc/self/maps lines and files on disk. */
class PlatformDetectionTest {
    // Excerpts of /proc/self/maps of real JVMs.
    static final List<String> DEBIAN_JVM = List.of(
            "55d4c8a00000-55d4c8a01000 r--p 00000000 fd:01 1837  /usr/lib/jvm/java-17-openjdk-amd64/bin/java",
            "7f0e1c000000-7f0e1c021000 rw-p 00000000 00:00 0",
            "7f0e2a828000-7f0e2a850000 r--p 00000000 fd:01 2040  /usr/lib/x86_64-linux-gnu/libc.so.6",
            "7f0e2aa3c000-7f0e2aa3e000 r--p 00000000 fd:01 2021  /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            "7ffd5b9e2000-7ffd5ba03000 rw-p 00000000 00:00 0                          [stack]");
    static final List<String> ALPINE_JVM = List.of(
            "5617a5c00000-5617a5c01000 r--p 00000000 00:3a 1234  /usr/lib/jvm/java-17-openjdk/bin/java",
            "7f5c3a4a4000-7f5c3a4b8000 r--p 00000000 00:3a 2345  /usr/lib/jvm/java-17-openjdk/lib/server/libjvm.so",
            "7f5c3b6d0000-7f5c3b6e4000 r--p 00000000 00:3a 3456  /lib/ld-musl-x86_64.so.1",
            "7ffe2e9d7000-7ffe2e9f8000 rw-p 00000000 00:00 0                          [stack]");
    static final List<String> ALPINE_GCOMPAT_JVM = List.of(
            "7f5c3b000000-7f5c3b010000 r--p 00000000 00:3a 9999  /lib/libc.so.6",
            "7f5c3b6d0000-7f5c3b6e4000 r--p 00000000 00:3a 3456  /lib/ld-musl-x86_64.so.1");
    static final List<String> AARCH64_GLIBC_JVM = List.of(
            "ffff8e5a0000-ffff8e728000 r-xp 00000000 fd:01 4242  /usr/lib/aarch64-linux-gnu/libc.so.6");

    static String detect(String os, String arch, List<String> maps, Set<String> files) {
        return NativeLoader.detect(os, arch, maps, files::contains).name();
    }

    @Test
    void glibcFromTheJvmMappings() {
        NativeLoader.Platform p = NativeLoader.detect("Linux", "amd64", DEBIAN_JVM, f -> true);
        assertEquals("linux-x86_64", p.name());
        assertTrue(p.reason().contains("/usr/lib/x86_64-linux-gnu/libc.so.6"), p.reason());
        assertEquals("linux-aarch64", detect("Linux", "aarch64", AARCH64_GLIBC_JVM, Set.of()));
    }

    @Test
    void muslFromTheJvmMappingsWinsOverFilesAndGcompat() {
        // files say glibc (a glibc loader present), the process is musl: the mappings decide
        NativeLoader.Platform p = NativeLoader.detect("Linux", "amd64", ALPINE_JVM, f -> true);
        assertEquals("linux-x86_64-musl", p.name());
        assertTrue(p.reason().contains("/lib/ld-musl-x86_64.so.1"), p.reason());
        assertEquals("linux-x86_64-musl", detect("Linux", "amd64", ALPINE_GCOMPAT_JVM, Set.of()));
        assertEquals("linux-aarch64-musl", detect("Linux", "aarch64",
                List.of("7f-8f r-xp 0 00:1 1 /lib/ld-musl-aarch64.so.1"), Set.of()));
    }

    @Test
    void filesWhenTheMappingsAreUnreadableOrSilent() {
        // Alpine: the musl loader only
        NativeLoader.Platform p = NativeLoader.detect("Linux", "amd64", null, Set.of("/lib/ld-musl-x86_64.so.1")::contains);
        assertEquals("linux-x86_64-musl", p.name());
        assertTrue(p.reason().contains("/proc/self/maps unreadable"), p.reason());
        assertEquals("linux-x86_64-musl", detect("Linux", "amd64", List.of("0-1 r--p 0 0:0 0 [vdso]"),
                Set.of("/lib/ld-musl-x86_64.so.1")));
        // Debian with musl-tools installed: a musl loader next to glibc's is a cross toolchain
        assertEquals("linux-x86_64", detect("Linux", "amd64", null,
                Set.of("/lib/ld-musl-x86_64.so.1", "/lib64/ld-linux-x86-64.so.2")));
        assertEquals("linux-aarch64", detect("Linux", "aarch64", null,
                Set.of("/lib/ld-musl-aarch64.so.1", "/lib/ld-linux-aarch64.so.1")));
        // nothing known: glibc, the common case, and the reason says it was assumed
        p = NativeLoader.detect("Linux", "x86_64", null, f -> false);
        assertEquals("linux-x86_64", p.name());
        assertTrue(p.reason().contains("glibc assumed"), p.reason());
    }

    @Test
    void osAndArchNames() {
        assertEquals("linux-x86_64", detect("Linux", "x86_64", DEBIAN_JVM, Set.of()));
        assertEquals("linux-aarch64", detect("Linux", "arm64", AARCH64_GLIBC_JVM, Set.of()));
        assertEquals("macos-aarch64", detect("Mac OS X", "aarch64", null, Set.of()));
        assertEquals("windows-x86_64", detect("Windows 11", "amd64", null, Set.of()));
        assertEquals("linux-riscv64", detect("Linux", "riscv64", null, Set.of()));
    }

    @Test
    void thisJvm() {
        NativeLoader.Platform p = NativeLoader.platform();
        // the platform the tests' library was built for is the one detected here
        assertTrue(NativeLoader.packagedPlatforms().contains(p.name()), p + " " + NativeLoader.packagedPlatforms());
    }
}
