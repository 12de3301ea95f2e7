package dev.idaas;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading in fresh JVMs (the library loads once per JVM). */
class NativeLoaderTest {
    /** Runs dev.idaas.LoaderProbe in a child JVM; returns exit code and output. */
    static String[] probe(List<String> jvmArgs, String xdg) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path")));
        cmd.addAll(jvmArgs);
        cmd.add("dev.idaas.LoaderProbe");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("IDAAS_NATIVE_PATH");
        if (xdg != null) pb.environment().put("XDG_CACHE_HOME", xdg);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new String[] {String.valueOf(p.exitValue()), out};
    }

    @Test
    void extractsIntoAPrivateCacheDirectory(@TempDir Path tmp) throws Exception {
        Path xdg = tmp.resolve("cache");
        String[] r = probe(List.of(), xdg.toString());
        assertEquals("0", r[0], r[1]);
        Path dir = xdg.resolve("idaas-java");
        assertTrue(r[1].contains(dir.toString()), r[1]);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.filter(f -> f.getFileName().toString().matches("libidaas_jni-[0-9a-f]{16}\\.so")).count());
        }
        // a second JVM reuses the verified copy
        r = probe(List.of(), xdg.toString());
        assertEquals("0", r[0], r[1]);
    }

    @Test
    void overrideNamesADirectoryOrAFile(@TempDir Path tmp) throws Exception {
        String[] first = probe(List.of(), tmp.resolve("c").toString());
        assertEquals("0", first[0], first[1]);
        Path extracted;
        try (Stream<Path> s = Files.list(tmp.resolve("c").resolve("idaas-java"))) {
            extracted = s.filter(f -> f.toString().endsWith(".so")).findFirst().orElseThrow();
        }
        Path dir = Files.createDirectory(tmp.resolve("override"));
        Files.copy(extracted, dir.resolve(NativeLoader.LIB_FILE));
        String[] r = probe(List.of("-Didaas.native.path=" + dir), null);
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains(dir.resolve(NativeLoader.LIB_FILE).toString()), r[1]);
        r = probe(List.of("-Didaas.native.path=" + extracted), null);
        assertEquals("0", r[0], r[1]);
    }

    @Test
    void aPlatformTheJarLacksFailsListingThoseItHas(@TempDir Path tmp) throws Exception {
        String[] r = probe(List.of("-Didaas.native.platform=linux-sparc64"), tmp.toString());
        assertNotEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("platform linux-sparc64 (system property idaas.native.platform)"), r[1]);
        assertTrue(r[1].contains("/native/linux-sparc64/libidaas_jni.so: not packaged"), r[1]);
        assertTrue(r[1].contains(NativeLoader.platform().name()), r[1]);
    }

    @Test
    void failureNamesEveryLocationTried(@TempDir Path tmp) throws Exception {
        String[] r = probe(List.of("-Didaas.native.path=" + tmp.resolve("missing")), null);
        assertNotEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("idaas.native.path"), r[1]);
        assertTrue(r[1].contains(tmp.resolve("missing").toString()), r[1]);
        // unwritable extraction dirs: every one is listed, then java.library.path
        Path ro = Files.createDirectory(tmp.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-x------"));
        boolean root = Files.isWritable(ro);
        r = probe(List.of("-Djava.io.tmpdir=" + ro, "-Duser.home=" + ro), ro.toString());
        if (!root) {
            assertNotEquals("0", r[0], r[1]);
            assertTrue(r[1].contains("Tried:"), r[1]);
            assertTrue(r[1].contains(ro.resolve("idaas-java").toString()), r[1]);
            assertTrue(r[1].contains("java.library.path"), r[1]);
        }
    }
}
