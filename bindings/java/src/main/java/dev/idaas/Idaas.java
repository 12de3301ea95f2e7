package dev.idaas;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Process-wide functions: version, logging, PLUGIN registration, the default executor.
 *
 * <p>Logging: the library's log records go to {@link System.Logger}s named after the emitting module
 * ({@code idaas::cache} → {@code "idaas.cache"}). The most verbose level forwarded is set with
 * {@link #setLogLevel} (initially the system property {@code idaas.log.level}: {@code OFF},
 * {@code ERROR}, {@code WARNING} (default), {@code INFO}, {@code DEBUG}, {@code TRACE}).
 */
public final class Idaas {
    private Idaas() {}

    private static final Executor DEFAULT_EXECUTOR;

    static {
        Native.init();
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(
                Math.max(4, Runtime.getRuntime().availableProcessors()),
                Math.max(4, Runtime.getRuntime().availableProcessors()),
                30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "idaas-async-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        DEFAULT_EXECUTOR = pool;
        Level initial;
        try {
            initial = Level.valueOf(System.getProperty("idaas.log.level", "WARNING").trim().toUpperCase());
        } catch (IllegalArgumentException e) {
            initial = Level.WARNING;
        }
        try {
            setLogLevel(initial);
        } catch (IdaasException e) {
            // another Rust logger owns the process: nothing to forward
        }
    }

    /** Loads the native library now (otherwise it loads on first use); throws UnsatisfiedLinkError. */
    public static void load() {}

    /** The library version (e.g. {@code "0.1.0"}). */
    public static String version() {
        return new String(Native.version(), StandardCharsets.UTF_8);
    }

    /** Where the native library was loaded from. */
    public static String nativeLibraryLocation() {
        return NativeLoader.loadedFrom();
    }

    /** The shared daemon pool used by the {@code *Async} methods when no executor is given. */
    public static Executor defaultExecutor() {
        return DEFAULT_EXECUTOR;
    }

    /**
     * The most verbose library level forwarded to {@link System.Logger} ({@code OFF} / {@code ALL}
     * included); the loggers' own configuration still filters.
     */
    public static void setLogLevel(Level level) {
        Objects.requireNonNull(level, "level");
        int abi = switch (level) {
            case OFF -> 0;
            case ERROR -> 1;
            case WARNING -> 2;
            case INFO -> 3;
            case DEBUG -> 4;
            case TRACE, ALL -> 5;
        };
        Native.setLogger(abi);
    }

    /**
     * Registers {@code plugin} as the PLUGIN token source {@code name} for clients created afterwards
     * (re-registering replaces it for later clients; the plugin stays reachable for the life of the
     * process, as the library may call it from any client built with it).
     */
    public static void registerPlugin(String name, TokenPlugin plugin) {
        Native.registerPlugin(name, plugin);
    }

    /** Test hook: a panic inside the library ({@code IDAAS_CODE_PANIC} in test-hooks builds, else UNSUPPORTED). */
    static void debugPanic() {
        Native.debugPanic();
    }
}
