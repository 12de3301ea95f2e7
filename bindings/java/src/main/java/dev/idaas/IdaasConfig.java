package dev.idaas;

import java.lang.System.Logger.Level;
import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A validated configuration ({@code idaas_config}, the JSON of {@code client-config.json}) plus the
 * token plugins and the logger of the clients made from it — the advanced way to start, when
 * {@link Idaas#init()} is not enough:
 *
 * <pre>{@code
 * try (IdaasConfig config = IdaasConfig.load(Path.of("client-config.json"))) {
 *     config.addPlugin("vault", scope -> new PluginToken(vault.tokenFor(scope), 3600));
 *     config.setLogger(IdaasLogger.systemLoggers(), Level.DEBUG);
 *     client = IdaasClient.builder(config).prefetch(true).build();
 * }
 * }</pre>
 *
 * <p>A client takes a copy of the configuration with its plugins and logger: the config may be
 * closed right after building clients, and changes made afterwards apply to later clients only. A
 * plugin or logger object stays reachable while the config or a client made from it needs it, and
 * no longer: the library releases it then. Thread-safe (a change waits for the clients being
 * created); {@link AutoCloseable} with a {@link Cleaner} backstop.
 */
public final class IdaasConfig implements AutoCloseable {
    final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;
    /**
     * The ABI forbids changing a config while another call uses it: changes take the write lock,
     * client creation the read lock (so clients, also ones a plugin makes during a prefetch, are
     * created concurrently).
     */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    private IdaasConfig(long ptr) {
        this.handle = new NativeHandle(ptr, Native::configFree, "IdaasConfig");
        this.cleanable = handle.register(this);
    }

    /**
     * The reference SDKs' lookup ({@code idaas_config_load(NULL)}): the file named by
     * {@code CLOUD_IDAAS_CONFIG_PATH}, else {@code ~/.cloud_idaas/client-config.json}.
     *
     * @throws IdaasConfigException no file, unreadable, or invalid content (the message says which
     *                              check failed)
     */
    public static IdaasConfig load() {
        Idaas.load();
        return new IdaasConfig(Native.configLoad(null));
    }

    /** The configuration file at {@code path} (a leading {@code ~} is expanded). */
    public static IdaasConfig load(Path path) {
        Objects.requireNonNull(path, "path (use load() for the default lookup)");
        Idaas.load();
        return new IdaasConfig(Native.configLoad(path.toString()));
    }

    /** Configuration JSON text (camelCase keys; snake_case aliases accepted). */
    public static IdaasConfig fromJson(String json) {
        Objects.requireNonNull(json, "json");
        Idaas.load();
        return new IdaasConfig(Native.configFromJson(json));
    }

    /**
     * Adds the token plugin {@code name} ({@code idaas_config_add_plugin}): clients made afterwards
     * from a configuration with {@code "authnMethod": "PLUGIN", "pluginName": name} get their tokens
     * from {@code plugin}. Adding a name again replaces it for later clients.
     *
     * @throws IdaasInvalidArgumentException a null or blank name, a null plugin
     */
    public IdaasConfig addPlugin(String name, TokenPlugin plugin) {
        lock.writeLock().lock();
        try {
            long p = handle.acquire();
            try {
                Native.configAddPlugin(p, name, plugin);
            } finally {
                handle.release();
            }
        } finally {
            lock.writeLock().unlock();
        }
        return this;
    }

    /**
     * Sends the log records of the clients made from this configuration afterwards (and of their PAM
     * clients and providers) to {@code logger} instead of the process-wide forwarding of
     * {@link Idaas#setLogLevel}; {@code maxLevel} is the most verbose level delivered ({@code OFF}
     * delivers nothing). A null {@code logger} removes it for later clients. Records of the HTTP stack
     * are not per client: they only go to the process-wide forwarding.
     */
    public IdaasConfig setLogger(IdaasLogger logger, Level maxLevel) {
        Objects.requireNonNull(maxLevel, "maxLevel");
        lock.writeLock().lock();
        try {
            long p = handle.acquire();
            try {
                Native.configSetLogger(p, logger, Callbacks.abiLevel(maxLevel));
            } finally {
                handle.release();
            }
        } finally {
            lock.writeLock().unlock();
        }
        return this;
    }

    /** Creates a native client from this configuration (see {@link IdaasClient.Builder#build()}). */
    long newClient(String optionsJson) {
        lock.readLock().lock();
        try {
            long p = handle.acquire();
            try {
                return Native.clientNew(p, optionsJson);
            } finally {
                handle.release();
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Whether {@link #close()} was called (or the cleaner ran). */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the configuration; clients made from it are not affected. Idempotent. */
    @Override
    public void close() {
        cleanable.clean();
    }
}
