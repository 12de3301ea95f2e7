package dev.idaas;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The entry point, {@link #init()}, and the process-wide functions (version, logging, the default
 * executor).
 *
 * <pre>{@code
 * try (IdaasClient client = Idaas.init()) {          // CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json
 *     String bearer = client.getBearerToken();
 * }
 * }</pre>
 *
 * <p>Logging: unless a configuration has a logger of its own ({@link IdaasConfig#setLogger}), the
 * library's log records go to {@link System.Logger}s named after the emitting module
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

    /**
     * A client from the reference SDKs' configuration lookup: the file named by the environment
     * variable {@code CLOUD_IDAAS_CONFIG_PATH}, else {@code ~/.cloud_idaas/client-config.json}. No
     * network I/O: the first token is fetched by the first {@link IdaasClient#getBearerToken()}.
     *
     * <p>For plugins, a logger of the client's own or client options, use {@link IdaasConfig} and
     * {@link IdaasClient#builder(IdaasConfig)}.
     *
     * @throws IdaasConfigException no file, unreadable, or invalid content; the message says which
     *                              check failed (and, when only {@code ~/.cloud_idaas/client_config.json}
     *                              exists, that it must be renamed)
     */
    public static IdaasClient init() {
        try (IdaasConfig config = IdaasConfig.load()) {
            return IdaasClient.builder(config).build();
        }
    }

    /** {@link #init()} with the configuration file at {@code configPath}. */
    public static IdaasClient init(Path configPath) {
        try (IdaasConfig config = IdaasConfig.load(configPath)) {
            return IdaasClient.builder(config).build();
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
     * included) by the process-wide log callback ({@code idaas_log_set_callback}), which receives the
     * records of clients without a logger of their own and those of the HTTP stack; the loggers' own
     * configuration still filters.
     */
    public static void setLogLevel(Level level) {
        Objects.requireNonNull(level, "level");
        Native.logSetCallback(Callbacks.abiLevel(level));
    }

    /** Test hook: a panic inside the library ({@code IDAAS_CODE_PANIC} in test-hooks builds, else UNSUPPORTED). */
    static void debugPanic() {
        Native.debugPanic();
    }
}
