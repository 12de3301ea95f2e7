package dev.idaas;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.CodeSource;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Loads {@code libidaas_jni.so}.
 *
 * <ol>
 *   <li>The override: system property {@code idaas.native.path}, else environment variable
 *       {@code IDAAS_NATIVE_PATH}, naming the library file or a directory holding it. When set, only
 *       it is tried.</li>
 *   <li>The copy packaged in the jar under {@code native/<platform>/} ({@link #detect}: linux-x86_64,
 *       linux-aarch64, linux-x86_64-musl; system property {@code idaas.native.platform} names one
 *       instead), extracted (content-addressed file name, verified by SHA-256) into a private
 *       directory (owner-only permissions): {@code $XDG_CACHE_HOME/idaas-java},
 *       {@code ~/.cache/idaas-java}, then {@code <java.io.tmpdir>/idaas-java-<user>} - the next one
 *       is tried when a directory is not writable or is mounted {@code noexec}.</li>
 *   <li>{@code System.loadLibrary("idaas_jni")} ({@code java.library.path}).</li>
 * </ol>
 * When nothing loads, the {@link UnsatisfiedLinkError} names the platform detected and why, the
 * platforms the jar carries, and every location tried and why it failed.
 */
final class NativeLoader {
    static final String LIB_FILE = "libidaas_jni.so";
    private static final Set<PosixFilePermission> DIR_PERMS = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_PERMS = PosixFilePermissions.fromString("r-x------");
    private static volatile String loadedFrom;

    private NativeLoader() {}

    static String loadedFrom() {
        return loadedFrom;
    }

    /** The jar folder to load ({@code native/<platform>/}) and how it was chosen. */
    record Platform(String name, String reason) {}

    /** This JVM's platform: {@link #detect} on the running system, unless idaas.native.platform names one. */
    static Platform platform() {
        String forced = System.getProperty("idaas.native.platform");
        if (forced != null && !forced.isBlank()) {
            return new Platform(forced.trim(), "system property idaas.native.platform");
        }
        List<String> maps;
        try {
            maps = Files.readAllLines(Paths.get("/proc/self/maps"));
        } catch (IOException | RuntimeException e) {
            maps = null;
        }
        return detect(System.getProperty("os.name", ""), System.getProperty("os.arch", ""), maps,
                f -> Files.exists(Paths.get(f)));
    }

    /**
     * The platform folder name: {@code <os>-<arch>}, plus {@code -musl} on Linux with musl libc (the
     * names of packaging/platforms.json). The C library is the one this process runs on: the JVM's
     * own mappings ({@code /proc/self/maps}: musl's loader {@code ld-musl-*.so.1}, which is also its
     * libc, or glibc's {@code libc.so.6}); when they are unreadable or name neither, the files on disk
     * ({@code /lib/ld-musl-<arch>.so.1} without a glibc loader: an Alpine-like system, where a musl
     * loader next to glibc's is only a cross toolchain). Inputs are parameters so tests can inject them.
     *
     * @param maps the lines of /proc/self/maps, or null when unreadable
     * @param exists whether a file exists
     */
    static Platform detect(String osName, String osArch, List<String> maps, Predicate<String> exists) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") ? "macos" : os.contains("win") ? "windows" : os;
        String a = switch (arch) {
            case "amd64", "x86_64", "x86-64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        String base = o + "-" + a;
        String props = "os.name=" + osName + ", os.arch=" + osArch;
        if (!o.equals("linux")) return new Platform(base, props);
        if (maps != null) {
            // musl wins over a libc.so.6 also mapped (gcompat, musl's glibc shim, provides one).
            String musl = null, glibc = null;
            for (String line : maps) {
                int slash = line.indexOf('/');
                if (slash < 0) continue;
                String path = line.substring(slash);
                String file = path.substring(path.lastIndexOf('/') + 1);
                if (musl == null && (file.startsWith("ld-musl-") || file.startsWith("libc.musl-"))) musl = path;
                if (glibc == null && file.equals("libc.so.6")) glibc = path;
            }
            if (musl != null) return new Platform(base + "-musl", props + ", musl libc: the JVM maps " + musl);
            if (glibc != null) return new Platform(base, props + ", glibc: the JVM maps " + glibc);
        }
        String why = maps == null ? "/proc/self/maps unreadable" : "/proc/self/maps names no libc";
        String muslLoader = "/lib/ld-musl-" + a + ".so.1";
        List<String> glibcLoaders = List.of("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1",
                "/lib/ld-linux-x86-64.so.2", "/lib64/ld-linux-aarch64.so.1");
        String glibc = glibcLoaders.stream().filter(exists).findFirst().orElse(null);
        if (glibc == null && exists.test(muslLoader)) {
            return new Platform(base + "-musl", props + ", musl libc: " + why + ", " + muslLoader
                                                + " present and no glibc loader");
        }
        return new Platform(base, props + ", glibc assumed: " + why
                                  + (glibc != null ? ", " + glibc + " present" : ", no musl loader " + muslLoader));
    }

    /**
     * The platform folders packaged next to this class (native/*&#47;libidaas_jni.so), for the error
     * message; empty when they cannot be listed.
     */
    static List<String> packagedPlatforms() {
        List<String> found = new ArrayList<>();
        try {
            CodeSource cs = NativeLoader.class.getProtectionDomain().getCodeSource();
            if (cs == null || cs.getLocation() == null) return found;
            Path where = Paths.get(cs.getLocation().toURI());
            if (Files.isDirectory(where)) {
                Path nat = where.resolve("native");
                if (Files.isDirectory(nat)) {
                    try (Stream<Path> s = Files.list(nat)) {
                        s.filter(d -> Files.isRegularFile(d.resolve(LIB_FILE)))
                                .forEach(d -> found.add(d.getFileName().toString()));
                    }
                }
            } else {
                try (JarFile jar = new JarFile(where.toFile())) {
                    jar.stream().map(JarEntry::getName)
                            .filter(n -> n.startsWith("native/") && n.endsWith("/" + LIB_FILE))
                            .forEach(n -> found.add(n.substring("native/".length(), n.length() - LIB_FILE.length() - 1)));
                }
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            // only for the message
        }
        found.sort(null);
        return found;
    }

    static synchronized void load() {
        if (loadedFrom != null) return;
        List<String> tried = new ArrayList<>();
        String override = System.getProperty("idaas.native.path");
        String origin = "system property idaas.native.path";
        if (override == null || override.isBlank()) {
            override = System.getenv("IDAAS_NATIVE_PATH");
            origin = "environment variable IDAAS_NATIVE_PATH";
        }
        if (override != null && !override.isBlank()) {
            Path p = Paths.get(override);
            if (Files.isDirectory(p)) p = p.resolve(LIB_FILE);
            if (tryLoad(p, origin, tried)) return;
            throw failure(tried);
        }
        Platform platform = platform();
        tried.add("platform " + platform.name() + " (" + platform.reason() + ")");
        String resource = "/native/" + platform.name() + "/" + LIB_FILE;
        byte[] lib = readResource(resource, tried);
        if (lib != null) {
            String hash = sha256(lib);
            for (Path dir : extractionDirs()) {
                Path file;
                try {
                    file = extract(dir, lib, hash);
                } catch (IOException | RuntimeException e) {
                    tried.add(dir + " (extracting " + resource + "): " + e);
                    continue;
                }
                if (tryLoad(file, "extracted from the jar", tried)) return;
            }
        }
        try {
            System.loadLibrary("idaas_jni");
            loadedFrom = "java.library.path";
            return;
        } catch (UnsatisfiedLinkError e) {
            tried.add("System.loadLibrary(\"idaas_jni\") with java.library.path="
                      + System.getProperty("java.library.path") + ": " + e.getMessage());
        }
        throw failure(tried);
    }

    private static UnsatisfiedLinkError failure(List<String> tried) {
        StringBuilder sb = new StringBuilder("idaas: cannot load the native library " + LIB_FILE
                + ". Set the system property idaas.native.path (or IDAAS_NATIVE_PATH) to the library file"
                + " or a directory holding it (an executable, non-noexec location), or idaas.native.platform"
                + " to one of the platforms this jar carries: " + packagedPlatforms() + ". Tried:");
        for (String t : tried) sb.append("\n  - ").append(t);
        return new UnsatisfiedLinkError(sb.toString());
    }

    private static boolean tryLoad(Path file, String origin, List<String> tried) {
        if (!Files.isRegularFile(file)) {
            tried.add(file + " (" + origin + "): no such file");
            return false;
        }
        try {
            System.load(file.toAbsolutePath().toString());
            loadedFrom = file.toAbsolutePath().toString();
            return true;
        } catch (UnsatisfiedLinkError e) {
            tried.add(file + " (" + origin + "): " + e.getMessage());
            return false;
        }
    }

    private static byte[] readResource(String resource, List<String> tried) {
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                tried.add("jar resource " + resource + ": not packaged (the jar carries " + packagedPlatforms()
                          + ")");
                return null;
            }
            return in.readAllBytes();
        } catch (IOException e) {
            tried.add("jar resource " + resource + ": " + e);
            return null;
        }
    }

    private static List<Path> extractionDirs() {
        List<Path> dirs = new ArrayList<>();
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Paths.get(xdg).isAbsolute()) dirs.add(Paths.get(xdg, "idaas-java"));
        String home = System.getProperty("user.home");
        if (home != null && !home.isBlank() && !home.equals("?")) dirs.add(Paths.get(home, ".cache", "idaas-java"));
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        dirs.add(Paths.get(System.getProperty("java.io.tmpdir"), "idaas-java-" + user));
        return dirs;
    }

    private static Path extract(Path dir, byte[] lib, String hash) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_PERMS));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // created concurrently: checked below
            }
        }
        // A private directory: ours, not a symlink, owner-only.
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) throw new IOException("not a directory");
        String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
        if (!owner.equals(System.getProperty("user.name"))) throw new IOException("owned by " + owner);
        if (!Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(DIR_PERMS)) {
            Files.setPosixFilePermissions(dir, DIR_PERMS);
        }
        Path file = dir.resolve("libidaas_jni-" + hash.substring(0, 16) + ".so");
        if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            if (sha256(Files.readAllBytes(file)).equals(hash)) return file;
            Files.delete(file);
        }
        Path tmp = Files.createTempFile(dir, "libidaas_jni-", ".tmp", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(tmp, lib);
            Files.setPosixFilePermissions(tmp, FILE_PERMS);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return file;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
