package dev.idaas;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Loads {@code libidaas_jni.so}.
 *
 * <ol>
 *   <li>The override: system property {@code idaas.native.path}, else environment variable
 *       {@code IDAAS_NATIVE_PATH}, naming the library file or a directory holding it. When set, only
 *       it is tried.</li>
 *   <li>The copy packaged in the jar under {@code native/<os>-<arch>/}, extracted (content-addressed
 *       file name, verified by SHA-256) into a private directory (owner-only permissions):
 *       {@code $XDG_CACHE_HOME/idaas-java}, {@code ~/.cache/idaas-java}, then
 *       {@code <java.io.tmpdir>/idaas-java-<user>} - the next one is tried when a directory is not
 *       writable or is mounted {@code noexec}.</li>
 *   <li>{@code System.loadLibrary("idaas_jni")} ({@code java.library.path}).</li>
 * </ol>
 * When nothing loads, the {@link UnsatisfiedLinkError} names every location tried and why it failed.
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

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") ? "macos" : os.contains("win") ? "windows" : os;
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return o + "-" + a;
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
        String resource = "/native/" + platform() + "/" + LIB_FILE;
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
        StringBuilder sb = new StringBuilder("idaas: cannot load the native library " + LIB_FILE + " for "
                + platform() + ". Set the system property idaas.native.path (or IDAAS_NATIVE_PATH) to the"
                + " library file or a directory holding it (an executable, non-noexec location). Tried:");
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
                tried.add("jar resource " + resource + ": not packaged (unsupported platform?)");
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
